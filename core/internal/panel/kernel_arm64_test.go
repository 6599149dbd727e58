//go:build arm64 && !purego

package panel

import (
	"math"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
)

// TestNEONHalfWidening checks that hdot4x4 and hdot4x1 widen every half
// (subnormals, ±0, ±Inf and NaNs included) as ToFloat32 does: each half
// in turn is the only nonzero weight of a group, at every row and column
// position, multiplied by columns of 1, 2, 3 and 4.
func TestNEONHalfWidening(t *testing.T) {
	const k = 32
	g := make([]uint16, 4*k)
	var bs [4][]float32
	for c := range bs {
		bs[c] = make([]float32, k)
		for q := range bs[c] {
			bs[c][q] = float32(c + 1)
		}
	}
	same := func(got, want float32) bool {
		return got == want || (math.IsNaN(float64(got)) && math.IsNaN(float64(want)))
	}
	var out, one [16]float32
	for h := range 1 << 16 {
		r, q := h%4, (h/4)%k
		at := (q/16)*64 + r*16 + q%16
		g[at] = uint16(h)
		hdot4x4(k, &g[0], &bs[0][0], &bs[1][0], &bs[2][0], &bs[3][0], &out[0])
		hdot4x1(k, &g[0], &bs[2][0], &one[0])
		g[at] = 0
		v := ToFloat32(uint16(h))
		for i := range 4 {
			for c := range 4 {
				want := float32(0)
				if i == r {
					want = v * float32(c+1)
				}
				if !same(out[4*i+c], want) {
					t.Fatalf("half %#04x at row %d, column %d: hdot4x4 out[%d][%d] = %g, want %g", h, r, q, i, c, out[4*i+c], want)
				}
				if c == 2 && !same(one[i], want) {
					t.Fatalf("half %#04x at row %d, column %d: hdot4x1 out[%d] = %g, want %g", h, r, q, i, one[i], want)
				}
			}
		}
	}
}

// TestNEONQuantSaturation checks quant16 on the values outside its
// contract: ±Inf products saturate to ±32767 and NaN gives 0, and the
// largest codes (±32767) and ties at the top of the range are exact.
func TestNEONQuantSaturation(t *testing.T) {
	x := make([]float32, 16)
	want := make([]int16, 16)
	for i, c := range []struct {
		v    float32
		code int16
	}{
		{float32(math.Inf(1)), 32767}, {float32(math.Inf(-1)), -32767 - 1}, {float32(math.NaN()), 0},
		{32767, 32767}, {-32767, -32767}, {32766.5, 32766}, {-32765.5, -32766}, {0.5, 0}, {-0.5, 0},
		{1.5, 2}, {-2.5, -2}, {float32(math.Copysign(0, -1)), 0}, {1e-30, 0}, {0.49999997, 0}, {16383.75, 16384}, {-7.25, -7},
	} {
		x[i], want[i] = c.v, c.code
	}
	q := make([]int16, 32)
	quant16(16, &x[0], 1, &q[0])
	for i := range 16 {
		at := 2*i - i%16
		if q[at] != want[i] || q[at+16] != want[i] {
			t.Errorf("quant16(%g) = %d and %d, want %d", x[i], q[at], q[at+16], want[i])
		}
	}
}

// TestNEONPath checks that the isa path switches the kernels.
func TestNEONPath(t *testing.T) {
	for _, p := range []isa.Path{isa.Generic, isa.NEON} {
		restore, err := isa.Use(p)
		if err != nil {
			t.Fatal(err)
		}
		if useNEON != (p == isa.NEON) {
			t.Errorf("path %s: useNEON = %v", p, useNEON)
		}
		restore()
	}
}
