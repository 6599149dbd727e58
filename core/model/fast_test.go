package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// TestInferenceMatchesTape checks the fused inference path (nil tape)
// against the generic ops (recording tape) for several configurations,
// batch 2, with each output computed twice to catch stale caches.
func TestInferenceMatchesTape(t *testing.T) {
	base, _ := Preset("tiny")
	causal := base
	causal.NoLatency = true
	stride := base
	stride.LoudStride = 2
	unit := base
	unit.Ratios = []int{4, 1, 2}
	small, _ := Preset("small") // residual stacks of 256 and 128 channels run through Winograd
	cases := map[string]Config{"tiny": base, "small": small, "no_latency": causal, "loud_stride_2": stride, "ratio_1": unit}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			m, err := New(cfg, rng)
			if err != nil {
				t.Fatal(err)
			}
			// Non-trivial BatchNorm statistics.
			for _, bn := range m.Encoder.bns {
				for i := range bn.stats.RunningMean {
					bn.stats.RunningMean[i] = float32(rng.NormFloat64() * 0.1)
					bn.stats.RunningVar[i] = float32(0.5 + rng.Float64())
				}
			}
			x := core.Randn(rng, 2, 1, 6*cfg.CompressionRatio())
			for rep := range 2 {
				tp := core.NewTape()
				xt := x.Clone().SetRequiresGrad(true)
				mt, st := m.Encode(tp, xt)
				mi, si := m.Encode(nil, x)
				yt := m.Decode(tp, mt, false, nil)
				yi := m.Decode(nil, mi, false, nil)
				for _, c := range []struct {
					what     string
					got, ref *core.Tensor
				}{{"mean", mi, mt}, {"std", si, st}, {"audio", yi, yt}} {
					if e := relDiff(c.got.Data(), c.ref.Data()); e > 1e-5 {
						t.Errorf("run %d: %s: inference differs from the tape path by %.3g (relative)", rep, c.what, e)
					}
				}
			}
		})
	}
}

// TestConvPathsAgree checks the phase-split convolution, whole and in
// blocks of columns, against the im2col path it replaces, for strides,
// dilations, paddings and input activations the models use. The blocks
// must not change a bit: every output goes through the same products.
func TestConvPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	bn := act{leaky: true, scale: make([]float32, 24), shift: make([]float32, 24)}
	for i := range bn.scale {
		bn.scale[i], bn.shift[i] = float32(0.5+rng.Float64()), float32(rng.NormFloat64())
	}
	cases := []struct {
		name string
		g    convGeom
		a    act
		T    int
	}{
		{"k3 dil1 leaky", convGeom{cin: 16, cout: 24, k: 3, stride: 1, dil: 1, groups: 1, padL: 1, padR: 1}, leakyAct, 1500},
		{"k3 dil9 leaky", convGeom{cin: 16, cout: 24, k: 3, stride: 1, dil: 9, groups: 1, padL: 9, padR: 9}, leakyAct, 1501},
		{"k9 stride4 batchnorm", convGeom{cin: 24, cout: 16, k: 9, stride: 4, dil: 1, groups: 1, padL: 4, padR: 4}, bn, 4003},
		{"k5 stride2 causal", convGeom{cin: 8, cout: 12, k: 5, stride: 2, dil: 1, groups: 1, padL: 4, padR: 0}, act{}, 2999},
		{"k7 no activation", convGeom{cin: 5, cout: 17, k: 7, stride: 1, dil: 1, groups: 1, padL: 3, padR: 3}, act{}, 2048},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const B = 2
			Tout := c.g.outLen(c.T)
			x := core.Randn(rng, B, c.g.cin, c.T).Data()
			w := core.Randn(rng, c.g.cout, c.g.cin, c.g.k).Data()
			bias := core.Randn(rng, c.g.cout).Data()
			for _, accumulate := range []bool{false, true} {
				init := core.Randn(rng, B, c.g.cout, Tout).Data()
				ref := append([]float32(nil), init...)
				useChunked = false
				conv1dInfer(ref, x, w, bias, B, c.T, c.g, c.a, accumulate, nil)
				useChunked = true
				whole := append([]float32(nil), init...)
				conv1dPhased(whole, x, w, bias, B, c.T, Tout, 0, c.g, c.a, accumulate)
				if e := relDiff(whole, ref); e > 1e-6 {
					t.Errorf("accumulate %v: phase-split convolution differs from im2col by %.3g", accumulate, e)
				}
				for _, nc := range []int{128, 144, 1024} {
					blocks := append([]float32(nil), init...)
					conv1dPhased(blocks, x, w, bias, B, c.T, Tout, nc, c.g, c.a, accumulate)
					for i := range blocks {
						if blocks[i] != whole[i] {
							t.Fatalf("accumulate %v, blocks of %d: output %d is %g, the whole product gives %g", accumulate, nc, i, blocks[i], whole[i])
						}
					}
				}
			}
		})
	}
}

