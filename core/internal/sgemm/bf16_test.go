package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
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
	kernels := []bool{false}
	if useBF16Asm {
		kernels = append(kernels, true)
	}
	for _, asm := range kernels {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("asm=%v/%dx%dx%d/t%v/acc%v", asm, tc.m, tc.n, tc.k, tc.transA, tc.acc), func(t *testing.T) {
				defer func(v bool) { useBF16Asm = v }(useBF16Asm)
				useBF16Asm = asm
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
	}
}

// TestBF16AsmMatchesGo checks that the assembly and Go kernels round
// identically and that the thread count does not change the result.
func TestBF16AsmMatchesGo(t *testing.T) {
	if !useBF16Asm {
		t.Skip("no AVX512_BF16 on this CPU")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	m, n, k := 61, 517, 777
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	am := NewBF16Matrix(false, m, k, a, k)
	c1, c2, c3 := make([]float32, m*n), make([]float32, m*n), make([]float32, m*n)
	am.Mul(n, b, n, false, c1, n)
	useBF16Asm = false
	am.Mul(n, b, n, false, c2, n)
	useBF16Asm = true
	defer SetThreads(SetThreads(1))
	am.Mul(n, b, n, false, c3, n)
	var maxDiff float64
	for i := range c1 {
		maxDiff = max(maxDiff, math.Abs(float64(c1[i]-c2[i])))
		if c1[i] != c3[i] {
			t.Fatalf("thread count changed C[%d]: %g vs %g", i, c1[i], c3[i])
		}
	}
	if maxDiff != 0 {
		t.Logf("assembly and Go kernels differ by up to %g (summation order inside VDPBF16PS)", maxDiff)
		if maxDiff > 1e-4 {
			t.Fatalf("assembly and Go kernels differ by %g", maxDiff)
		}
	}
}

// BenchmarkBF16Mul measures the bfloat16 product against Sgemm on the
// shapes of the v1 decoder (2·m·n·k flops per op).
func BenchmarkBF16Mul(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{{512, 940, 1536}, {256, 3760, 768}, {1024, 1024, 1024}, {512, 235, 512}, {256, 940, 256}, {2048, 235, 1024}} {
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
}
