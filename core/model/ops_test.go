package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	gc "github.com/ravestation/rave/core/internal/gradcheck"
)

// TestGradients runs every differentiable op and composition of the model
// package through the shared finite-difference harness.
func TestGradients(t *testing.T) {
	cases := []struct {
		name   string
		inputs []gc.Input
		f      func(tp *core.Tape, x []*core.Tensor) *core.Tensor
	}{
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
		{"mod_sigmoid", []gc.Input{gc.In(gc.Signed, 2, 3, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return ModSigmoid(tp, tp.Scale(x[0], 3)) }},
		{"posterior_std", []gc.Input{gc.In(gc.Signed, 2, 3, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return PosteriorStd(tp, tp.Scale(x[0], 4)) }},
		{"kl", []gc.Input{gc.In(gc.Signed, 2, 3, 5), gc.In(gc.Signed, 2, 3, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return KL(tp, x[0], PosteriorStd(tp, x[1])) }},
		{"reparameterize_fixed_noise", []gc.Input{gc.In(gc.Signed, 2, 3, 5), gc.In(gc.Signed, 2, 3, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				// A fresh rng per call: the same ε every evaluation.
				z, _ := Reparameterize(tp, x[0], PosteriorStd(tp, x[1]), rand.New(rand.NewPCG(7, 7)))
				return z
			}},
		{"repeat_time", []gc.Input{gc.In(gc.Signed, 2, 1, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return repeatTime(tp, x[0], 3) }},
		{"reverse_half", []gc.Input{gc.In(gc.Signed, 2, 4, 6)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return dsp.ReverseHalf(tp, x[0]) }},
		{"interleave", []gc.Input{gc.In(gc.Signed, 2, 4, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return dsp.Interleave(tp, x[0], 4, true) }},
		{"hinge_discriminator/active", []gc.Input{gc.In(gc.Signed, 2, 1, 5), gc.In(gc.Signed, 2, 1, 3), gc.In(gc.Signed, 2, 1, 5), gc.In(gc.Signed, 2, 1, 3)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				// |scores| ≤ 0.9: both hinges active everywhere.
				s := func(t *core.Tensor) *core.Tensor { return tp.Scale(t, 0.9) }
				return HingeDiscriminatorLoss(tp, [][]*core.Tensor{{s(x[0])}, {s(x[1])}}, [][]*core.Tensor{{s(x[2])}, {s(x[3])}})
			}},
		{"hinge_discriminator/saturated", []gc.Input{gc.In(gc.Signed, 2, 1, 5), gc.In(gc.Signed, 2, 1, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				// Real scores > 1 and fake scores < −1: zero loss and gradient.
				return HingeDiscriminatorLoss(tp, [][]*core.Tensor{{tp.AddScalar(x[0], 3)}}, [][]*core.Tensor{{tp.AddScalar(x[1], -3)}})
			}},
		{"hinge_generator", []gc.Input{gc.In(gc.Signed, 2, 1, 5), gc.In(gc.Signed, 1, 1, 3)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				return HingeGeneratorLoss(tp, [][]*core.Tensor{{x[0]}, {x[1]}})
			}},
		{"feature_matching", []gc.Input{gc.Const(gc.Signed, 1, 2, 5), gc.Const(gc.Signed, 1, 1, 5), gc.In(gc.Signed, 1, 2, 5), gc.In(gc.Signed, 1, 1, 5)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				// Fake features offset by ±0.05 so |real − fake| stays away from its kink.
				f0, f1 := tp.Add(x[0], tp.Scale(x[2], 0.05)), tp.Add(x[1], tp.AddScalar(tp.Scale(x[3], 0.01), 0.3))
				return FeatureMatchingLoss(tp, [][]*core.Tensor{{x[0], x[1]}}, [][]*core.Tensor{{f0, f1}})
			}},
		// The residual block with tanh in place of LeakyReLU (whose kink at 0
		// the finite differences would straddle; LeakyReLU is checked in core).
		{"residual_block", []gc.Input{gc.In(gc.Signed, 1, 3, 9), gc.In(gc.Positive, 3, 1, 1), gc.In(gc.AwayZero, 3, 3, 3), gc.In(gc.Positive, 3, 1, 1), gc.In(gc.AwayZero, 3, 3, 3)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				h := tp.Conv1d(tp.Tanh(x[0]), WeightNorm(tp, x[1], x[2]), nil, core.ConvParams{Dilation: 3, PadLeft: 3, PadRight: 3})
				h = tp.Conv1d(tp.Tanh(h), WeightNorm(tp, x[3], x[4]), nil, core.ConvParams{PadLeft: 1, PadRight: 1})
				return tp.Add(x[0], h)
			}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := gc.Check(uint64(100+i), c.inputs, c.f); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestModelGradients checks a whole (tiny, custom) model end to end: the
// gradient of a scalar function of Decode(Encode(x)) with respect to the
// input, through PQMF, encoder (BN in training mode), posterior and the
// weight-normed decoder.
func TestModelGradients(t *testing.T) {
	cfg, _ := Preset("tiny")
	cfg.Capacity, cfg.LatentSize, cfg.Ratios, cfg.DataSize = 2, 2, []int{2}, 2
	cfg.UseNoise = false
	m, err := New(cfg, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	m.Encoder.Training = true
	// At least 9 samples at the first residual stage (dilation 9): core's
	// im2col panics when the padding exceeds the signal length.
	T := 12 * cfg.CompressionRatio()
	err = gc.Check(5, []gc.Input{gc.In(gc.Signed, 2, 1, T)}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
		mean, std := m.Encode(tp, x[0])
		z, _ := Reparameterize(tp, mean, std, rand.New(rand.NewPCG(1, 1)))
		return m.Decode(tp, z, false, nil)
	})
	if err != nil {
		t.Fatal(err)
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
