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
