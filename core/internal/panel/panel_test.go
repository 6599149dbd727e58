package panel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
	"github.com/ravestation/rave/core/internal/isatest"
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

// mulTOperands packs a (m × k) in precision p with room for n columns
// and draws from rng a right-hand side bt (n rows of Stride, k values
// each) and then an output c0 (m × n) for MulT.
func mulTOperands(rng *rand.Rand, a []float32, m, n, k int, p Precision) (h *Matrix, bt, c0 []float32) {
	h = NewMatrix(a, m, k, k, p)
	h.Reserve(n)
	bt = make([]float32, n*h.Stride)
	for j := range n {
		for q := range k {
			bt[j*h.Stride+q] = float32(rng.NormFloat64())
		}
	}
	c0 = make([]float32, m*n)
	for i := range c0 {
		c0[i] = float32(rng.NormFloat64())
	}
	return h, bt, c0
}

// eachPath runs f as a subtest named after each instruction-set path
// (isa.Known), with that path in use; a path this CPU or build does not
// support (not in isa.Supported) shows as a skipped subtest.
func eachPath(t *testing.T, f func(t *testing.T, p isa.Path)) {
	t.Helper()
	for _, p := range isa.Known {
		t.Run(string(p), func(t *testing.T) {
			usePath(t, p)
			f(t, p)
		})
	}
}

// eachPathInt8 is eachPath for the tests of the int8 products. On a CPU
// whose avx512 path lacks AVX512-VNNI that path runs the avx2 int8
// kernels, so the VNNI kernels are reported as a skipped subtest,
// avx512_vnni, rather than passing untested under avx512.
func eachPathInt8(t *testing.T, f func(t *testing.T, p isa.Path)) {
	t.Helper()
	eachPath(t, f)
	isatest.SkipUntested(t, "avx512_vnni", isatest.Untested(isa.Supported(), isa.HasVNNI(), "the AVX512-VNNI int8 kernels", "the avx2 int8 kernels"))
}

// usePath switches the kernels to path p until tb and its subtests end,
// or skips tb, naming p, when this CPU or build cannot run it.
func usePath(tb testing.TB, p isa.Path) {
	tb.Helper()
	if !slices.Contains(isa.Supported(), p) {
		tb.Skipf("path %s: not supported by this CPU or build (%s; supported: %v)", p, isa.CPU(), isa.Supported())
	}
	restore, err := isa.Use(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(restore)
}

// withPath returns f's result computed with path p in use (p supported),
// then switches back.
func withPath[T any](t *testing.T, p isa.Path, f func() T) T {
	t.Helper()
	restore, err := isa.Use(p)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	return f()
}

// TestMulT checks the kernels of every path (float32, half and int8;
// serial and split over goroutines) against a float64 product of the
// stored matrix (At), for awkward shapes (M not a multiple of 4, K not
// one of 16 or 64, 1 to 16 columns) and beta, and against the pure-Go
// kernels: the same up to the order of the float32 sums, and for Int8 the
// same bits.
func TestMulT(t *testing.T) {
	eachPathInt8(t, func(t *testing.T, path isa.Path) {
		rng := rand.New(rand.NewPCG(2, 2)) // the same data on every path
		for _, s := range []struct{ m, n, k int }{
			{1, 1, 1}, {3, 5, 17}, {4, 4, 16}, {13, 7, 100}, {64, 3, 1536}, {9, 16, 33}, {130, 9, 1030}, {7, 6, 47},
			{5, 1, 80}, {6, 2, 208}, {11, 3, 720}, {2, 4, 1040}, {10, 5, 3088}, {15, 6, 144},
		} {
			a := make([]float32, s.m*s.k)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for _, p := range []Precision{Float32, Half, Int8} {
				h := NewMatrix(a, s.m, s.k, s.k, p)
				if h.Precision() != p {
					t.Fatalf("Precision() = %v, want %v", h.Precision(), p)
				}
				bt := make([]float32, s.n*h.Stride)
				for j := range s.n {
					for q := range s.k {
						bt[j*h.Stride+q] = float32(rng.NormFloat64())
					}
				}
				var got []float32 // the beta = 0 result
				savedPar := MinParallel
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
							if got == nil {
								got = c
							} else if !slices.Equal(c, got) {
								t.Fatalf("%+v %v: splitting over goroutines changes the result", s, p)
							}
						}
						for i := range s.m {
							for j := range s.n {
								var want, mag float64
								for q := range s.k {
									p := float64(h.At(i, q)) * float64(colValue(h, bt, j, q))
									want += p
									mag += math.Abs(p)
								}
								want += float64(beta) * float64(c0[i*s.n+j])
								if d := math.Abs(float64(c[i*s.n+j]) - want); d > 1e-6*mag+1e-6 {
									t.Fatalf("%+v %v beta %g: C[%d][%d] = %g, want %g", s, p, beta, i, j, c[i*s.n+j], want)
								}
							}
						}
					}
				}
				MinParallel = savedPar
				// This path and the Go kernels differ only in the order of
				// the float32 sums (by a few units of rounding of
				// Σ|products|); the Int8 sums are exact integers in both.
				ref := withPath(t, isa.Generic, func() []float32 {
					c := make([]float32, s.m*s.n)
					h.MulT(s.n, bt, 0, c, s.n)
					return c
				})
				for i := range s.m {
					for j := range s.n {
						var mag float64
						for q := range s.k {
							mag += math.Abs(float64(h.At(i, q)) * float64(colValue(h, bt, j, q)))
						}
						v, w := got[i*s.n+j], ref[i*s.n+j]
						if d := math.Abs(float64(v - w)); d > 1e-6*mag || (p == Int8 && math.Float32bits(v) != math.Float32bits(w)) {
							t.Fatalf("%+v %v: C[%d][%d] = %g (%s), %g (Go)", s, p, i, j, v, path, w)
						}
					}
				}
				checkStored(t, fmt.Sprintf("%+v %v", s, p), h, a)
			}
		}
	})
}

