package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/tensor"
)

func TestBLASRegistered(t *testing.T) {
	if _, ok := tensor.WhichBLAS().(BLAS); !ok {
		t.Fatalf("tensor.WhichBLAS() is %T, want core.BLAS", tensor.WhichBLAS())
	}
}

// TestMatMulUsesSgemm checks tensor.MatMul on float32 Dense against a naive
// float64 product, on odd shapes and with transposed operands. Tolerance:
// float32 accumulation of k products of values in [-1, 1) errs by at most
// about k·2⁻²⁴·k; 1e-5·k is far above that and far below an indexing error.
func TestMatMulUsesSgemm(t *testing.T) {
	tests := []struct {
		m, k, n int
		tA, tB  bool // operand stored transposed and viewed with .T()
	}{
		{33, 47, 29, false, false},
		{1, 1, 1, false, false},
		{13, 300, 33, false, false},
		{64, 192, 130, false, false},
		{33, 47, 29, true, false},
		{33, 47, 29, false, true},
		{37, 70, 51, true, true},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		a := randomData(r, tt.m*tt.k)
		b := randomData(r, tt.k*tt.n)
		// want[i][j] = Σ_p A[i][p]·B[p][j] with A m×k, B k×n row-major.
		want := make([]float64, tt.m*tt.n)
		for i := 0; i < tt.m; i++ {
			for j := 0; j < tt.n; j++ {
				var s float64
				for p := 0; p < tt.k; p++ {
					s += float64(a[i*tt.k+p]) * float64(b[p*tt.n+j])
				}
				want[i*tt.n+j] = s
			}
		}
		ta := denseOperand(a, tt.m, tt.k, tt.tA)
		tb := denseOperand(b, tt.k, tt.n, tt.tB)
		got, err := tensor.MatMul(ta, tb)
		if err != nil {
			t.Fatalf("%+v: MatMul: %v", tt, err)
		}
		if s := got.Shape(); len(s) != 2 || s[0] != tt.m || s[1] != tt.n {
			t.Fatalf("%+v: result shape %v", tt, s)
		}
		data := got.Data().([]float32)
		tol := 1e-5 * float64(tt.k)
		for i, w := range want {
			if math.Abs(float64(data[i])-w) > tol {
				t.Fatalf("%+v: C[%d][%d] = %v, want %v", tt, i/tt.n, i%tt.n, data[i], w)
			}
		}
	}
}

// denseOperand returns a rows×cols float32 Dense holding x (row-major). With
// trans it stores xᵀ and returns a transposed view, so MatMul passes
// blas.Trans down to Sgemm.
func denseOperand(x []float32, rows, cols int, trans bool) *tensor.Dense {
	if !trans {
		return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(append([]float32(nil), x...)))
	}
	xt := make([]float32, len(x))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			xt[j*rows+i] = x[i*cols+j]
		}
	}
	d := tensor.New(tensor.WithShape(cols, rows), tensor.WithBacking(xt))
	if err := d.T(); err != nil {
		panic(err)
	}
	return d
}

func randomData(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*r.Float32() - 1
	}
	return s
}

func TestBLASSgemmTranspose(t *testing.T) {
	// C = Aᵀ·B through the BLAS method directly, with ConjTrans (= Trans for
	// real matrices).
	a := []float32{1, 2, 3, 4, 5, 6} // stored 2×3, op(A) = Aᵀ is 3×2
	b := []float32{1, 0, 0, 1}       // 2×2 identity
	c := make([]float32, 6)
	BLAS{}.Sgemm(blas.ConjTrans, blas.NoTrans, 3, 2, 2, 1, a, 3, b, 2, 0, c, 2)
	want := []float32{1, 4, 2, 5, 3, 6}
	if !slices.Equal(c, want) {
		t.Fatalf("c = %v, want %v", c, want)
	}
}
