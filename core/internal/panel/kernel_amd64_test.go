//go:build amd64 && !purego

package panel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
)

// TestKernelSets checks that the isa path chooses the kernels: pure Go for
// generic, the AVX2 ones for avx2, and for avx512 the AVX-512 ones (the
// int8 products only with AVX512-VNNI, else the AVX2 ones).
func TestKernelSets(t *testing.T) {
	for _, c := range []struct {
		p         isa.Path
		set, ints kernelSet
		needsVNNI bool
		orWithout kernelSet
	}{
		{p: isa.Generic, set: goKernels, ints: goKernels},
		{p: isa.AVX2, set: avx2Kernels, ints: avx2Kernels},
		{p: isa.AVX512, set: avx512Kernels, ints: avx512Kernels, needsVNNI: true, orWithout: avx2Kernels},
	} {
		t.Run(string(c.p), func(t *testing.T) {
			usePath(t, c.p)
			ints := c.ints
			if c.needsVNNI && !isa.HasVNNI() {
				ints = c.orWithout
			}
			if kernels != c.set || intKernels != ints {
				t.Errorf("kernels %d, int8 kernels %d; want %d, %d", kernels, intKernels, c.set, ints)
			}
		})
	}
}

// TestInt8Block checks the fused int8 products of the avx2 path
// (mulInt8Block: 4×4 blocks scaled and stored by the kernel) against the
// pure-Go kernels and Matrix.store, bit for bit: for beta 0, ±0, 1, 0.5
// and NaN, columns of zeros, NaNs and extreme codes, and numbers of rows
// and columns that leave a partial group and single columns to the
// unfused code.
func TestInt8Block(t *testing.T) {
	usePath(t, isa.AVX2)
	if mulInt8Block == nil {
		t.Fatal("the avx2 path has no fused int8 kernel")
	}
	rng := rand.New(rand.NewPCG(4, 4))
	nan := float32(math.NaN())
	for _, s := range []struct{ m, n, k int }{{4, 4, 16}, {8, 64, 384}, {7, 13, 100}, {12, 9, 1040}, {16, 128, 48}, {5, 8, 8256}} {
		a := make([]float32, s.m*s.k)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		a[0] = 40 // one large weight: row 0's other codes are small
		h := NewMatrix(a, s.m, s.k, s.k, Int8)
		bt := make([]float32, s.n*h.Stride)
		for j := range s.n {
			for q := range s.k {
				switch {
				case j == 1: // zeros
				case j == 2 && q == s.k/2:
					bt[j*h.Stride+q] = nan
				case j == 3:
					bt[j*h.Stride+q] = float32(1 - 2*(q%2)) // ±levels: the extreme sums
				default:
					bt[j*h.Stride+q] = float32(rng.NormFloat64())
				}
			}
		}
		c0 := make([]float32, s.m*s.n)
		for i := range c0 {
			c0[i] = float32(rng.NormFloat64())
		}
		for _, beta := range []float32{0, float32(math.Copysign(0, -1)), 1, 0.5, nan} {
			got := slices.Clone(c0)
			h.MulT(s.n, bt, beta, got, s.n)
			want := withPath(t, isa.Generic, func() []float32 {
				c := slices.Clone(c0)
				h.MulT(s.n, bt, beta, c, s.n)
				return c
			})
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("%+v beta %g: C[%d][%d] = %g (avx2), %g (Go)", s, beta, i/s.n, i%s.n, got[i], want[i])
				}
			}
		}
	}
}

// TestTranspose checks Transpose on every path against the definition,
// for shapes with and without whole 8 × 8 blocks, leaving the rest of dst
// alone.
func TestTranspose(t *testing.T) {
	eachPath(t, func(t *testing.T, _ isa.Path) {
		for _, s := range []struct{ rows, cols, lds, ldd int }{
			{1, 1, 1, 1}, {8, 8, 8, 8}, {8, 16, 20, 16}, {16, 64, 70, 16}, {13, 29, 31, 17}, {64, 128, 140, 64}, {7, 100, 100, 9}, {24, 7, 7, 32},
		} {
			src := make([]float32, (s.rows-1)*s.lds+s.cols)
			for i := range src {
				src[i] = float32(i)
			}
			dst := make([]float32, (s.cols-1)*s.ldd+s.rows+5)
			for i := range dst {
				dst[i] = -1
			}
			Transpose(dst, s.ldd, src, s.lds, s.rows, s.cols)
			for i, v := range dst {
				tt, r := i/s.ldd, i%s.ldd
				want := float32(-1)
				if tt < s.cols && r < s.rows {
					want = src[r*s.lds+tt]
				}
				if v != want {
					t.Fatalf("%+v: dst[%d] (t %d, r %d) = %g, want %g", s, i, tt, r, v, want)
				}
			}
		}
	})
}

