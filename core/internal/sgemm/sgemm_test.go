package sgemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/internal/isa"
	"github.com/ravestation/rave/core/internal/isatest"
)

// shape is one test problem: op(A) is m×k, op(B) is k×n.
type shape struct{ m, k, n int }

// testShapes are awkward sizes: tiny, prime, one-off from the tile sizes
// (12×32, 6×16, 4×4), vectors and K larger than one packed block.
var testShapes = []shape{
	{1, 1, 1}, {2, 3, 4}, {13, 300, 33}, {37, 513, 70}, {1, 5000, 1},
	{100, 1, 100}, {255, 31, 257}, {12, 64, 32}, {11, 17, 31}, {25, 260, 65},
	{7, 1000, 5}, {1, 700, 300}, {300, 700, 1}, {64, 192, 96},
	{9, 40, 8}, {50, 33, 4}, {6, 17, 6}, {5, 16, 7}, {1550, 20, 40},
}

// within reports whether got matches want to float32 accuracy. Both sum k
// products in float32 (in k order, the kernels with fused multiply-adds), so
// each may be off by about k·ε·Σ|a||b|; we allow
//
//	|got-want| ≤ 1e-5·k·|alpha|·max|A|·max|B| + 1e-6·|beta|·max|C0|,
//
// about 80 times the worst case for k ≤ 5000 with values of order one and
// still far below any indexing error (which moves results by O(1)).
func within(got, want float32, k int, alpha, beta, maxA, maxB, maxC float32) bool {
	tol := 1e-5*float64(k)*math.Abs(float64(alpha))*float64(maxA)*float64(maxB) +
		1e-6*math.Abs(float64(beta))*float64(maxC) + 1e-30
	return math.Abs(float64(got)-float64(want)) <= tol
}

// randSlice returns n values uniform in [-1, 1).
func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*r.Float32() - 1
	}
	return s
}

// operands builds A, B, C for a problem with the given padding added to each
// leading dimension.
func operands(r *rand.Rand, s shape, tA, tB bool, pad int) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := s.m, s.k
	if tA {
		ar, ac = s.k, s.m
	}
	br, bc := s.k, s.n
	if tB {
		br, bc = s.n, s.k
	}
	lda, ldb, ldc = ac+pad, bc+pad, s.n+pad
	// Each slice has the minimal length (rows-1)·ld+cols, so any access past
	// the last element is out of bounds.
	a = randSlice(r, (ar-1)*lda+ac)
	b = randSlice(r, (br-1)*ldb+bc)
	c = randSlice(r, (s.m-1)*ldc+s.n)
	return
}

// forEachPath is isatest.ForEachPath: f on each instruction-set path.
func forEachPath(t *testing.T, f func(t *testing.T, p isa.Path)) { isatest.ForEachPath(t, f) }

// forEachPathB is forEachPath for benchmarks.
func forEachPathB(b *testing.B, f func(b *testing.B)) {
	isatest.ForEachPathB(b, func(b *testing.B, _ isa.Path) { f(b) })
}

func TestSgemmMatchesNaive(t *testing.T) {
	scalars := []struct {
		name        string
		alpha, beta float32
		nanC        bool // fill C with NaN: beta == 0 must not read it
	}{
		{"alpha1_beta0_nanC", 1, 0, true},
		{"alpha1_beta1", 1, 1, false},
		{"alpha-0.75_beta0.5", -0.75, 0.5, false},
		{"alpha2_beta-0_nanC", 2, float32(math.Copysign(0, -1)), true},
	}
	shapes := testShapes
	if testing.Short() {
		shapes = shapes[:6]
	}
	forEachPath(t, func(t *testing.T, p isa.Path) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, s := range shapes {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				for _, sc := range scalars {
					for _, pad := range []int{0, 3} {
						name := fmt.Sprintf("%dx%dx%d/tA=%v,tB=%v/%s/pad%d", s.m, s.k, s.n, tr[0], tr[1], sc.name, pad)
						a, lda, b, ldb, c0, ldc := operands(r, s, tr[0], tr[1], pad)
						if sc.nanC {
							for i := range c0 {
								c0[i] = float32(math.NaN())
							}
						}
						// Pad columns of C hold a sentinel that must survive.
						for i := 0; i < s.m-1; i++ {
							for j := s.n; j < ldc; j++ {
								c0[i*ldc+j] = 12345
							}
						}
						// got is followed by a guard region that must stay untouched:
						// the kernels write through raw pointers.
						got := append(append([]float32(nil), c0...), guard[:]...)
						want := append([]float32(nil), c0...)
						Sgemm(tr[0], tr[1], s.m, s.n, s.k, sc.alpha, a, lda, b, ldb, sc.beta, got[:len(c0)], ldc)
						Naive(tr[0], tr[1], s.m, s.n, s.k, sc.alpha, a, lda, b, ldb, sc.beta, want, ldc)
						if err := compare(got, want, s, ldc, sc.alpha, sc.beta, maxAbs(c0)); err != "" {
							t.Fatalf("%s: %s", name, err)
						}
						for i, g := range got[len(c0):] {
							if g != guard[i] {
								t.Fatalf("%s: wrote %v past the end of C (guard[%d])", name, g, i)
							}
						}
					}
				}
			}
		}
	})
}

