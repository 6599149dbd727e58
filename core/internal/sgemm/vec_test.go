package sgemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
)

// TestAddTo compares AddTo with the scalar loop bit for bit, for every
// length and alignment of a small range, and checks it writes nothing past
// len(s), on every path.
func TestAddTo(t *testing.T) { forEachPath(t, func(t *testing.T, _ isa.Path) { testAddTo(t) }) }

// testAddTo is TestAddTo on the path in use.
func testAddTo(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 100; n++ {
		for off := 0; off < 3; off++ {
			s := randSlice(r, n+off)[off:]
			d := randSlice(r, n+off+5)[off:]
			want := append([]float32(nil), d...)
			for i, v := range s {
				want[i] += v
			}
			AddTo(d, s)
			for i := range want {
				if math.Float32bits(d[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d off=%d: d[%d] = %v, want %v", n, off, i, d[i], want[i])
				}
			}
		}
	}
}

// TestLeakyReLU compares the vector LeakyReLU and its gradient with the
// scalar definitions bit for bit, zeros of both signs, NaNs and infinities
// included, on every path.
func TestLeakyReLU(t *testing.T) { forEachPath(t, func(t *testing.T, _ isa.Path) { testLeakyReLU(t) }) }

// testLeakyReLU is TestLeakyReLU on the path in use.
func testLeakyReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-40, -1e-40}
	for _, p := range []float32{0.2, 0, -1.5} {
		for n := 0; n < 70; n++ {
			x := randSlice(r, n)
			for i := range x {
				if i%5 == 0 {
					x[i] = special[(i/5)%len(special)]
				}
			}
			gy := randSlice(r, n)
			y := make([]float32, n+3)
			LeakyReLU(y, x, p)
			for acc := range 2 {
				gx := randSlice(r, n+3)
				want := append([]float32(nil), gx...)
				LeakyReLUGrad(gx, gy, x, p, acc == 1)
				for i, v := range x {
					wy := v
					if v < 0 {
						wy = v * p
					}
					if acc == 0 && math.Float32bits(y[i]) != math.Float32bits(wy) {
						t.Fatalf("p=%v n=%d: y[%d] = %v, want %v (x %v)", p, n, i, y[i], wy, v)
					}
					g := gy[i]
					if v < 0 {
						g *= p
					}
					if acc == 1 {
						want[i] += g
					} else {
						want[i] = g
					}
				}
				for i := range want {
					if math.Float32bits(gx[i]) != math.Float32bits(want[i]) {
						t.Fatalf("p=%v n=%d acc=%d: gx[%d] = %v, want %v", p, n, acc, i, gx[i], want[i])
					}
				}
			}
		}
	}
}
