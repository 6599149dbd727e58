package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
	"github.com/ravestation/rave/core/internal/isatest"
)

func TestToBF16(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3F80},
		{-2, 0xC000},
		{math.Float32frombits(0x3F808000), 0x3F80}, // tie, even stays
		{math.Float32frombits(0x3F818000), 0x3F82}, // tie, odd rounds up
		{math.Float32frombits(0x3F808001), 0x3F81}, // above the tie
		{float32(math.Inf(1)), 0x7F80},
		{0, 0},
	}
	for _, c := range cases {
		if got := ToBF16(c.in); got != c.want {
			t.Errorf("ToBF16(%g) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if v := FromBF16(ToBF16(float32(math.NaN()))); v == v {
		t.Errorf("NaN rounds to %g", v)
	}
}

// bf16Reference is op(A)·B (+ C) in float64 from bfloat16-rounded inputs.
func bf16Reference(transA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) []float64 {
	r := func(v float32) float64 { return float64(FromBF16(ToBF16(v))) }
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for q := range k {
				av := a[i*lda+q]
				if transA {
					av = a[q*lda+i]
				}
				s += r(av) * r(b[q*ldb+j])
			}
			if acc {
				s += float64(c[i*ldc+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func TestBF16Mul(t *testing.T) {
	cases := []struct {
		m, n, k int
		transA  bool
		acc     bool
	}{
		{1, 1, 1, false, false},
		{12, 32, 2, false, false},
		{13, 33, 3, false, true},
		{24, 64, 511, false, false},
		{25, 70, 513, true, true},
		{100, 300, 1030, false, true},
		{7, 1000, 64, true, false},
		{512, 40, 96, false, false},
	}
	forEachBF16Path(t, func(t *testing.T, p isa.Path) {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%dx%dx%d/t%v/acc%v", tc.m, tc.n, tc.k, tc.transA, tc.acc), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(tc.m), uint64(tc.k)))
				lda := tc.k + 3
				if tc.transA {
					lda = tc.m + 3
				}
				rowsA := tc.m
				if tc.transA {
					rowsA = tc.k
				}
				a := randSlice(rng, rowsA*lda)
				ldb, ldc := tc.n+5, tc.n+1
				b := randSlice(rng, tc.k*ldb)
				c := randSlice(rng, tc.m*ldc)
				want := bf16Reference(tc.transA, tc.m, tc.n, tc.k, a, lda, b, ldb, tc.acc, c, ldc)
				NewBF16Matrix(tc.transA, tc.m, tc.k, a, lda).Mul(tc.n, b, ldb, tc.acc, c, ldc)
				for i := range tc.m {
					for j := range tc.n {
						got, w := float64(c[i*ldc+j]), want[i*tc.n+j]
						// float32 summation of k exact products.
						if math.Abs(got-w) > 1e-6*float64(tc.k+1)*(1+math.Abs(w)) {
							t.Fatalf("C[%d][%d] = %g, want %g", i, j, got, w)
						}
					}
				}
			})
		}
	})
}

// forEachBF16Path is forEachPath for the bfloat16 products. On a CPU
// whose avx512 path lacks AVX512_BF16 that path runs the avx2 emulation,
// so the VDPBF16PS kernels are reported as a skipped subtest, avx512_bf16,
// rather than passing untested under avx512.
func forEachBF16Path(t *testing.T, f func(t *testing.T, p isa.Path)) {
	t.Helper()
	forEachPath(t, f)
	isatest.SkipUntested(t, "avx512_bf16", isatest.Untested(isa.Supported(), isa.HasBF16(), "the AVX512_BF16 kernels", "the avx2 emulation"))
}

// TestBF16PathsMatch checks that every path gives the generic path's bits
// (the assembly kernels add each pair's odd product, then its even one,
// as bdotGo does; the products of bfloat16 are exact in float32), that
// the thread count does not change them, and that every path packs
// 32-column panels exactly as ToBF16 rounds. Inputs are normal numbers
// whose products and sums stay normal: on denormals the AVX512_BF16 path
// flushes to zero and the others do not (TestBF16Denormals).
func TestBF16PathsMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m, n, k := 61, 517, 777
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	// Values whose rounding to bfloat16 is a tie, NaN and infinities
	// exercise the packing; they stay out of the product.
	special := append(randSlice(rng, 4*32), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.Float32frombits(0x7F800001), math.Float32frombits(0xFFFFFFFF), math.Float32frombits(0x7FBFFFFF),
		math.Float32frombits(0x3F808000), math.Float32frombits(0x3F818000), math.Float32frombits(0x3F80FFFF), math.Float32frombits(0x7F7FFFFF),
		math.Float32frombits(0xFF7F8000), 3e38, -3e38, 1e-30)
	var ref []float32
	var refPack []uint32
	restore, err := isa.Use(isa.Generic)
	if err != nil {
		t.Fatal(err)
	}
	am := NewBF16Matrix(false, m, k, a, k)
	ref = make([]float32, m*n)
	am.Mul(n, b, n, false, ref, n)
	refPack = packSpecial(special)
	restore()
	forEachBF16Path(t, func(t *testing.T, p isa.Path) {
		for _, threads := range []int{1, 2, 3} {
			prev := SetThreads(threads)
			got := make([]float32, m*n)
			am.Mul(n, b, n, false, got, n)
			SetThreads(prev)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%d threads: C[%d] = %g, generic path %g", threads, i, got[i], ref[i])
				}
			}
		}
		got := packSpecial(special)
		for i := range got {
			if got[i] != refPack[i] {
				t.Fatalf("packing %#08x, %#08x: %#08x, ToBF16 gives %#08x",
					math.Float32bits(special[i%32]), math.Float32bits(special[32+i%32]), got[i], refPack[i])
			}
		}
	})
}