// guard fills the memory after C in TestSgemmMatchesNaive.
var guard = func() (g [64]float32) {
	for i := range g {
		g[i] = -7777
	}
	return
}()

// compare checks got against want over the m×n part of C and checks that the
// padding columns (between rows) are untouched. It returns a description of the first
// mismatch, or "".
func compare(got, want []float32, s shape, ldc int, alpha, beta, maxC float32) string {
	for i := 0; i < s.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(want); j++ {
			g, w := got[i*ldc+j], want[i*ldc+j]
			if j >= s.n {
				if g != 12345 {
					return fmt.Sprintf("padding C[%d][%d] overwritten with %v", i, j, g)
				}
				continue
			}
			if math.IsNaN(float64(g)) || !within(g, w, s.k, alpha, beta, 1, 1, maxC) {
				return fmt.Sprintf("C[%d][%d] = %v, want %v", i, j, g, w)
			}
		}
	}
	return ""
}

func maxAbs(s []float32) float32 {
	var m float32
	for _, v := range s {
		if v == v && v != 12345 { // skip NaN and the padding sentinel
			m = max(m, float32(math.Abs(float64(v))))
		}
	}
	return m
}

// TestSgemmDirectMatchesNaiveExactly checks that tiny products (the unpacked
// path) round exactly like Naive.
func TestSgemmDirectMatchesNaiveExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range []shape{{1, 1, 1}, {4, 4, 4}, {3, 5, 7}, {1, 256, 1}, {2, 8, 16}} { // m·n·k ≤ directMax
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			a, lda, b, ldb, c0, ldc := operands(r, s, tr[0], tr[1], 2)
			got := append([]float32(nil), c0...)
			want := append([]float32(nil), c0...)
			Sgemm(tr[0], tr[1], s.m, s.n, s.k, 0.5, a, lda, b, ldb, -2, got, ldc)
			Naive(tr[0], tr[1], s.m, s.n, s.k, 0.5, a, lda, b, ldb, -2, want, ldc)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v tA=%v tB=%v: C[%d] = %v, Naive %v", s, tr[0], tr[1], i, got[i], want[i])
				}
			}
		}
	}
}

func TestSgemmSpecialScalars(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := shape{37, 70, 51}
	a, lda, b, ldb, c, ldc := operands(r, s, false, false, 0)
	tests := []struct {
		name        string
		k           int
		alpha, beta float32
		nanC        bool
		want        func(c0 float32) float32
	}{
		{"alpha0_beta0_nanC", s.k, 0, 0, true, func(float32) float32 { return 0 }},
		{"alpha0_beta2", s.k, 0, 2, false, func(c0 float32) float32 { return 2 * c0 }},
		{"k0_beta0.5", 0, 1, 0.5, false, func(c0 float32) float32 { return 0.5 * c0 }},
		{"k0_beta0_nanC", 0, 1, 0, true, func(float32) float32 { return 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c0 := append([]float32(nil), c...)
			if tt.nanC {
				for i := range c0 {
					c0[i] = float32(math.NaN())
				}
			}
			got := append([]float32(nil), c0...)
			Sgemm(false, false, s.m, s.n, tt.k, tt.alpha, a, lda, b, ldb, tt.beta, got, ldc)
			for i, g := range got {
				if w := tt.want(c0[i]); g != w {
					t.Fatalf("C[%d] = %v, want %v", i, g, w)
				}
			}
		})
	}
}

