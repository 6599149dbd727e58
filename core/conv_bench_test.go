package core_test

import (
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// BenchmarkConv1d times the conv layers of RAVE v1 at training size (batch
// 8 × 65 536 samples), forward and forward+backward, reporting GFLOPS.
func BenchmarkConv1d(b *testing.B) {
	for _, c := range core.BenchConvCases {
		rng := rand.New(rand.NewPCG(1, 1))
		x, w, bias := c.Inputs(rng)
		b.Run("forward/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Run(nil, x, w, bias)
			}
			b.ReportMetric(c.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
		b.Run("forward_backward/"+c.Name, func(b *testing.B) {
			b.ReportAllocs()
			tp := core.NewTape()
			for b.Loop() {
				tp.Reset()
				x.ZeroGrad()
				y := c.Run(tp, x, w, bias)
				seed := make([]float32, y.Len())
				seed[0] = 1
				tp.BackwardFrom(y, seed)
			}
			b.ReportMetric(3*c.Flops()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

// BenchmarkLeakyConv1d times forward+backward of LeakyReLU followed by a
// v1 conv layer at training size, fused (LeakyConv1d) and as the
// composition Conv1d(LeakyReLU(x)), on a recycling tape as in training.
func BenchmarkLeakyConv1d(b *testing.B) {
	for _, c := range core.BenchConvCases {
		if c.Transposed {
			continue
		}
		rng := rand.New(rand.NewPCG(1, 1))
		x, w, bias := c.Inputs(rng)
		for _, fused := range []bool{true, false} {
			name := "fused/"
			if !fused {
				name = "composite/"
			}
			b.Run(name+c.Name, func(b *testing.B) {
				tp := core.NewTape()
				tp.SetRecycling(true)
				var seed []float32
				for b.Loop() {
					tp.Reset()
					x.SetGrad(nil)
					// x is made by an op, as the activations of the model
					// are, so that its gradient comes from the tape.
					h := tp.Scale(x, 1)
					var y *core.Tensor
					if fused {
						y = tp.LeakyConv1d(h, w, bias, 0.2, c.Params())
					} else {
						y = tp.Conv1d(tp.LeakyReLU(h, 0.2), w, bias, c.Params())
					}
					if seed == nil {
						seed = make([]float32, y.Len())
						seed[0] = 1
					}
					tp.BackwardFrom(y, seed)
				}
			})
		}
	}
}
