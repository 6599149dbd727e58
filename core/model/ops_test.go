package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	gc "github.com/ravestation/rave/core/internal/gradcheck"
	"github.com/ravestation/rave/core/internal/nn"
)

// TestGradients runs every differentiable op and composition of the model
// package through the shared finite-difference harness.
func TestGradients(t *testing.T) {
	gc.Run(t, 100, []gc.Case{
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
		{"envelope_distance", []gc.Input{gc.Const(gc.Signed, 2, 1, 12), gc.In(gc.Signed, 2, 1, 12)},
			func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				// y about twice x: every frame's log ratio far from the kink at 0.
				return EnvelopeDistance(tp, x[0], tp.Add(tp.Scale(x[0], 2), tp.Scale(x[1], 0.05)), 4)
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
				h := tp.Conv1d(tp.Tanh(x[0]), nn.WeightNorm(tp, x[1], x[2]), nil, core.ConvParams{Dilation: 3, PadLeft: 3, PadRight: 3})
				h = tp.Conv1d(tp.Tanh(h), nn.WeightNorm(tp, x[3], x[4]), nil, core.ConvParams{PadLeft: 1, PadRight: 1})
				return tp.Add(x[0], h)
			}},
	})
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

// TestEnvelopeDistance checks the envelope term on signals whose frame
// powers are known.
func TestEnvelopeDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, 2*1024)
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * 0.1
	}
	scaled := func(g float32, from int) []float32 {
		y := make([]float32, len(x))
		for i := range y {
			y[i] = x[i]
			if i%1024 >= from {
				y[i] *= g
			}
		}
		return y
	}
	for _, c := range []struct {
		name string
		y    []float32
		want float64
	}{
		{"equal", scaled(1, 0), 0},
		{"sign flipped", scaled(-1, 0), 0},
		{"6 dB quieter", scaled(0.5, 0), math.Log(4)},
		{"second half of each example 20 dB louder", scaled(10, 512), math.Log(100) / 2},
		{"silent", make([]float32, len(x)), math.Log(0.01 / EnvelopeFloor)},
	} {
		got := EnvelopeDistance(nil, core.New(x, 2, 1, 1024), core.New(c.y, 2, 1, 1024), 256).Item()
		// "silent": each frame's power is about 0.01, not exactly.
		tol := 1e-5
		if c.name == "silent" {
			tol = 0.1
		}
		if math.Abs(float64(got)-c.want) > tol {
			t.Errorf("%s: %g, want %g", c.name, got, c.want)
		}
	}
}