// TestUpsamplerWinogradMatches checks the F(2,2) transposed convolution
// against the direct one for each stride and padding the models use, odd
// and even lengths, with and without the input activation.
func TestUpsamplerWinogradMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct{ s, pad, T int }{{2, 1, 37}, {2, 1, 40}, {4, 2, 33}, {4, 2, 64}, {8, 4, 21}, {3, 1, 30}, {4, 0, 17}} {
		for _, a := range []act{{}, leakyAct} {
			t.Run(fmt.Sprintf("s%d pad%d T%d leaky %v", c.s, c.pad, c.T, a.leaky), func(t *testing.T) {
				cin, cout, K := 12, 10, 2*c.s
				x := core.Randn(rng, 1, cin, c.T).Data()
				w := core.Randn(rng, cin, cout, K).Data()
				bias := core.Randn(rng, cout).Data()
				Tout := (c.T-1)*c.s - 2*c.pad + K
				ref := make([]float32, cout*Tout)
				convTranspose1dInfer(ref, x, w, bias, 1, cin, c.T, cout, K, c.s, c.pad, a, nil)
				got := make([]float32, cout*Tout)
				for i := range got {
					got[i] = float32(math.NaN()) // every output must be written
				}
				convTransposeWinograd(got, x, upWinoWeights(w, cin, cout, c.s), bias, cin, cout, c.T, c.s, c.pad, a)
				if e := relDiff(got, ref); !(e <= 1e-5) {
					t.Errorf("Winograd up-sampler differs from the direct one by %.3g (relative)", e)
				}
			})
		}
	}
}

// TestStridedWinogradMatches checks the phase-split Winograd convolution
// against the direct one for the encoder's geometries (kernel 2r+1,
// stride r, centred or causal padding), with and without the input
// activation and accumulation.
func TestStridedWinogradMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct{ k, s, padL, padR, T int }{{9, 4, 4, 4, 64}, {9, 4, 4, 4, 70}, {5, 2, 2, 2, 33}, {5, 2, 4, 0, 40}, {7, 3, 3, 3, 31}, {3, 2, 1, 1, 50}} {
		for _, a := range []act{{}, leakyAct} {
			for _, accumulate := range []bool{false, true} {
				t.Run(fmt.Sprintf("k%d s%d pad%d,%d T%d leaky %v acc %v", c.k, c.s, c.padL, c.padR, c.T, a.leaky, accumulate), func(t *testing.T) {
					g := convGeom{cin: 40, cout: 12, k: c.k, stride: c.s, dil: 1, groups: 1, padL: c.padL, padR: c.padR}
					if !stridedWinoUsable(g) {
						t.Fatalf("geometry %+v does not take the Winograd path", g)
					}
					Tout := g.outLen(c.T)
					x := core.Randn(rng, 1, g.cin, c.T).Data()
					w := core.Randn(rng, g.cout, g.cin, g.k).Data()
					bias := core.Randn(rng, g.cout).Data()
					init := core.Randn(rng, 1, g.cout, Tout).Data()
					ref := append([]float32(nil), init...)
					conv1dInfer(ref, x, w, bias, 1, c.T, g, a, accumulate, nil)
					got := append([]float32(nil), init...)
					convStridedWinograd(got, x, stridedWinoWeights(w, g), bias, c.T, g, a, accumulate)
					if e := relDiff(got, ref); !(e <= 1e-5) {
						t.Errorf("strided Winograd differs from the direct convolution by %.3g (relative)", e)
					}
				})
			}
		}
	}
}
