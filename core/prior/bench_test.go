package prior

import (
	"math/rand/v2"
	"testing"
)

// latentRate48k is the latent frame rate of 48 kHz v1 models: 48000 / 2048
// samples per frame (rave-spec §9.3).
const latentRate48k = 48000.0 / 2048

// benchmarkGenerate measures incremental generation of one frame (all k
// dims sampled) and reports frames/s and the real-time factor at 23.4 Hz.
func benchmarkGenerate(b *testing.B, cfg Config) {
	p := New(cfg, rand.New(rand.NewPCG(1, 2)))
	rng := rand.New(rand.NewPCG(3, 4))
	const frames = 32
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := p.Generate(rng, GenerateOptions{Frames: frames, Temperature: 1}); err != nil {
			b.Fatal(err)
		}
	}
	perFrame := b.Elapsed().Seconds() / float64(b.N*frames)
	b.ReportMetric(1/perFrame, "frames/s")
	b.ReportMetric(1/perFrame/latentRate48k, "x_realtime")
}

// BenchmarkGenerateSmall is the 64/32-channel CPU preset with k = 8.
func BenchmarkGenerateSmall(b *testing.B) {
	c := DefaultConfig(8)
	c.Residual, c.Skip = 64, 32
	benchmarkGenerate(b, c)
}

// BenchmarkGeneratePaper is the reference size: residual 512, skip 256, 10
// layers, 32 classes, k = 16.
func BenchmarkGeneratePaper(b *testing.B) { benchmarkGenerate(b, DefaultConfig(16)) }