// packSpecial packs the 64 values of v (two rows of 32) as one B pair
// plus the first row alone as an odd last pair, through the path's
// 32-column panel packing.
func packSpecial(v []float32) []uint32 {
	v = v[len(v)-64:]
	dst := make([]uint32, 2*bfNR)
	packBF16Panel(dst[:bfNR], v, []int{0, 32}, 0, 1, 0, bfNR)
	packBF16Panel(dst[bfNR:], v, []int{0}, 0, 1, 0, bfNR)
	return dst
}

// TestBF16Denormals pins down how each path treats bfloat16 denormals
// (|x| < 2⁻¹²⁶): the AVX512_BF16 instructions flush them to zero, in the
// packing of B and in the products; the avx2 and generic paths keep them,
// as IEEE arithmetic does. A product with denormal weights and inputs is
// exactly representable here, so the kept result is exact.
func TestBF16Denormals(t *testing.T) {
	const m, n, k = 12, 32, 4
	tiny := math.Float32frombits(0x00010000) // 2⁻¹³³, a bfloat16 denormal
	a := make([]float32, m*k)
	for i := range a {
		a[i] = 1
	}
	a[0] = tiny // A[0][0] denormal: flushed by VDPBF16PS
	b := make([]float32, k*n)
	b[0] = 1         // B[0][0] = 1 meets A[0][0]
	b[1*n+1] = tiny  // B[1][1] denormal: flushed when packed
	b[2*n+2] = 0x1p3 // a normal product for comparison
	am := NewBF16Matrix(false, m, k, a, k)
	forEachBF16Path(t, func(t *testing.T, p isa.Path) {
		c := make([]float32, m*n)
		am.Mul(n, b, n, false, c, n)
		flush := BF16Supported()
		want00, want01 := tiny, tiny
		if flush {
			want00, want01 = 0, 0
		}
		if c[0] != want00 || c[1] != want01 || c[2] != 8 {
			t.Errorf("C[0][0…2] = %g, %g, %g; want %g, %g, 8 (flushing denormals: %v)", c[0], c[1], c[2], want00, want01, flush)
		}
	})
}

// BenchmarkBF16Mul measures the bfloat16 product against Sgemm on the
// shapes of the v1 decoder (2·m·n·k flops per op), on every path.
func BenchmarkBF16Mul(b *testing.B) {
	shapes := []struct{ m, n, k int }{{512, 940, 1536}, {256, 3760, 768}, {1024, 1024, 1024}, {512, 235, 512}, {256, 940, 256}, {2048, 235, 1024}}
	forEachPathB(b, func(b *testing.B) {
		for _, s := range shapes {
			rng := rand.New(rand.NewPCG(1, 2))
			a, bm, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
			am := NewBF16Matrix(false, s.m, s.k, a, s.k)
			flops := 2 * float64(s.m*s.n*s.k)
			b.Run(fmt.Sprintf("bf16/%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
				for range b.N {
					am.Mul(s.n, bm, s.n, false, c, s.n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
			b.Run(fmt.Sprintf("f32/%dx%dx%d", s.m, s.n, s.k), func(b *testing.B) {
				for range b.N {
					Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	})
}
