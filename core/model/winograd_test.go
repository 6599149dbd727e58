package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/isa"
)

// forEachPath runs f as a subtest named after each instruction-set path,
// with isa.Use(p) in effect and the previous path restored afterwards. A
// path this CPU or build lacks is skipped by name.
func forEachPath(t *testing.T, f func(t *testing.T, p isa.Path)) {
	for _, p := range isa.Known {
		t.Run(string(p), func(t *testing.T) {
			if !isa.Has(p) {
				t.Skipf("path %s: not supported by this CPU (%s) or build", p, isa.CPU())
			}
			restore, err := isa.Use(p)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t, p)
		})
	}
}

// TestWinogradMatchesDirect compares conv3Winograd with the direct
// im2col GEMM for dilations 1, 3, 9, centred and causal padding, lengths
// that are not multiples of the tile, with and without accumulation, on
// every path (assembly transforms on avx512 and avx2, Go on generic).
func TestWinogradMatchesDirect(t *testing.T) {
	forEachPath(t, func(t *testing.T, p isa.Path) {
		rng := rand.New(rand.NewPCG(2, 2))
		for _, dil := range []int{1, 3, 9} {
			for _, causal := range []bool{false, true} {
				for _, T := range []int{37, 128, 301, 1201} {
					t.Run(fmt.Sprintf("d%d/causal=%v/T%d", dil, causal, T), func(t *testing.T) {
						cin, cout := 5, 7
						padL := dil
						if causal {
							padL = 2 * dil
						}
						g := convGeom{cin: cin, cout: cout, k: 3, stride: 1, dil: dil, groups: 1, padL: padL, padR: 2*dil - padL}
						x := core.Randn(rng, cin, T).Data()
						w := core.Randn(rng, cout, cin, 3).Data()
						bias := core.Randn(rng, cout).Data()
						base := core.Randn(rng, cout, T).Data()
						for _, acc := range []bool{false, true} {
							want := append([]float32(nil), base...)
							got := append([]float32(nil), base...)
							conv1dInfer(want, x, w, bias, 1, T, g, leakyAct, acc, nil)
							conv3Winograd(got, x, winoWeights(w, cout, cin), bias, cin, cout, T, dil, padL, leakyAct, acc, nil)
							if e := relDiff(got, want); e > 2e-6 {
								t.Errorf("accumulate=%v: Winograd differs from the direct conv by %.3g", acc, e)
							}
						}
					})
				}
			}
		}
	})
}

// TestWinoRowTransforms compares the row transforms of every path with
// the Go loops (to float32 rounding: the assembly groups the sums
// differently) and the assembly paths with one another bit for bit (AVX2
// runs AVX-512's instructions on half-width registers), for tile counts
// around the 16-tile chunks, with and without accumulation, and checks
// that outputs past the limit are not written.
func TestWinoRowTransforms(t *testing.T) {
	type result struct{ v, y []float32 }
	run := func(nb, limit int, acc bool, rng *rand.Rand) result {
		pr := make([]float32, 4*nb+2+winoSlack)
		for i := range 4*nb + 2 {
			pr[i] = float32(rng.NormFloat64())
		}
		v := make([]float32, 6*nb)
		var vk [6][]float32
		for k := range vk {
			vk[k] = v[k*nb : (k+1)*nb]
		}
		winoInRow(pr, &vk, nb)
		y := make([]float32, 4*nb+8)
		for i := range y {
			y[i] = float32(rng.NormFloat64())
		}
		winoOutRow(&vk, nb, y, limit, 0.375, acc)
		return result{v, y}
	}
	type tc struct {
		nb, limit int
		acc       bool
	}
	var cases []tc
	for _, nb := range []int{1, 15, 16, 17, 31, 32, 47, 64, 100} {
		for _, limit := range []int{4 * nb, 4*nb - 3, 64*(nb/16) - 1} {
			if limit > 0 {
				cases = append(cases, tc{nb, limit, false}, tc{nb, limit, true})
			}
		}
	}
	results := map[isa.Path][]result{}
	forEachPath(t, func(t *testing.T, p isa.Path) {
		rng := rand.New(rand.NewPCG(4, 4))
		for _, c := range cases {
			results[p] = append(results[p], run(c.nb, c.limit, c.acc, rng))
		}
	})
	ref := results[isa.Generic]
	for p, rs := range results {
		for i, r := range rs {
			c := cases[i]
			if e := relDiff(r.v, ref[i].v); e > 1e-6 {
				t.Errorf("%s: nb %d: input transform differs from Go by %.3g", p, c.nb, e)
			}
			if e := relDiff(r.y, ref[i].y); e > 1e-6 {
				t.Errorf("%s: nb %d limit %d acc %v: output transform differs from Go by %.3g", p, c.nb, c.limit, c.acc, e)
			}
			for j := c.limit; j < len(r.y); j++ {
				if r.y[j] != ref[i].y[j] {
					t.Fatalf("%s: nb %d limit %d: y[%d] past the limit written", p, c.nb, c.limit, j)
				}
			}
		}
	}
	a2, a5 := results[isa.AVX2], results[isa.AVX512]
	if a2 == nil || a5 == nil {
		t.Skip("bit-for-bit comparison needs both the avx2 and avx512 paths")
	}
	for i := range a2 {
		for j, v := range a2[i].v {
			if math.Float32bits(v) != math.Float32bits(a5[i].v[j]) {
				t.Fatalf("nb %d: v[%d] = %g on avx2, %g on avx512", cases[i].nb, j, v, a5[i].v[j])
			}
		}
		for j, v := range a2[i].y {
			if math.Float32bits(v) != math.Float32bits(a5[i].y[j]) {
				t.Fatalf("nb %d limit %d acc %v: y[%d] = %g on avx2, %g on avx512", cases[i].nb, cases[i].limit, cases[i].acc, j, v, a5[i].y[j])
			}
		}
	}
}

// BenchmarkConv3 compares the direct im2col GEMM with Winograd F(4,3) on
// the residual convolutions of v1 decoding 10 s of audio.
func BenchmarkConv3(b *testing.B) {
	for _, s := range []struct{ c, t int }{{64, 30080}, {128, 15040}, {256, 3760}, {512, 940}} {
		rng := rand.New(rand.NewPCG(1, 1))
		x := core.Randn(rng, s.c, s.t).Data()
		w := core.Randn(rng, s.c, s.c, 3).Data()
		y := make([]float32, s.c*s.t)
		u := winoWeights(w, s.c, s.c)
		for _, dil := range []int{1, 9} {
			g := convGeom{cin: s.c, cout: s.c, k: 3, stride: 1, dil: dil, groups: 1, padL: dil, padR: dil}
			flops := 2 * 3 * float64(s.c*s.c*s.t)
			b.Run(fmt.Sprintf("direct/C%d_d%d", s.c, dil), func(b *testing.B) {
				for range b.N {
					conv1dInfer(y, x, w, nil, 1, s.t, g, leakyAct, true, nil)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			b.Run(fmt.Sprintf("winograd/C%d_d%d", s.c, dil), func(b *testing.B) {
				for range b.N {
					conv3Winograd(y, x, u, nil, s.c, s.c, s.t, dil, dil, leakyAct, true, nil)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
