package dsp

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// benchSignals returns a random batch of the given shape.
func benchSignals(shape ...int) *core.Tensor {
	return core.Randn(rand.New(rand.NewPCG(1, 1)), shape...)
}

// BenchmarkMultiScaleSpectralDistance measures one v1 distance forward and
// backward (gradient with respect to the prediction only, as in training)
// at the v1 training batch: 8 × 65 536 samples full band, and the same
// audio as 16 PQMF bands of 4 096 samples.
func BenchmarkMultiScaleSpectralDistance(b *testing.B) {
	for _, c := range []struct {
		name  string
		shape []int
	}{
		{"fullband_8x65536", []int{8, 1, 65536}},
		{"multiband_8x16x4096", []int{8, 16, 4096}},
	} {
		b.Run(c.name, func(b *testing.B) {
			x := benchSignals(c.shape...)
			y := core.Randn(rand.New(rand.NewPCG(2, 2)), c.shape...)
			d := DistanceV1()
			b.SetBytes(int64(4 * x.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				y.SetRequiresGrad(true)
				y.ZeroGrad()
				tp := core.NewTape()
				res := d.Distance(tp, x, y)
				tp.Backward(res.Total)
			}
		})
	}
}

// BenchmarkMultiScaleSpectralDistanceForward measures the forward pass alone.
func BenchmarkMultiScaleSpectralDistanceForward(b *testing.B) {
	x := benchSignals(8, 1, 65536)
	y := core.Randn(rand.New(rand.NewPCG(2, 2)), 8, 1, 65536)
	d := DistanceV1()
	b.ReportAllocs()
	for range b.N {
		d.Distance(nil, x, y)
	}
}

// BenchmarkSTFT measures STFTMagnitude forward and backward on 8 × 65 536
// samples at every scale of the distance (hop n/4, centred, normalized).
func BenchmarkSTFT(b *testing.B) {
	for _, n := range []int{2048, 1024, 512, 256, 128} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			x := benchSignals(8, 65536)
			cfg := STFTConfig{NFFT: n, Hop: n / 4, Center: true, Normalized: true}
			b.SetBytes(int64(4 * x.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				x.SetRequiresGrad(true)
				tp := core.NewTape()
				out := STFTMagnitude(tp, x, cfg)
				tp.BackwardFrom(out, out.Data())
			}
		})
	}
}

// BenchmarkDFTMethods compares, for every FFT size, gonum's float64 real
// FFT (parallel over frames), the direct DFT-basis GEMM and the two-stage
// GEMM with several splits, on one forward and one adjoint transform of all
// the frames of 8 × 65 536 samples (hop n/4). The size table dftMethods in
// stftplan.go keeps the fastest; see its comment for the figures.
func BenchmarkDFTMethods(b *testing.B) {
	x := benchSignals(8, 65536)
	for _, n := range []int{2048, 1024, 512, 256, 128} {
		methods := []dftMethod{{fft: true}, {n1: 1}}
		for n1 := 4; n1 <= 64 && n/n1 >= 4; n1 *= 2 {
			methods = append(methods, dftMethod{n1: n1})
		}
		for _, m := range methods {
			b.Run(fmt.Sprintf("%d/%s", n, methodName(m)), func(b *testing.B) {
				pl := newPlan(n, true, m)
				fr := newFraming(x.Data(), 8, 65536, n, n/4, true)
				total := fr.total()
				cf := pl.chunkFrames(total)
				z, nyq := make([]float32, cf*n), make([]float32, cf)
				dpad := make([]float32, fr.signals*fr.padded)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					for g0 := 0; g0 < total; g0 += cf {
						c := min(cf, total-g0)
						pl.forward(z, nyq, fr, g0, c)
						pl.adjoint(dpad, z, nyq, fr, g0, c)
					}
				}
			})
		}
	}
}

// BenchmarkPQMFAnalysis measures the 16-band analysis of 8 × 65 536 samples.
func BenchmarkPQMFAnalysis(b *testing.B) {
	p, err := NewPQMF(16, 100)
	if err != nil {
		b.Fatal(err)
	}
	x := benchSignals(8, 1, 65536)
	b.SetBytes(int64(4 * x.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p.Analysis(nil, x)
	}
}

// BenchmarkPQMFSynthesis measures the 16-band synthesis of 8 × 65 536
// samples, forward and backward (the prediction path of training).
func BenchmarkPQMFSynthesis(b *testing.B) {
	p, err := NewPQMF(16, 100)
	if err != nil {
		b.Fatal(err)
	}
	y := benchSignals(8, 16, 4096)
	b.SetBytes(int64(4 * y.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		y.SetRequiresGrad(true)
		y.ZeroGrad()
		tp := core.NewTape()
		out := p.Synthesis(tp, y)
		tp.BackwardFrom(out, out.Data())
	}
}

// BenchmarkLoudness measures the v1 loudness distance forward and backward
// on 8 × 65 536 samples.
func BenchmarkLoudness(b *testing.B) {
	m := NewLoudnessMeter(48000, 512)
	x := benchSignals(8, 1, 65536)
	y := core.Randn(rand.New(rand.NewPCG(2, 2)), 8, 1, 65536)
	b.ReportAllocs()
	for range b.N {
		y.SetRequiresGrad(true)
		tp := core.NewTape()
		tp.Backward(m.Distance(tp, x, y))
	}
}

// BenchmarkNoiseFilter measures the v1 noise synthesis of a batch of 8
// (64 frames of 16 bands × 64 samples), forward and backward.
func BenchmarkNoiseFilter(b *testing.B) {
	nf := NewNoiseFilter(16, 5, 64)
	rng := rand.New(rand.NewPCG(1, 1))
	amp := core.New(nil, 8, 80, 64)
	for i := range amp.Data() {
		amp.Data()[i] = rng.Float32()
	}
	b.ReportAllocs()
	for range b.N {
		amp.SetRequiresGrad(true)
		tp := core.NewTape()
		out := nf.Synthesize(tp, amp, rng)
		tp.BackwardFrom(out, out.Data())
	}
}
