package render

import (
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/prior"
)

// benchmarkGenerate generates seconds of audio with a preset model and a
// prior of the given size (random weights: the cost does not depend on
// them) and reports the real-time factors of sampling and decoding.
func benchmarkGenerate(b *testing.B, preset string, pc prior.Config, seconds float64, streaming bool) {
	mc, err := model.Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.New(mc, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	p := prior.New(pc, rand.New(rand.NewPCG(1, 1)))
	opts := GenerateOptions{Temperature: 1, Streaming: streaming}
	// The first run packs the decoder's weights for the fast kernels; a
	// one-shot command pays it once.
	_, cold, err := Generate(m, p, seconds, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("first run: sampling %v, decoding %v, real-time factor %.3f", cold.Sampling, cold.Decoding, cold.RTF)
	b.ReportAllocs()
	b.SetBytes(int64(seconds * float64(mc.SR) * 4))
	b.ResetTimer()
	var rep GenerateReport
	for i := range b.N {
		opts.Seed = uint64(i)
		_, rep, err = Generate(m, p, seconds, opts)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(rep.SamplingRTF, "sampling-rtf")
	b.ReportMetric(rep.DecodingRTF, "decoding-rtf")
	b.ReportMetric(rep.RTF, "rtf")
	b.Logf("%s model, prior %d/%d/%d layers, k = %d, streaming %v: %.1f s in %v (sampling %v, decoding %v), real-time factor %.3f",
		preset, pc.Residual, pc.Skip, pc.Layers, pc.Dims, streaming, seconds, rep.Sampling+rep.Decoding, rep.Sampling, rep.Decoding, rep.RTF)
}

// BenchmarkGenerateSmall is the tiny preset with a CPU-sized prior.
func BenchmarkGenerateSmall(b *testing.B) {
	pc := prior.DefaultConfig(8)
	pc.Residual, pc.Skip = 128, 64
	benchmarkGenerate(b, "tiny", pc, 2, false)
}

// BenchmarkGenerateLarge is the paper's setting: 10 s from the v1 model
// with the reference-sized prior over 16 dimensions.
func BenchmarkGenerateLarge(b *testing.B) {
	benchmarkGenerate(b, "v1", prior.DefaultConfig(16), 10, false)
}

// BenchmarkGenerateLargeStreaming is BenchmarkGenerateLarge with the
// streaming decoder.
func BenchmarkGenerateLargeStreaming(b *testing.B) {
	benchmarkGenerate(b, "v1", prior.DefaultConfig(16), 10, true)
}