// TestKernels compares each path's dot-product kernels with the pure-Go
// ones directly, for k a multiple of 16 but not always of 64, random
// operands and, for int8, the extreme codes (the largest sums the
// levels allow): float32 and half within the rounding of the sums,
// int8 bit for bit.
func TestKernels(t *testing.T) {
	eachPathInt8(t, func(t *testing.T, path isa.Path) {
		rng := rand.New(rand.NewPCG(4, 4))
		for _, k := range []int{16, 32, 48, 80, 208, 1040, 3088} {
			g32 := make([]float32, 4*k)
			g16 := make([]uint16, 4*k)
			g8 := make([]int8, 4*k)
			for i := range g32 {
				g32[i] = float32(rng.NormFloat64())
				g16[i] = FromFloat32(g32[i])
				g8[i] = int8(rng.IntN(255) - 127)
			}
			var bf [4][]float32
			var bi [4][]int16
			levels := min(32767, math.MaxInt32/(127*k))
			for c := range bf {
				bf[c] = make([]float32, k)
				bi[c] = make([]int16, 2*k)
				for q := range k {
					bf[c][q] = float32(rng.NormFloat64())
					v := int16(rng.IntN(2*levels+1) - levels)
					bi[c][2*q-q%16], bi[c][2*q-q%16+16] = v, v
				}
			}
			// mag[4r+c] bounds the rounding of the float32 sums.
			var mag [16]float64
			for r := range 4 {
				for c := range 4 {
					for q := range k {
						mag[4*r+c] += math.Abs(float64(g32[(q/16)*64+r*16+q%16]) * float64(bf[c][q]))
					}
				}
			}
			what := fmt.Sprintf("%s k=%d", path, k)
			var got, want [16]float32
			dot4x4s(k, g32, bf[0], bf[1], bf[2], bf[3], &got)
			dot4x4sGo(k, g32, bf[0], bf[1], bf[2], bf[3], &want)
			closeSums(t, what+" dot4x4s", got[:], want[:], mag[:])
			dot4x4h(k, g16, bf[0], bf[1], bf[2], bf[3], &got)
			dot4x4hGo(k, g16, bf[0], bf[1], bf[2], bf[3], &want)
			closeSums(t, what+" dot4x4h", got[:], want[:], mag[:])
			dot4x1s(k, g32, bf[2], &got)
			dot4x1sGo(k, g32, bf[2], &want)
			closeSums(t, what+" dot4x1s", got[:4], want[:4], []float64{mag[2], mag[6], mag[10], mag[14]})
			dot4x1h(k, g16, bf[2], &got)
			dot4x1hGo(k, g16, bf[2], &want)
			closeSums(t, what+" dot4x1h", got[:4], want[:4], []float64{mag[2], mag[6], mag[10], mag[14]})

			for _, extreme := range []bool{false, true} {
				if extreme { // every product ±127·levels, all of one sign per sum but column 3's
					for i := range g8 {
						g8[i] = int8(127 - 254*(i/16%4%2))
					}
					for c := range bi {
						for i := range bi[c] {
							bi[c][i] = int16(levels - 2*levels*(c/3))
						}
					}
				}
				dot4x4i(k, g8, bi[0], bi[1], bi[2], bi[3], &got)
				dot4x4iGo(k, g8, bi[0], bi[1], bi[2], bi[3], &want)
				sameBits(t, fmt.Sprintf("%s dot4x4i (extreme %v)", what, extreme), got[:], want[:])
				for c := range 4 {
					dot4x1i(k, g8, bi[c], &got)
					dot4x1iGo(k, g8, bi[c], &want)
					sameBits(t, fmt.Sprintf("%s dot4x1i column %d (extreme %v)", what, c, extreme), got[:4], want[:4])
				}
			}
		}
	})
}

