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

// TestMulT checks the kernels (assembly and pure Go; float32, half and
// int8; serial and split over goroutines) against a float64 product of
// the stored matrix (At), for awkward shapes and beta.
func TestMulT(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, s := range []struct{ m, n, k int }{{1, 1, 1}, {3, 5, 17}, {4, 4, 16}, {13, 7, 100}, {64, 3, 1536}, {9, 16, 33}, {130, 9, 1030}, {7, 6, 47}} {
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
			var byKernel [][]float32 // beta = 0 results, Go then assembly
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
								byKernel = append(byKernel, c)
							} else if !slices.Equal(c, ref) {
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
									t.Fatalf("%+v %v asm %v beta %g: C[%d][%d] = %g, want %g", s, p, asm, beta, i, j, c[i*s.n+j], want)
								}
							}
						}
					}
				}
				useAsm, MinParallel = saved, savedPar
			}
			if len(byKernel) == 2 {
				// Assembly and Go differ only in the order of the float32
				// sums (by a few units of rounding of Σ|products|); the
				// Int8 sums are exact integers in both.
				for i := range s.m {
					for j := range s.n {
						var mag float64
						for q := range s.k {
							mag += math.Abs(float64(h.At(i, q)) * float64(colValue(h, bt, j, q)))
						}
						v, w := byKernel[1][i*s.n+j], byKernel[0][i*s.n+j]
						if d := math.Abs(float64(v - w)); d > 1e-6*mag || (p == Int8 && v != w) {
							t.Fatalf("%+v %v: C[%d][%d] = %g (assembly), %g (Go)", s, p, i, j, v, w)
						}
					}
				}
			}
			checkStored(t, fmt.Sprintf("%+v %v", s, p), h, a)
		}
	}
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

// TestInt8Columns checks the rounding of B for Int8: the levels bound,
// zero (and vanishingly small) columns, and NaN for non-finite ones.
func TestInt8Columns(t *testing.T) {
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

func TestMulTNoAllocs(t *testing.T) {
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
}

// BenchmarkMulT is the v1 decoder's first up-sampler when streaming 2048-
// (one column) and 8192-sample buffers (four), with its weights in
// float32, half precision and int8; the throughput is of weight bytes.
func BenchmarkMulT(b *testing.B) {
	m, k := 4096, 1024
	a := make([]float32, m*k)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for _, p := range []Precision{Float32, Half, Int8} {
		h := NewMatrix(a, m, k, k, p)
		for _, n := range []int{1, 4} {
			bt := make([]float32, n*h.Stride)
			c := make([]float32, m*n)
			b.Run(fmt.Sprintf("%v/n=%d", p, n), func(b *testing.B) {
				b.SetBytes(int64(h.Bytes()))
				for range b.N {
					h.MulT(n, bt, 0, c, n)
				}
			})
		}
	}
}

// TestMulTParts checks that PrepareT on row ranges of Bᵀ and MulTRows on
// row ranges of A give exactly MulT's result, for each precision, and
// allocate nothing.
func TestMulTParts(t *testing.T) {
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
				h := NewMatrix(a, s.m, s.k, s.k, p)
				h.Reserve(s.n)
				bt := make([]float32, s.n*h.Stride)
				for j := range s.n {
					for q := range s.k {
						bt[j*h.Stride+q] = float32(rng.NormFloat64())
					}
				}
				c0 := make([]float32, s.m*s.n)
				for i := range c0 {
					c0[i] = float32(rng.NormFloat64())
				}
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
