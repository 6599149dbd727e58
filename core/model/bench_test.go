package model

import (
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// benchmarkEncodeDecode times inference encode+decode of seconds of audio
// at batch 1 for a preset, reporting the real-time factor.
func benchmarkEncodeDecode(b *testing.B, preset string, seconds float64, prec Precision) {
	cfg, err := Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	m, err := New(cfg, rng)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.SetInferencePrecision(prec); err != nil {
		b.Skip(err)
	}
	r := cfg.CompressionRatio()
	n := (int(seconds*float64(cfg.SR)) + r - 1) / r * r
	x := core.Randn(rng, 1, 1, n)
	mean, _ := m.Encode(nil, x) // warm-up
	m.Decode(nil, mean, false, nil)
	b.SetBytes(int64(4 * n))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		mean, _ := m.Encode(nil, x)
		m.Decode(nil, mean, false, nil)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(seconds/sec, "x_realtime")
	b.ReportMetric(sec*1000, "ms/op")
}

// BenchmarkEncodeDecode is encode+decode of 10 s of 48 kHz audio at batch 1
// (DESIGN.md target for v1: ≤ 150 ms on the 2-core machine; PyTorch 212 ms).
func BenchmarkEncodeDecode(b *testing.B) {
	for _, p := range []string{"v1", "small", "tiny"} {
		b.Run(p, func(b *testing.B) { benchmarkEncodeDecode(b, p, 10, Float32) })
		b.Run(p+"/bf16", func(b *testing.B) { benchmarkEncodeDecode(b, p, 10, BFloat16) })
	}
}

// BenchmarkEncodeDecodeGeneric is BenchmarkEncodeDecode/v1 through the
// generic core ops (no fused inference path), for comparison.
func BenchmarkEncodeDecodeGeneric(b *testing.B) {
	fastInference = false
	defer func() { fastInference = true }()
	benchmarkEncodeDecode(b, "v1", 10, Float32)
}
