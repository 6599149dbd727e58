package model

import (
	"fmt"
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

func relDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("relDiff: lengths %d and %d", len(a), len(b)))
	}
	var d, m float64
	for i := range a {
		d = max(d, float64(abs32(a[i]-b[i])))
		m = max(m, float64(abs32(b[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}