// closeSums fails t unless got and want differ by at most 1e-6·mag
// (a few roundings of Σ|products|, the effect of another order of the
// float32 additions).
func closeSums(t *testing.T, what string, got, want []float32, mag []float64) {
	t.Helper()
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-6*mag[i]) {
			t.Fatalf("%s: out[%d] = %g, Go %g (Σ|products| %g)", what, i, got[i], want[i], mag[i])
		}
	}
}

// sameBits fails t unless got and want are the same float32s, bit for bit.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: out[%d] = %g, Go %g", what, i, got[i], want[i])
		}
	}
}

// TestPeakQuantize compares each path's column rounding (peakBits,
// quantize) with the pure-Go one: the same peak bits, also with a NaN or
// ±Inf among the values, and the same codes, ties included, each 16
// stored twice. A non-finite product has no code by the contract; the
// x86 assembly kernels give it −32768 and leave the others unchanged.
func TestPeakQuantize(t *testing.T) {
	eachPath(t, func(t *testing.T, path isa.Path) {
		rng := rand.New(rand.NewPCG(5, 5))
		for _, n := range []int{16, 32, 48, 80, 1040} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * math.Exp(4*rng.NormFloat64()))
			}
			for _, bad := range []float32{0, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				at := -1
				if bad != 0 {
					at = rng.IntN(n)
				}
				y := slices.Clone(x)
				if at >= 0 {
					y[at] = bad
				}
				what := fmt.Sprintf("%s n=%d non-finite %g at %d", path, n, bad, at)
				pb, want := peakBits(y), peakBitsGo(y)
				if pb != want {
					t.Fatalf("%s: peakBits = %#x, Go %#x", what, pb, want)
				}
				if at >= 0 && pb < 0x7f800000 {
					t.Fatalf("%s: peakBits = %#x, want ≥ 0x7f800000", what, pb)
				}
				peak := peakBitsGo(x)
				for _, inv := range []float32{32767 / math.Float32frombits(peak), 1} {
					z := y
					if inv == 1 { // ties: halves of integers round to even
						z = make([]float32, n)
						for i := range z {
							z[i] = float32(rng.IntN(2001)-1000) / 2
						}
						if at >= 0 {
							z[at] = bad
						}
					}
					q := make([]int16, 2*n)
					qGo := make([]int16, 2*n)
					quantize(q, z, inv)
					quantizeGo(qGo, z, inv)
					for i := range n {
						at2 := 2*i - i%16
						if q[at2] != q[at2+16] {
							t.Fatalf("%s inv %g: the copies of code %d are %d and %d", what, inv, i, q[at2], q[at2+16])
						}
						switch {
						case i != at:
							if q[at2] != qGo[at2] {
								t.Fatalf("%s inv %g: code %d of %g is %d, Go %d", what, inv, i, z[i], q[at2], qGo[at2])
							}
						case path == isa.AVX2 || path == isa.AVX512:
							if q[at2] != -32768 {
								t.Fatalf("%s inv %g: code %d of %g is %d, want -32768", what, inv, i, z[i], q[at2])
							}
						}
					}
				}
			}
		}
	})
}

// colValue returns B[j][q] as the product uses it: bt's for float32 and
// half, its code times the column's scale for Int8 (checked to be within
// half a step of bt's).
func colValue(h *Matrix, bt []float32, j, q int) float32 {
	v := bt[j*h.Stride+q]
	if h.Precision() != Int8 {
		return v
	}
	i := 2*j*h.Stride + q + q&^15 // each 16 codes are stored twice
	if h.qb[i] != h.qb[i+16] {
		panic(fmt.Sprintf("B[%d][%d]: codes %d and %d", j, q, h.qb[i], h.qb[i+16]))
	}
	c := float32(h.qb[i]) * h.qs[j]
	if d := math.Abs(float64(c - v)); d > float64(h.qs[j])*0.51 { // half a step, and v/scale's rounding
		panic(fmt.Sprintf("B[%d][%d] = %g quantised to %g (scale %g)", j, q, v, c, h.qs[j]))
	}
	return c
}

