package convinfer

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMulPhasedBlocking checks that MulPhased gives the same bits with and
// without column blocks, and the direct convolution sum within float32
// rounding, for a strided, dilated, padded layer with bias and a post
// step.
func TestMulPhasedBlocking(t *testing.T) {
	const cin, cout, k, s, dil, padL, padR, T = 5, 7, 3, 2, 2, 2, 2, 1100
	rng := rand.New(rand.NewPCG(1, 2))
	randn := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x, w, bias := randn(cin*T), randn(cout*cin*k), randn(cout)
	tout := (padL+T+padR-dil*(k-1)-1)/s + 1
	lph := (padL + T + padR + s - 1) / s
	xp := make([]float32, cin*s*lph)
	SplitPhases(xp, x, cin, T, s, lph, padL, func(dst, src []float32, _ int) { copy(dst, src) })
	offs := PhaseOffsets(cin, k, s, dil, lph)
	half := func(row []float32) {
		for i := range row {
			row[i] *= 0.5
		}
	}
	y0 := make([]float32, cout*tout)
	MulPhased(y0, xp, offs, w, bias, cout, tout, 0, Beta(false), half)
	y1 := make([]float32, cout*tout)
	MulPhased(y1, xp, offs, w, bias, cout, tout, 128, Beta(false), half)
	if !slices.Equal(y0, y1) {
		t.Fatal("blocked and unblocked products differ")
	}
	for o := range cout {
		for q := range tout {
			sum := float64(BiasAt(bias, o))
			for c := range cin {
				for j := range k {
					if i := q*s + j*dil - padL; i >= 0 && i < T {
						sum += float64(w[(o*cin+c)*k+j]) * float64(x[c*T+i])
					}
				}
			}
			if got := float64(y0[o*tout+q]); math.Abs(got-sum/2) > 1e-4 {
				t.Fatalf("y[%d][%d] = %g, want %g", o, q, got, sum/2)
			}
		}
	}
}

// TestWinograd checks that WinoIn followed by WinoOut, with the products
// of one filter's transform in between, is the 3-tap correlation of a
// tile of 6 inputs.
func TestWinograd(t *testing.T) {
	d := []float32{0.5, -1, 2, 0.25, -0.75, 1.5}
	g := [3]float32{0.3, -0.2, 0.9}
	// G·g for the interpolation points 0, ±1, ±2, ∞.
	u := [6]float32{
		g[0] / 4,
		-(g[0] + g[1] + g[2]) / 6,
		-(g[0] - g[1] + g[2]) / 6,
		g[0]/24 + g[1]/12 + g[2]/6,
		g[0]/24 - g[1]/12 + g[2]/6,
		g[2],
	}
	var v [6][1]float32
	WinoIn(d, v[0][:], v[1][:], v[2][:], v[3][:], v[4][:], v[5][:])
	var m [6]float32
	for i := range m {
		m[i] = u[i] * v[i][0]
	}
	got := WinoOut(m[0], m[1], m[2], m[3], m[4], m[5], 0.125)
	for i := range got {
		want := 0.125 + g[0]*d[i] + g[1]*d[i+1] + g[2]*d[i+2]
		if math.Abs(float64(got[i]-want)) > 1e-5 {
			t.Errorf("output %d = %g, want %g", i, got[i], want)
		}
	}
}
