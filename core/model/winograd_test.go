package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/isa"
	"github.com/ravestation/rave/core/internal/isatest"
)

// forEachPath is isatest.ForEachPath: f on each instruction-set path.
func forEachPath(t *testing.T, f func(t *testing.T, p isa.Path)) { isatest.ForEachPath(t, f) }

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