// checkStored checks that every stored element of h is a's rounded to the
// precision: exact (float32), within 2⁻¹¹ relative or 2⁻²⁵ absolute
// (half), within half a step of max|row|/127 (int8).
func checkStored(t *testing.T, what string, h *Matrix, a []float32) {
	t.Helper()
	for i := range h.M {
		row := a[i*h.K : (i+1)*h.K]
		var peak float64
		for _, v := range row {
			peak = max(peak, math.Abs(float64(v)))
		}
		for q, v := range row {
			e := math.Abs(float64(h.At(i, q)) - float64(v))
			var bound float64
			switch h.Precision() {
			case Half:
				bound = max(math.Abs(float64(v))/2048, 0x1p-25) // 2⁻²⁵: half a subnormal step
			case Int8:
				bound = peak/127/2*(1+1e-6) + 1e-12
			}
			if e > bound {
				t.Fatalf("%s: A[%d][%d] = %g stored as %g (error %g > %g)", what, i, q, v, h.At(i, q), e, bound)
			}
		}
	}
}

// TestInt8Quantize checks the int8 codes and scales on rows with known
// answers: a zero row, ties, the extremes and a negative peak.
func TestInt8Quantize(t *testing.T) {
	for _, c := range []struct {
		row   []float32
		scale float32
		codes []int8
	}{
		{[]float32{0, 0, 0}, 0, []int8{0, 0, 0}},
		{[]float32{127, -127, 0.5, -0.5, 1.49}, 1, []int8{127, -127, 1, -1, 1}},
		{[]float32{-2.54, 1.27, 0.01, 0.015}, 0.02, []int8{-127, 64, 1, 1}},
		{[]float32{3}, 3.0 / 127, []int8{127}},
	} {
		sc, codes := quantizeRow(c.row)
		if math.Abs(float64(sc-c.scale)) > 1e-7*float64(c.scale) || !slices.Equal(codes, c.codes) {
			t.Errorf("quantizeRow(%v) = %g, %v; want %g, %v", c.row, sc, codes, c.scale, c.codes)
		}
	}
}

// TestInt8Columns checks the rounding of B for Int8 on every path: the
// levels bound, zero (and vanishingly small) columns, and NaN for
// non-finite ones.
func TestInt8Columns(t *testing.T) {
	eachPath(t, func(t *testing.T, _ isa.Path) { int8Columns(t) })
}

func int8Columns(t *testing.T) {
	for _, c := range []struct{ k, levels int }{{16, 32767}, {512, 32767}, {528, 32025}, {5120, 3302}, {8256, 2048}} {
		if got := NewMatrix(make([]float32, c.k), 1, c.k, c.k, Int8).Levels(); got != c.levels {
			t.Errorf("K = %d: Levels() = %d, want %d", c.k, got, c.levels)
		}
	}
	a := []float32{1, -2, 3, 0.5, 0, 0, 0, 1}
	h := NewMatrix(a, 2, 4, 4, Int8)
	bt := make([]float32, 4*h.Stride)
	copy(bt[0:], []float32{1, 2, 3, 4})
	copy(bt[2*h.Stride:], []float32{1, float32(math.Inf(1)), 0, 0})
	copy(bt[3*h.Stride:], []float32{float32(math.NaN()), 1, 0, 0})
	copy(bt[1*h.Stride:], []float32{1e-38, -1e-35, 0, 0}) // counts as zeros
	c := make([]float32, 2*4)
	h.MulT(4, bt, 0, c, 4)
	for i, want := range []float64{8, 0, math.NaN(), math.NaN(), 4, 0, math.NaN(), math.NaN()} {
		if got := float64(c[i]); !(math.Abs(got-want) <= 1e-2*math.Abs(want)) && !(math.IsNaN(want) && math.IsNaN(got)) {
			t.Errorf("C[%d][%d] = %g, want %g", i/4, i%4, got, want)
		}
	}
}

// TestMulTNoAllocs checks that a product, once the workers run and the
// room for the Int8 column codes is there, allocates nothing, on every
// path.
func TestMulTNoAllocs(t *testing.T) {
	eachPath(t, func(t *testing.T, _ isa.Path) {
		a := make([]float32, 256*960)
		for _, p := range []Precision{Float32, Half, Int8} {
			h := NewMatrix(a, 256, 960, 960, p)
			bt := make([]float32, 3*h.Stride)
			c := make([]float32, 256*3)
			h.MulT(3, bt, 0, c, 3)
			if n := testing.AllocsPerRun(10, func() { h.MulT(3, bt, 0, c, 3) }); n != 0 {
				t.Errorf("MulT (%v) allocates %v times", p, n)
			}
		}
	})
}