// TestSgemmDeterministic checks that 1, 2, 3 and 4 goroutines give identical
// bits, for every kernel, on shapes large enough to be split.
func TestSgemmDeterministic(t *testing.T) {
	shapes := []shape{{131, 301, 257}, {1021, 1000, 3}, {37, 513, 701}, {509, 67, 145}, {64, 192, 1000}}
	if testing.Short() {
		shapes = shapes[:2]
	}
	defer SetThreads(SetThreads(1))
	forEachPath(t, func(t *testing.T, p isa.Path) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, s := range shapes {
			for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
				a, lda, b, ldb, c0, ldc := operands(r, s, tr[0], tr[1], 1)
				var ref []float32
				for th := 1; th <= 4; th++ {
					SetThreads(th)
					got := append([]float32(nil), c0...)
					Sgemm(tr[0], tr[1], s.m, s.n, s.k, 1.5, a, lda, b, ldb, 0.25, got, ldc)
					if th == 1 {
						ref = got
						continue
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
							t.Fatalf("%v tA=%v tB=%v: %d threads: C[%d] = %v, 1 thread %v",
								s, tr[0], tr[1], th, i, got[i], ref[i])
						}
					}
				}
			}
		}
	})
}

// TestSgemmConcurrent runs independent products from several goroutines at
// once (for the race detector and the shared worker pool).
func TestSgemmConcurrent(t *testing.T) {
	defer SetThreads(SetThreads(2))
	s := shape{70, 90, 300}
	r := rand.New(rand.NewPCG(7, 8))
	a, lda, b, ldb, _, ldc := operands(r, s, false, false, 0)
	want := make([]float32, s.m*ldc)
	Naive(false, false, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, want, ldc)
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		go func() {
			c := make([]float32, s.m*ldc)
			for it := 0; it < 5; it++ {
				Sgemm(false, false, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, ldc)
				if e := compare(c, want, s, ldc, 1, 0, 0); e != "" {
					errs <- e
					return
				}
			}
			errs <- ""
		}()
	}
	for g := 0; g < 4; g++ {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 6)
	tests := []struct {
		name string
		f    func()
		msg  string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 3, 1, a, 3, a, 2, 0, a, 2) }, "negative dimension"},
		{"short a", func() { Sgemm(false, false, 3, 2, 3, 1, a, 3, a, 2, 0, a, 2) }, "len(a)"},
		{"small lda", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) }, "lda=2"},
		{"transposed b", func() { Sgemm(false, true, 1, 4, 3, 1, a, 3, a, 3, 0, a, 4) }, "len(b)"},
		{"naive short c", func() { Naive(false, false, 2, 3, 1, 1, a, 1, a, 3, 0, a[:5], 3) }, "len(c)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, "sgemm: ") || !strings.Contains(msg, tt.msg) {
					t.Fatalf("panic %v, want sgemm: ...%s...", r, tt.msg)
				}
			}()
			tt.f()
		})
	}
}

func TestUseKernel(t *testing.T) {
	orig := Kernel()
	for _, name := range knownKernels {
		restore, err := UseKernel(name)
		if err == nil && Kernel() != name {
			t.Errorf("UseKernel(%q): Kernel() = %q", name, Kernel())
		}
		restore()
		if Kernel() != orig {
			t.Errorf("after restoring %q: Kernel() = %q, want %q", name, Kernel(), orig)
		}
	}
	if _, err := UseKernel("sse9"); err == nil {
		t.Error(`UseKernel("sse9") succeeded`)
	}
}

func TestSetThreads(t *testing.T) {
	prev := SetThreads(3)
	if got := SetThreads(0); got != 3 {
		t.Errorf("SetThreads returned %d, want 3", got)
	}
	if got := SetThreads(prev); got != 0 {
		t.Errorf("SetThreads returned %d, want 0 for the default", got)
	}
}

func TestSgemmNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range []shape{{128, 256, 512}, {1000, 1000, 4}, {20, 20, 20}} {
		a, lda, b, ldb, c, ldc := operands(r, s, false, false, 0)
		for _, th := range []int{1, 2} {
			prev := SetThreads(th)
			f := func() { Sgemm(false, false, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, ldc) }
			f() // warm up the packing buffers and workers
			if n := testing.AllocsPerRun(20, f); n > 0.5 {
				t.Errorf("%v, %d threads: %v allocations per call", s, th, n)
			}
			SetThreads(prev)
		}
	}
}

// TestSmallNDot checks the small-n products (few columns, A not
// transposed: the dot-product kernels where the path has them) on every
// path: against Naive, bit for bit across thread counts, and — where the
// dot kernels run — column by column against one-column products, which
// use dot41 where the wider product used dot44, so the two must round
// identically.
func TestSmallNDot(t *testing.T) {
	shapes := []shape{
		{5, 16, 1}, {7, 1000, 5}, {33, 37, 4}, {64, 192, 8}, {13, 300, 13}, {50, 513, 17},
		{9, 1031, 24}, {300, 700, 1}, {8, 2000, 3}, {130, 1536, 16}, {6, 129, 12}, {3, 23, 7},
	}
	defer SetThreads(SetThreads(1))
	forEachPath(t, func(t *testing.T, p isa.Path) {
		kn := active.Load()
		r := rand.New(rand.NewPCG(13, 14))
		for _, s := range shapes {
			for _, tB := range []bool{false, true} {
				a, lda, b, ldb, c0, ldc := operands(r, s, false, tB, 2)
				alpha, beta := float32(0.75), float32(-0.5)
				want := append([]float32(nil), c0...)
				Naive(false, tB, s.m, s.n, s.k, alpha, a, lda, b, ldb, beta, want, ldc)
				var ref []float32
				for th := 1; th <= 4; th++ {
					SetThreads(th)
					got := append([]float32(nil), c0...)
					Sgemm(false, tB, s.m, s.n, s.k, alpha, a, lda, b, ldb, beta, got, ldc)
					if th == 1 {
						if e := compareDot(got, want, s, ldc, alpha, beta, maxAbs(c0)); e != "" {
							t.Fatalf("%v tB=%v: %s", s, tB, e)
						}
						ref = got
						continue
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
							t.Fatalf("%v tB=%v: %d threads: C[%d] = %v, 1 thread %v", s, tB, th, i, got[i], ref[i])
						}
					}
				}
				SetThreads(1)
				if !useDot(kn, s.n, s.k) || !useDot(kn, 1, s.k) || s.m*s.k <= directMax {
					continue
				}
				// Column j alone: op(B)'s column j as a k×1 matrix.
				col := make([]float32, s.k)
				for j := 0; j < s.n; j++ {
					for q := range col {
						if tB {
							col[q] = b[j*ldb+q]
						} else {
							col[q] = b[q*ldb+j]
						}
					}
					cj := make([]float32, s.m)
					for i := range cj {
						cj[i] = c0[i*ldc+j]
					}
					Sgemm(false, false, s.m, 1, s.k, alpha, a, lda, col, 1, beta, cj, 1)
					for i, v := range cj {
						if math.Float32bits(v) != math.Float32bits(ref[i*ldc+j]) {
							t.Fatalf("%v tB=%v: C[%d][%d] = %v in the %d-column product, %v alone", s, tB, i, j, ref[i*ldc+j], s.n, v)
						}
					}
				}
			}
		}
	})
}

// compareDot is compare without the padding check (operands fills C's
// padding with random values).
func compareDot(got, want []float32, s shape, ldc int, alpha, beta, maxC float32) string {
	for i := 0; i < s.m; i++ {
		for j := 0; j < s.n; j++ {
			g, w := got[i*ldc+j], want[i*ldc+j]
			if math.IsNaN(float64(g)) || !within(g, w, s.k, alpha, beta, 1, 1, maxC) {
				return fmt.Sprintf("C[%d][%d] = %v, want %v", i, j, g, w)
			}
		}
	}
	return ""
}
