package modelv2

import (
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// BenchmarkV2EncodeDecode encodes and decodes one second of 44.1 kHz
// audio (rounded up to 22 latent frames, 45056 samples) with the
// full-size v2 model, without a tape: PQMF analysis, encoder, posterior
// mean, generator, PQMF synthesis.
func BenchmarkV2EncodeDecode(b *testing.B) {
	m := newRandomModel(b, "v2", false, false)
	r := m.Config.CompressionRatio()
	n := (m.Config.SampleRate + r - 1) / r * r
	x := core.Randn(rand.New(rand.NewPCG(1, 1)), 1, 1, n)
	b.ReportAllocs()
	b.SetBytes(int64(4 * n))
	b.ResetTimer()
	for b.Loop() {
		mean, _, _ := Posterior(nil, m.Encode(nil, x))
		m.Decode(nil, mean, nil)
	}
}
