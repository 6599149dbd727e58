package sgemm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// benchShapes are the conv1d-as-GEMM shapes (M×K×N: M out channels, K =
// C_in·kernel, N frames) from the go-stack scouting report, §3.
var benchShapes = []shape{{64, 192, 8192}, {256, 768, 2048}, {512, 1536, 1024}, {1024, 1024, 1024}}

// benchmarkSgemm times C = A·B (no transposition, beta 0) and reports
// GFLOPS = 2·M·K·N/time, on the instruction-set path in use (RAVE_KERNELS,
// or the sub-benchmark's path). Threads follow GOMAXPROCS unless
// SGEMM_THREADS sets them; prefer GOMAXPROCS=1 or SGEMM_THREADS=1 to -cpu 1
// for one-thread figures, since the first pass of a sub-benchmark under
// -cpu runs with the default GOMAXPROCS.
func benchmarkSgemm(b *testing.B, s shape, f func(m, n, k int, a, bm, c []float32)) {
	if t, err := strconv.Atoi(os.Getenv("SGEMM_THREADS")); err == nil {
		defer SetThreads(SetThreads(t))
	}
	r := rand.New(rand.NewPCG(1, 1))
	a := randSlice(r, s.m*s.k)
	bm := randSlice(r, s.k*s.n)
	c := make([]float32, s.m*s.n)
	f(s.m, s.n, s.k, a, bm, c) // warm up buffers and workers
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f(s.m, s.n, s.k, a, bm, c)
	}
	b.ReportMetric(2*float64(s.m)*float64(s.k)*float64(s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}

// sgemmNN is C = A·B through Sgemm, operands stored densely.
func sgemmNN(m, n, k int, a, bm, c []float32) {
	Sgemm(false, false, m, n, k, 1, a, k, bm, n, 0, c, n)
}

// naiveNN is sgemmNN through Naive.
func naiveNN(m, n, k int, a, bm, c []float32) {
	Naive(false, false, m, n, k, 1, a, k, bm, n, 0, c, n)
}

// BenchmarkSgemm runs the conv shapes on the path in use (RAVE_KERNELS);
// the SGEMM_KERNEL environment variable may name another kernel
// ("avx512", "avx2", "generic").
func BenchmarkSgemm(b *testing.B) {
	if name := os.Getenv("SGEMM_KERNEL"); name != "" {
		restore, err := UseKernel(name)
		if err != nil {
			b.Skip(err)
		}
		defer restore()
	}
	for _, s := range benchShapes {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) { benchmarkSgemm(b, s, sgemmNN) })
	}
}

// BenchmarkSgemmPaths runs the 1024³ product on every instruction-set
// path (a path this CPU lacks is skipped).
func BenchmarkSgemmPaths(b *testing.B) {
	s := shape{1024, 1024, 1024}
	forEachPathB(b, func(b *testing.B) {
		b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) { benchmarkSgemm(b, s, sgemmNN) })
	})
}

// BenchmarkSgemmKernels compares every path, and Naive, on sizes small
// enough for the naive loop.
func BenchmarkSgemmKernels(b *testing.B) {
	shapes := []shape{{128, 128, 128}, {256, 768, 256}}
	forEachPathB(b, func(b *testing.B) {
		for _, s := range shapes {
			b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) { benchmarkSgemm(b, s, sgemmNN) })
		}
	})
	for _, s := range shapes {
		b.Run(fmt.Sprintf("naive/%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) { benchmarkSgemm(b, s, naiveNN) })
	}
}

// BenchmarkSgemmSmall measures streaming-inference sizes (few frames per
// call: per-call overhead and the small-n dot-product kernels) on every
// path.
func BenchmarkSgemmSmall(b *testing.B) {
	shapes := []shape{{8, 8, 8}, {32, 32, 32}, {512, 1536, 1}, {512, 1536, 4}, {512, 1536, 8}, {512, 1536, 16}, {512, 1536, 24}, {64, 192, 16}, {256, 768, 32}}
	forEachPathB(b, func(b *testing.B) {
		for _, s := range shapes {
			b.Run(fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n), func(b *testing.B) { benchmarkSgemm(b, s, sgemmNN) })
		}
	})
}

// BenchmarkSgemmTrans covers the transposed packing paths.
func BenchmarkSgemmTrans(b *testing.B) {
	s := shape{512, 1536, 1024}
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		b.Run(fmt.Sprintf("tA=%v,tB=%v", tr[0], tr[1]), func(b *testing.B) {
			benchmarkSgemm(b, s, func(m, n, k int, a, bm, c []float32) {
				lda, ldb := k, n
				if tr[0] {
					lda = m
				}
				if tr[1] {
					ldb = k
				}
				Sgemm(tr[0], tr[1], m, n, k, 1, a, lda, bm, ldb, 0, c, n)
			})
		})
	}
}
