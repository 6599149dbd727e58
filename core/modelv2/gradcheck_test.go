package modelv2

import (
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/gradcheck"
	"github.com/ravestation/rave/core/internal/nn"
)

// tinyNoise is a noise generator with one convolution (no activation, so
// no kink for the finite differences to cross): 2 bands, 3 noise bands,
// blocks of 2 samples, fed 3 channels.
func tinyNoise() *NoiseGenerator {
	ps := core.NewParamSet()
	n := newNoiseGenerator(ps, "noise", 3, 2, NoiseConfig{HiddenSize: 4, Ratios: []int{2}, NoiseBands: 3})
	ps.Alloc()
	return n
}

// TestGradients checks every differentiable function of the package
// against central finite differences (core/internal/gradcheck). The
// custom op is PeriodFold; the others (the causal PQMF of Config.Causal
// among them) are compositions of core ops whose wiring is checked here (the weight norm and the posterior's math are
// core/internal/nn's, checked there). Inputs avoid the kinks of |·| and ReLU.
func TestGradients(t *testing.T) {
	causal := causalModel(t)
	gradcheck.Run(t, 1, []gradcheck.Case{
		{
			Name:   "PeriodFold/ragged",
			Inputs: []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 2, 10)},
			F:      func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return PeriodFold(tp, x[0], 3) },
		},
		{
			Name:   "PeriodFold/exact",
			Inputs: []gradcheck.Input{gradcheck.In(gradcheck.Signed, 1, 1, 12)},
			F:      func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return PeriodFold(tp, x[0], 4) },
		},
		{
			Name:   "AmplitudeModulation",
			Inputs: []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 4, 5)},
			F:      func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return AmplitudeModulation(tp, x[0]) },
		},
		{
			Name:   "Posterior+KL",
			Inputs: []gradcheck.Input{gradcheck.In(gradcheck.Signed, 2, 6, 3)},
			F: func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				mean, _, std := Posterior(tp, x[0])
				return nn.KL(tp, mean, std)
			},
		},
		{
			Name:   "ValidSignalCrop",
			Inputs: []gradcheck.Input{gradcheck.In(gradcheck.Signed, 1, 4, 20)},
			F:      func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return ValidSignalCrop(tp, x[0], 9, 13) },
		},
		{
			// Real maps positive, fake maps within ±0.1: |r − f| stays away
			// from 0. The skipped first map must get no gradient (Const).
			Name: "FeatureMatching",
			Inputs: []gradcheck.Input{
				gradcheck.Const(gradcheck.Positive, 1, 2, 6), gradcheck.Const(gradcheck.Positive, 1, 1, 6),
				gradcheck.Const(gradcheck.Signed, 1, 2, 6),
				gradcheck.In(gradcheck.Signed, 1, 2, 6), gradcheck.In(gradcheck.Signed, 1, 1, 6),
			},
			F: func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				real := Features{{x[0], x[0], x[1]}}
				fake := Features{{x[2], tp.Scale(x[3], 0.1), tp.Scale(x[4], 0.1)}}
				fm, _ := FeatureMatching(tp, real, fake, 1)
				return fm
			},
		},
		{
			Name: "HingeLosses",
			Inputs: []gradcheck.Input{
				gradcheck.In(gradcheck.Signed, 1, 1, 5), gradcheck.In(gradcheck.Signed, 2, 1, 3),
			},
			F: func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				// Scores in [−0.5, 0.5], away from the hinges at ±1.
				r, f := tp.Scale(x[0], 0.5), tp.Scale(x[1], 0.5)
				h := HingeLosses(tp, Features{{r}, {r}}, Features{{f}, {f}})
				return tp.Concat(0, tp.Reshape(h.Dis, 1), tp.Reshape(h.Adv, 1))
			},
		},
		{
			Name: "NoiseGenerator",
			Inputs: []gradcheck.Input{
				gradcheck.In(gradcheck.Signed, 1, 3, 8), gradcheck.In(gradcheck.Signed, 6, 3, 4),
			},
			F: func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
				n := tinyNoise()
				n.convs[0].w = x[1]
				// A fixed excitation: the same draw on every call.
				return n.Forward(tp, tp.Scale(x[0], 4), rand.New(rand.NewPCG(7, 7)))
			},
		},
		{
			Name:   "Analysis/causal",
			Inputs: []gradcheck.Input{gradcheck.In(gradcheck.Signed, 1, 1, 48)},
			F:      func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return causal.Analysis(tp, x[0]) },
		},
		{
			Name:   "Synthesis/causal",
			Inputs: []gradcheck.Input{gradcheck.In(gradcheck.Signed, 1, 16, 3)},
			F:      func(tp *core.Tape, x []*core.Tensor) *core.Tensor { return causal.Synthesis(tp, x[0]) },
		},
	})
}

// causalModel returns a v2-small model with Config.Causal, whose PQMF
// (padded (L, 0) and (L/M, 0)) the gradient check runs.
func causalModel(t testing.TB) *Model {
	t.Helper()
	cfg, err := Preset("v2-small")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Causal = true
	m, err := New(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPeriodFoldLayout checks PeriodFold and ReferenceLayout against the
// reference's fold, (B, C, T) → pad → (B, C, T/p, p), on a small example.
func TestPeriodFoldLayout(t *testing.T) {
	cases := []struct {
		name    string
		b, t, p int
	}{
		{"exact", 2, 6, 3},
		{"ragged", 1, 7, 3},
		{"period 1", 1, 5, 1},
		{"period longer than signal", 1, 2, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := core.Zeros(c.b, 1, c.t)
			for i := range x.Data() {
				x.Data()[i] = float32(i + 1)
			}
			h := (c.t + c.p - 1) / c.p
			y := PeriodFold(nil, x, c.p)
			if want := []int{c.b * c.p, 1, h}; !sameDims(y.Shape(), want) {
				t.Fatalf("PeriodFold shape %v, want %v", y.Shape(), want)
			}
			d := &Discriminator{periods: []int{c.p}}
			ref := d.ReferenceLayout(0, c.b, y)
			for b := range c.b {
				for k := range h {
					for j := range c.p {
						var want float32
						if i := k*c.p + j; i < c.t {
							want = x.Data()[b*c.t+i]
						}
						if got := ref.Data()[(b*h+k)*c.p+j]; got != want {
							t.Fatalf("fold[%d, 0, %d, %d] = %g, want %g", b, k, j, got, want)
						}
					}
				}
			}
		})
	}
}
