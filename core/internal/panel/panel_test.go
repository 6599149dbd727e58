package panel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRoundTrip checks that every half converts to float32 and back to
// itself, and ToFloat32 against the formula (−1)^s·2^(e−15)·(1 + m/1024).
func TestRoundTrip(t *testing.T) {
	for h := range 1 << 16 {
		f := ToFloat32(uint16(h))
		e, m := (h>>10)&0x1f, h&0x3ff
		if e == 0x1f && m != 0 {
			if !math.IsNaN(float64(f)) {
				t.Fatalf("ToFloat32(%#04x) = %g, want NaN", h, f)
			}
			continue
		}
		var want float64
		switch {
		case e == 0x1f:
			want = math.Inf(1)
		case e == 0:
			want = float64(m) * math.Pow(2, -24)
		default:
			want = math.Pow(2, float64(e-15)) * (1 + float64(m)/1024)
		}
		if h&0x8000 != 0 {
			want = -want
		}
		if float64(f) != want {
			t.Fatalf("ToFloat32(%#04x) = %g, want %g", h, f, want)
		}
		if g := FromFloat32(f); g != uint16(h) {
			t.Fatalf("FromFloat32(ToFloat32(%#04x)) = %#04x", h, g)
		}
	}
}

// TestRounding checks FromFloat32 on random floats against the nearest
// half found by bisection over the ordered positive halves (ties to the
// even mantissa), over the normal, subnormal and overflow ranges.
func TestRounding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	// value of positive half h; 0x7c00 (Inf) stands for 65520, from where
	// values round to Inf.
	val := func(h int) float64 {
		if h == 0x7c00 {
			return 65520
		}
		return float64(ToFloat32(uint16(h)))
	}
	for i := range 100000 {
		e := rng.Float64()*44 - 28 // 2^-28 … 2^16
		f := float32(math.Pow(2, e) * (1 + rng.Float64()))
		if i%7 == 0 { // exact ties: halfway between two halves
			h := rng.IntN(0x7bff)
			f = float32((val(h) + val(h+1)) / 2)
		}
		if i%2 == 1 {
			f = -f
		}
		x := math.Abs(float64(f))
		lo, hi := 0, 0x7c00 // val(lo) ≤ x < val(hi) unless x ≥ 65520
		if x >= val(hi) {
			lo = hi
		} else {
			for hi-lo > 1 {
				mid := (lo + hi) / 2
				if val(mid) <= x {
					lo = mid
				} else {
					hi = mid
				}
			}
			if d0, d1 := x-val(lo), val(hi)-x; d1 < d0 || (d1 == d0 && hi%2 == 0) {
				lo = hi
			}
		}
		want := uint16(lo)
		if f < 0 {
			want |= 0x8000
		}
		if got := FromFloat32(f); got != want {
			t.Fatalf("FromFloat32(%g) = %#04x (%g), want %#04x (%g)", f, got, ToFloat32(got), want, ToFloat32(want))
		}
	}
}

// TestMulT checks the kernels (assembly and pure Go, float32 and half,
// serial and split over goroutines) against a float64 product of the
// stored matrix, for awkward shapes and beta.
func TestMulT(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, s := range []struct{ m, n, k int }{{1, 1, 1}, {3, 5, 17}, {4, 4, 16}, {13, 7, 100}, {64, 3, 1536}, {9, 16, 33}, {130, 9, 1030}} {
		a := make([]float32, s.m*s.k)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for _, half := range []bool{false, true} {
			h := NewMatrix(a, s.m, s.k, s.k, half)
			bt := make([]float32, s.n*h.Stride)
			for j := range s.n {
				for q := range s.k {
					bt[j*h.Stride+q] = float32(rng.NormFloat64())
				}
			}
			for _, asm := range []bool{false, true} {
				if asm && !useAsm {
					continue
				}
				var ref []float32
				saved, savedPar := useAsm, MinParallel
				useAsm = asm
				for _, par := range []int{1 << 40, 1} {
					MinParallel = par
					for _, beta := range []float32{0, 1, 0.5} {
						c := make([]float32, s.m*s.n)
						c0 := make([]float32, len(c))
						for i := range c {
							c[i] = float32(rng.NormFloat64())
							c0[i] = c[i]
						}
						h.MulT(s.n, bt, beta, c, s.n)
						if beta == 0 {
							if ref == nil {
								ref = c
							} else if !slices.Equal(c, ref) {
								t.Fatalf("%+v half %v: splitting over goroutines changes the result", s, half)
							}
						}
						for i := range s.m {
							for j := range s.n {
								var want, mag float64
								for q := range s.k {
									p := float64(h.At(i, q)) * float64(bt[j*h.Stride+q])
									want += p
									mag += math.Abs(p)
								}
								want += float64(beta) * float64(c0[i*s.n+j])
								if d := math.Abs(float64(c[i*s.n+j]) - want); d > 1e-6*mag+1e-6 {
									t.Fatalf("%+v half %v asm %v beta %g: C[%d][%d] = %g, want %g", s, half, asm, beta, i, j, c[i*s.n+j], want)
								}
							}
						}
					}
				}
				useAsm, MinParallel = saved, savedPar
			}
			e := math.Abs(float64(h.At(0, 0)-a[0])) / math.Abs(float64(a[0]))
			if (!half && e != 0) || e > 1.0/2048 {
				t.Errorf("%+v half %v: stored A[0][0] off by %g (relative)", s, half, e)
			}
		}
	}
}

func TestMulTNoAllocs(t *testing.T) {
	a := make([]float32, 256*960)
	for _, half := range []bool{false, true} {
		h := NewMatrix(a, 256, 960, 960, half)
		bt := make([]float32, 3*h.Stride)
		c := make([]float32, 256*3)
		h.MulT(3, bt, 0, c, 3)
		if n := testing.AllocsPerRun(10, func() { h.MulT(3, bt, 0, c, 3) }); n != 0 {
			t.Errorf("MulT (half %v) allocates %v times", half, n)
		}
	}
}

// BenchmarkMulT is the v1 decoder's first up-sampler when streaming 2048-
// (one column) and 8192-sample buffers (four), with its weights in float32
// and half precision.
func BenchmarkMulT(b *testing.B) {
	m, k := 4096, 1024
	a := make([]float32, m*k)
	for _, half := range []bool{false, true} {
		h := NewMatrix(a, m, k, k, half)
		for _, n := range []int{1, 4} {
			bt := make([]float32, n*h.Stride)
			c := make([]float32, m*n)
			b.Run(fmt.Sprintf("half=%v/n=%d", half, n), func(b *testing.B) {
				b.SetBytes(int64(h.Bytes()))
				for range b.N {
					h.MulT(n, bt, 0, c, n)
				}
			})
		}
	}
}
