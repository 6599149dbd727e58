package modelv2

import (
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// benchmarkEncodeDecode encodes and decodes seconds of 44.1 kHz audio
// (rounded up to whole latent frames) with a preset's model, randomly
// initialised, without a tape: PQMF analysis, encoder, posterior mean,
// generator, PQMF synthesis. With generic set it runs the generic core ops
// instead of fast.go's kernels.
func benchmarkEncodeDecode(b *testing.B, preset string, seconds float64, generic bool) {
	if generic {
		defer func(v bool) { fastInference = v }(fastInference)
		fastInference = false
	}
	m := newRandomModel(b, preset, false, false)
	r := m.Config.CompressionRatio()
	n := (int(seconds*float64(m.Config.SampleRate)) + r - 1) / r * r
	x := core.Randn(rand.New(rand.NewPCG(1, 1)), 1, 1, n)
	mean, _, _ := Posterior(nil, m.Encode(nil, x)) // warm-up: caches, buffers
	m.Decode(nil, mean, nil)
	b.ReportAllocs()
	b.SetBytes(int64(4 * n))
	b.ResetTimer()
	for b.Loop() {
		mean, _, _ := Posterior(nil, m.Encode(nil, x))
		m.Decode(nil, mean, nil)
	}
	b.ReportMetric(float64(n)/float64(m.Config.SampleRate)/(b.Elapsed().Seconds()/float64(b.N)), "x_realtime")
}

// BenchmarkV2EncodeDecode is one second (22 latent frames, 45056 samples)
// with the full-size v2 model.
func BenchmarkV2EncodeDecode(b *testing.B) { benchmarkEncodeDecode(b, "v2", 1, false) }

// BenchmarkV2EncodeDecode10s is ten seconds, the length PyTorch's figure
// is for (287 ms for v2 offline encode+decode on a 2-core AVX-512 machine).
func BenchmarkV2EncodeDecode10s(b *testing.B) { benchmarkEncodeDecode(b, "v2", 10, false) }

// BenchmarkV2EncodeDecodeGeneric is BenchmarkV2EncodeDecode through the
// generic core ops (the reference the fast kernels are tested against).
func BenchmarkV2EncodeDecodeGeneric(b *testing.B) { benchmarkEncodeDecode(b, "v2", 1, true) }

// BenchmarkV2SmallEncodeDecode is one second with the v2-small network.
func BenchmarkV2SmallEncodeDecode(b *testing.B) { benchmarkEncodeDecode(b, "v2-small", 1, false) }