// BenchmarkMulT runs products of the shapes of the v1 model's streaming
// layers — the decoder's first up-sampler (4096×1024) and 1024×1536,
// 512×3072 convolutions — with one column (2048-sample buffers) and four
// (8192), weights in float32, half precision and int8, on each path this
// CPU supports (…/path/…: an unsupported one is skipped). GB/s is of
// weight bytes read.
func BenchmarkMulT(b *testing.B) {
	for _, path := range isa.Known {
		b.Run(string(path), func(b *testing.B) {
			if !slices.Contains(isa.Supported(), path) {
				b.Skipf("path %s: not supported by this CPU or build (%s; supported: %v)", path, isa.CPU(), isa.Supported())
			}
			for _, sh := range []struct{ m, k int }{{4096, 1024}, {1024, 1536}, {512, 3072}} {
				rng := rand.New(rand.NewPCG(3, 3))
				a := make([]float32, sh.m*sh.k)
				for i := range a {
					a[i] = float32(rng.NormFloat64())
				}
				for _, p := range []Precision{Float32, Half, Int8} {
					h := NewMatrix(a, sh.m, sh.k, sh.k, p)
					for _, n := range []int{1, 4} {
						bt := make([]float32, n*h.Stride)
						for i := range bt {
							bt[i] = float32(rng.NormFloat64())
						}
						c := make([]float32, sh.m*n)
						b.Run(fmt.Sprintf("%v/%dx%d/n=%d", p, sh.m, sh.k, n), func(b *testing.B) {
							restore, err := isa.Use(path)
							if err != nil {
								b.Fatal(err)
							}
							defer restore()
							h.MulT(n, bt, 0, c, n) // start the workers, make room
							b.ResetTimer()
							for range b.N {
								h.MulT(n, bt, 0, c, n)
							}
							b.ReportMetric(float64(h.Bytes())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
						})
					}
				}
			}
		})
	}
}

// TestMulTParts checks that PrepareT on row ranges of Bᵀ and MulTRows on
// row ranges of A give exactly MulT's result, for each precision, and
// allocate nothing, on every path.
func TestMulTParts(t *testing.T) {
	eachPath(t, func(t *testing.T, _ isa.Path) { mulTParts(t) })
}

func mulTParts(t *testing.T) {
	for _, s := range []struct {
		m, n, k int
		rowCuts []int // ends of MulTRows's ranges (multiples of 4, last M)
		colCuts []int // ends of PrepareT's ranges (last n)
		beta    float32
	}{
		{m: 13, n: 7, k: 100, rowCuts: []int{4, 12, 13}, colCuts: []int{3, 7}},
		{m: 512, n: 16, k: 768, rowCuts: []int{128, 256, 384, 512}, colCuts: []int{2, 4, 8, 16}, beta: 1},
		{m: 64, n: 1, k: 1030, rowCuts: []int{64}, colCuts: []int{1}, beta: 0.5},
	} {
		rng := rand.New(rand.NewPCG(uint64(s.m), uint64(s.k)))
		a := make([]float32, s.m*s.k)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for _, p := range []Precision{Float32, Half, Int8} {
			t.Run(fmt.Sprintf("%dx%dx%d/%v", s.m, s.n, s.k, p), func(t *testing.T) {
				h, bt, c0 := mulTOperands(rng, a, s.m, s.n, s.k, p)
				want := slices.Clone(c0)
				h.MulT(s.n, bt, s.beta, want, s.n)
				got := slices.Clone(c0)
				run := func() {
					copy(got, c0)
					j0 := 0
					for _, j1 := range s.colCuts {
						h.PrepareT(j0, j1, s.n, bt)
						j0 = j1
					}
					i0 := 0
					for _, i1 := range s.rowCuts {
						h.MulTRows(i0, i1, s.n, bt, s.beta, got, s.n)
						i0 = i1
					}
				}
				run()
				if !slices.Equal(got, want) {
					t.Fatalf("PrepareT and MulTRows differ from MulT")
				}
				if a := testing.AllocsPerRun(3, run); a != 0 {
					t.Errorf("PrepareT and MulTRows allocate %v times", a)
				}
			})
		}
	}
}