// TestMulTPartColumns checks, on every path, that a product split by columns
// (each part preparing its own with PrepareT, then MulTPart) and by rows
// gives MulT's result bit for bit, for every precision and beta.
func TestMulTPartColumns(t *testing.T) {
	eachPath(t, func(t *testing.T, _ isa.Path) {
		rng := rand.New(rand.NewPCG(5, 5))
		for _, s := range []struct{ m, n, k int }{{16, 64, 192}, {13, 23, 100}, {64, 12, 48}, {5, 9, 16}} {
			a := make([]float32, s.m*s.k)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for _, p := range []Precision{Float32, Half, Int8} {
				h, bt, c0 := mulTOperands(rng, a, s.m, s.n, s.k, p)
				for _, beta := range []float32{0, 1, 0.5} {
					want := slices.Clone(c0)
					h.MulT(s.n, bt, beta, want, s.n)
					got := slices.Clone(c0)
					for _, cols := range [][2]int{{0, 4}, {4, 12}, {12, s.n}} {
						j0, j1 := min(cols[0], s.n), min(cols[1], s.n)
						h.PrepareT(j0, j1, s.n, bt)
						h.MulTPart(0, s.m&^3, j0, j1, s.n, bt, beta, got, s.n)
						h.MulTPart(s.m&^3, s.m, j0, j1, s.n, bt, beta, got, s.n)
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%+v %v beta %g: C[%d][%d] = %g by parts, %g by MulT", s, p, beta, i/s.n, i%s.n, got[i], want[i])
						}
					}
				}
			}
		}
	})
}

// TestPrepareRuns checks, on every path, that PrepareRuns gives PrepareT's
// codes and scales for the rows it describes (a dilated convolution's
// columns read from a time-major input, with a column of zeros and one
// with a NaN), and the same products.
func TestPrepareRuns(t *testing.T) {
	eachPath(t, func(t *testing.T, _ isa.Path) {
		rng := rand.New(rand.NewPCG(6, 6))
		const cin, taps, dil, n, m = 32, 3, 2, 10, 12
		k := cin * taps
		src := make([]float32, (n+(taps-1)*dil)*cin)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		clear(src[4*cin : 5*cin])
		clear(src[(4+dil)*cin : (5+dil)*cin])
		clear(src[(4+2*dil)*cin : (5+2*dil)*cin]) // column 4: zeros
		src[7*cin+3] = float32(math.NaN())        // columns 7, 7−dil, 7−2·dil: NaN
		offs := []int{0, dil * cin, 2 * dil * cin}
		a := make([]float32, m*k)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		h := NewMatrix(a, m, k, k, Int8)
		h.Reserve(n)
		bt := make([]float32, n*h.Stride)
		for j := range n {
			for r, o := range offs {
				copy(bt[j*h.Stride+r*cin:], src[j*cin+o:j*cin+o+cin])
			}
		}
		want := make([]float32, m*n)
		h.MulT(n, bt, 0, want, n)
		wantQ, wantS := slices.Clone(h.qb[:2*n*h.Stride]), slices.Clone(h.qs[:n])
		clear(h.qb)
		got := make([]float32, m*n)
		h.PrepareRuns(0, 6, n, src, cin, offs, cin)
		h.PrepareRuns(6, n, n, src, cin, offs, cin)
		h.MulTRows(0, m, n, bt, 0, got, n)
		if !slices.Equal(h.qb[:2*n*h.Stride], wantQ) {
			t.Fatal("PrepareRuns's codes differ from PrepareT's")
		}
		for j := range n {
			if math.Float32bits(h.qs[j]) != math.Float32bits(wantS[j]) && !(h.qs[j] != h.qs[j] && wantS[j] != wantS[j]) {
				t.Fatalf("column %d: scale %g, PrepareT's %g", j, h.qs[j], wantS[j])
			}
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
				t.Fatalf("C[%d][%d] = %g, MulT's %g", i/n, i%n, got[i], want[i])
			}
		}
	})
}
