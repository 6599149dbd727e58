package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/ravestation/rave/core"
	gc "github.com/ravestation/rave/core/internal/gradcheck"
)

// TestGradients runs the package's differentiable functions, alone and
// feeding the convolutions they serve, through the shared
// finite-difference harness.
func TestGradients(t *testing.T) {
	gc.Run(t, 100, []gc.Case{
		{"weight_norm/conv", []gc.Input{gc.In(gc.Positive, 3, 1, 1), gc.In(gc.AwayZero, 3, 2, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return WeightNorm(tp, x[0], x[1]) }},
		{"weight_norm/conv_transpose", []gc.Input{gc.In(gc.Signed, 4, 1, 1), gc.In(gc.AwayZero, 4, 3, 4)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return WeightNorm(tp, x[0], x[1]) }},
		{"weight_norm/g_only", []gc.Input{gc.In(gc.Signed, 2, 1, 1), gc.Const(gc.AwayZero, 2, 3, 3)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return WeightNorm(tp, x[0], x[1]) }},
		{"weight_norm_conv1d", []gc.Input{gc.In(gc.Signed, 2, 4, 11), gc.In(gc.Positive, 6, 1, 1), gc.In(gc.AwayZero, 6, 2, 3), gc.In(gc.Signed, 6)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				w := WeightNorm(tp, x[1], x[2])
				return tp.Conv1d(x[0], w, x[3], core.ConvParams{Groups: 2, Dilation: 3, PadLeft: 3, PadRight: 3})
			}},
		{"weight_norm_conv_transpose1d", []gc.Input{gc.In(gc.Signed, 2, 4, 7), gc.In(gc.Positive, 4, 1, 1), gc.In(gc.AwayZero, 4, 3, 8)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				return tp.ConvTranspose1d(x[0], WeightNorm(tp, x[1], x[2]), nil, core.ConvTransposeParams{Stride: 4, Padding: 2})
			}},
		{"weight_norm/conv2d", []gc.Input{gc.In(gc.Signed, 2, 1, 1, 1), gc.In(gc.AwayZero, 2, 3, 5, 1)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return WeightNorm(tp, x[0], x[1]) }},
		{"posterior_kl", []gc.Input{gc.In(gc.Signed, 2, 3, 5), gc.In(gc.Signed, 2, 3, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				return KL(tp, x[0], PosteriorStd(tp, tp.Scale(x[1], 4)))
			}},
		{"reparameterize", []gc.Input{gc.In(gc.Signed, 1, 3, 4), gc.In(gc.Positive, 1, 3, 4), gc.Const(gc.Signed, 1, 3, 4)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return Reparameterize(tp, x[0], x[1], x[2]) }},
	})
}

// TestInitConv checks PyTorch's default initialisation: weight and bias
// within ±1/√fan_in, drawn in that order, and weight_g = ‖weight_v‖ per
// output slice.
func TestInitConv(t *testing.T) {
	ps := core.NewParamSet()
	_, g, v := DeclareWeight(ps, "conv", []int{3, 4, 5}, true)
	b := ps.Add("conv.bias", 3)
	ps.Alloc()
	InitConv(rand.New(rand.NewPCG(1, 1)), nil, g, v, b)
	bound := 1 / math.Sqrt(4*5)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, x := range append(append([]float32{}, v.Data()...), b.Data()...) {
		if want := float32((2*rng.Float64() - 1) * bound); x != want {
			t.Fatalf("InitConv drew %v, want %v (weight, then bias)", x, want)
		}
	}
	for o := range 3 {
		var s float64
		for _, x := range v.Data()[o*20 : (o+1)*20] {
			s += float64(x) * float64(x)
		}
		if got, want := float64(g.Data()[o]), math.Sqrt(s); math.Abs(got-want) > 1e-6*want {
			t.Errorf("weight_g[%d] = %v, want ‖weight_v[%d]‖ = %v", o, got, o, want)
		}
	}
	if s := g.Shape(); len(s) != 3 || s[0] != 3 || s[1] != 1 || s[2] != 1 {
		t.Errorf("weight_g shape %v, want [3 1 1]", s)
	}
}

// TestWeightNormValue checks g·v/‖v‖ against a direct computation.
func TestWeightNormValue(t *testing.T) {
	g := core.New([]float32{2, -1}, 2, 1, 1)
	v := core.New([]float32{3, 4, 0, 0, 5, 12}, 2, 1, 3)
	w := WeightNorm(nil, g, v)
	want := []float32{1.2, 1.6, 0, 0, -5.0 / 13, -12.0 / 13}
	for i, x := range w.Data() {
		if math.Abs(float64(x-want[i])) > 1e-6 {
			t.Fatalf("WeightNorm = %v, want %v", w.Data(), want)
		}
	}
}

// weightNormSerial is the reference computation of WeightNorm and its
// backward (one row after another, float64), for comparing bits.
func weightNormSerial(g, v, gw []float32, rows int) (w, dg, dv []float32) {
	n := len(v) / rows
	w, dg, dv = make([]float32, len(v)), make([]float32, rows), make([]float32, len(v))
	for o := range rows {
		// Four partial sums, element i in sum i mod 4, added as (0+1)+(2+3).
		var s, d [4]float64
		for i := range n {
			x := float64(v[o*n+i])
			s[i%4] += x * x
			d[i%4] += float64(gw[o*n+i]) * x
		}
		nrm := math.Sqrt((s[0] + s[1]) + (s[2] + s[3]))
		dot := (d[0] + d[1]) + (d[2] + d[3])
		for i := range n {
			w[o*n+i] = float32(float64(v[o*n+i]) * (float64(g[o]) / nrm))
		}
		dg[o] = float32(dot / nrm)
		k, c := float64(g[o])/nrm, dot/(nrm*nrm)
		for i := range n {
			dv[o*n+i] = float32(k * (float64(gw[o*n+i]) - float64(v[o*n+i])*c))
		}
	}
	return w, dg, dv
}

// TestWeightNormParallelBits checks that the parallel WeightNorm gives the
// bits of the serial computation, value and gradients, on plain and
// recycling tapes over several steps (the recycled effective weight is
// rewritten every step) and on one thread and all of them.
func TestWeightNormParallelBits(t *testing.T) {
	for _, c := range []struct {
		name  string
		shape []int
	}{
		{"conv_64x64x3", []int{64, 64, 3}},
		{"disc_256x64x41", []int{256, 64, 41}},
		{"transpose_512x256x8", []int{512, 256, 8}},
		{"rows_3x5000x7", []int{3, 5000, 7}},
	} {
		for _, recycle := range []bool{false, true} {
			for _, procs := range []int{1, runtime.GOMAXPROCS(0)} {
				t.Run(fmt.Sprintf("%s/recycle=%v/procs=%d", c.name, recycle, procs), func(t *testing.T) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
					rng := rand.New(rand.NewPCG(11, uint64(len(c.name))))
					rows := c.shape[0]
					v := core.Randn(rng, c.shape...).SetRequiresGrad(true)
					g := core.Randn(rng, rows, 1, 1).SetRequiresGrad(true)
					tp := core.NewTape()
					tp.SetRecycling(recycle)
					for step := range 3 {
						tp.Reset()
						g.SetGrad(nil)
						v.SetGrad(nil)
						seed := core.Randn(rng, c.shape...).Data()
						w := WeightNorm(tp, g, v)
						want, wantG, wantV := weightNormSerial(g.Data(), v.Data(), seed, rows)
						sameBits(t, fmt.Sprintf("step %d: w", step), w.Data(), want)
						tp.BackwardFrom(w, seed)
						sameBits(t, fmt.Sprintf("step %d: dg", step), g.Grad(), wantG)
						sameBits(t, fmt.Sprintf("step %d: dv", step), v.Grad(), wantV)
						// Change the parameters as an optimiser step would.
						for i := range v.Data() {
							v.Data()[i] += 0.01 * seed[i]
						}
					}
				})
			}
		}
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// BenchmarkWeightNorm measures WeightNorm forward and backward on the
// largest weight-normed layers of the v1 preset, on a recycling tape as in
// training.
func BenchmarkWeightNorm(b *testing.B) {
	for _, shape := range [][]int{{1024, 512, 8}, {512, 512, 3}, {1024, 256, 41}} {
		b.Run(fmt.Sprintf("%dx%dx%d", shape[0], shape[1], shape[2]), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			v := core.Randn(rng, shape...).SetRequiresGrad(true)
			g := core.Randn(rng, shape[0], 1, 1).SetRequiresGrad(true)
			seed := core.Randn(rng, shape...).Data()
			tp := core.NewTape()
			tp.SetRecycling(true)
			b.SetBytes(int64(4 * v.Len()))
			for b.Loop() {
				tp.Reset()
				tp.BackwardFrom(WeightNorm(tp, g, v), seed)
			}
		})
	}
}
