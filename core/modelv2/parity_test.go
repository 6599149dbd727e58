package modelv2

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/nn"
)

// Tolerances of the gradients of the spectral loss. The fixture README
// measures the reference's own float32-vs-float64 spread at 1.7e-3 for the
// gradients with respect to parameters and decoder output (3.3e-2 after 50
// training steps) and 1.2e-2 for the input's: the log(|STFT| + 1e-7) terms
// weigh bins where |Y| is tiny by ~1/|Y|, and the phase of such a bin is
// rounding noise. Three checks split the end-to-end gradient:
//
//   - the loss's backward alone, d loss/d dec_out_mb evaluated at the
//     reference's own output: lossGradTol, the README's 1.7e-3
//     (TestParityLossGradient);
//   - the network's backward alone, driven by the reference's
//     d loss/d dec_out_mb: forwardTol (TestParityBackwardChain), as for the
//     probe (TestParityProbe);
//   - end to end, the loss evaluated at our own output: our float32 output
//     differs from the reference's by ~4e-7 relative, like the reference's
//     own float32 run, but which near-silent bins that rounding flips
//     differs. On the fixture one STFT bin at the start of band 14 carries
//     99% of the difference, and a perturbation of the output below
//     float32 rounding moves these gradients by 2e-2 to 2e-1
//     (TestSpectralGradientConditioning). endToEndGradTol only guards
//     against gross errors in the wiring of GeneratorStep.
const (
	lossGradTol     = 1.7e-3
	endToEndGradTol = 1e-1
)

// forwardPass is every forward tensor of the fixture computed by the model
// from the fixture's input and ε, without a tape.
func forwardPass(t testing.TB, m *Model, ref refFiles) map[string]*core.Tensor {
	t.Helper()
	out := map[string]*core.Tensor{}
	x := refTensor(t, ref.f64, "input")
	xmb := m.Analysis(nil, x)
	out["pqmf_analysis"] = xmb
	out["pqmf_reconstruction"] = m.Synthesis(nil, xmb)
	downs, raw := m.Encoder.Stages(nil, xmb)
	for i, d := range downs {
		out[fmt.Sprintf("enc_down%d", i+1)] = d
	}
	out["enc_out"] = raw
	mean, scale, std := Posterior(nil, raw)
	out["enc_mean"], out["enc_scale"], out["enc_std"] = mean, scale, std
	out["kl"] = nn.KL(nil, mean, std)
	z := nn.Reparameterize(nil, mean, std, refTensor(t, ref.f64, "eps"))
	out["z"] = z
	st := m.Generator.Stages(nil, z, nil)
	out["dec_in"] = st.In
	for i, b := range st.Blocks {
		out[fmt.Sprintf("dec_block%d", i+1)] = b
	}
	out["dec_wave_conv"], out["dec_pre_tanh"], out["dec_out_mb"] = st.Wave, st.PreTanh, st.Out
	out["dec_out_fb"] = m.Synthesis(nil, st.Out)
	fromMean := m.Generator.Forward(nil, mean, nil)
	out["dec_out_mb_from_mean"] = fromMean
	out["dec_out_fb_from_mean"] = m.Synthesis(nil, fromMean)
	for _, p := range []struct{ tag, x, y string }{
		{"mss_mb", "pqmf_analysis", "dec_out_mb"},
		{"mss_fb", "", "dec_out_fb"},
		{"mss_mb_from_mean", "pqmf_analysis", "dec_out_mb_from_mean"},
		{"mss_fb_from_mean", "", "dec_out_fb_from_mean"},
	} {
		target := x
		if p.x != "" {
			target = out[p.x]
		}
		d := m.SpectralDistance(nil, target, out[p.y])
		out[p.tag] = d.Total
		if !strings.HasSuffix(p.tag, "_from_mean") {
			out[p.tag+"_lin_per_scale"], out[p.tag+"_log_per_scale"] = vector(d.Lin), vector(d.Log)
		}
	}
	return out
}

// TestParityForward compares every forward key of v2_small_reference_f64:
// PQMF, encoder stages, posterior, KL, generator stages and outputs (from
// the sampled z and from the mean) and the spectral distances.
func TestParityForward(t *testing.T) {
	m, ref := fixtureModel(t)
	out := forwardPass(t, m, ref)
	keys := []string{
		"pqmf_analysis", "pqmf_reconstruction",
		"enc_down1", "enc_down2", "enc_down3", "enc_down4", "enc_out",
		"enc_mean", "enc_scale", "enc_std", "z", "kl",
		"dec_in", "dec_block1", "dec_block2", "dec_block3", "dec_block4",
		"dec_wave_conv", "dec_pre_tanh", "dec_out_mb", "dec_out_fb",
		"dec_out_mb_from_mean", "dec_out_fb_from_mean",
		"mss_mb", "mss_mb_lin_per_scale", "mss_mb_log_per_scale",
		"mss_fb", "mss_fb_lin_per_scale", "mss_fb_log_per_scale",
		"mss_mb_from_mean", "mss_fb_from_mean",
	}
	var checks []check
	for _, k := range keys {
		checks = append(checks, check{key: k, got: out[k], tol: forwardTol})
	}
	runChecks(t, ref, checks)
}

// TestParityEffectiveWeights compares the weight-normed weight of every
// layer (WeightNorm of the loaded weight_g, weight_v) with the reference's
// folded weights.
func TestParityEffectiveWeights(t *testing.T) {
	m, ref := fixtureModel(t)
	names := ref.effective.Names()
	if len(names) != 88 {
		t.Fatalf("effective weights file has %d arrays, want 88", len(names))
	}
	params := map[string]*core.Tensor{}
	for _, ps := range []*core.ParamSet{m.Enc, m.Dec, m.Disc} {
		for _, p := range ps.Params() {
			params[p.Name] = p
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(name, ".weight")
			g, v := params[base+".weight_g"], params[base+".weight_v"]
			if g == nil || v == nil {
				t.Fatalf("%s: model has no weight-normed layer %s", name, base)
			}
			e, err := compareKey(ref.effective, name, WeightNorm(nil, g, v))
			if err != nil {
				t.Fatal(err)
			}
			if e > 1e-6 {
				t.Fatalf("WeightNorm(%s) max relative error %.3g, want ≤ 1e-6", base, e)
			}
		})
	}
}

// TestParityDiscriminator compares the score maps of the eight
// sub-discriminators on the input (real) and on dec_out_fb (fake), the
// real feature maps 1–4, and the per-sub-discriminator feature-matching and
// hinge terms.
func TestParityDiscriminator(t *testing.T) {
	m, ref := fixtureModel(t)
	out := forwardPass(t, m, ref)
	x := refTensor(t, ref.f64, "input")
	d := m.Discriminator
	real, fake := d.Forward(nil, x), d.Forward(nil, out["dec_out_fb"])
	var checks []check
	for s, name := range d.Names() {
		last := len(real[s]) - 1
		checks = append(checks,
			check{key: "disc_real_logits." + name, got: d.ReferenceLayout(s, 1, real[s][last]), tol: forwardTol},
			check{key: "disc_fake_logits." + name, got: d.ReferenceLayout(s, 1, fake[s][last]), tol: forwardTol})
	}
	_, fm := FeatureMatching(nil, real, fake, m.Config.Training.SkippedFeatures)
	h := HingeLosses(nil, real, fake)
	checks = append(checks,
		check{key: "disc_fm_per_subdisc", got: vector(fm), tol: forwardTol},
		check{key: "disc_loss_dis_per_subdisc", got: vector(h.PerDis), tol: forwardTol},
		check{key: "disc_loss_adv_per_subdisc", got: vector(h.PerAdv), tol: forwardTol})
	runChecks(t, ref, checks)

	// The real feature maps (float32 reference only).
	for s, name := range d.Names() {
		for i := 1; i < len(real[s]); i++ {
			key := fmt.Sprintf("disc_real.%s.feat%d", name, i)
			t.Run(key, func(t *testing.T) {
				e, err := compareKey(ref.discReal, key, d.ReferenceLayout(s, 1, real[s][i]))
				if err != nil {
					t.Fatal(err)
				}
				if e > forwardTol {
					t.Fatalf("%s: max relative error %.3g, want ≤ %.3g", key, e, forwardTol)
				}
			})
		}
	}
}

// stage1Keys are the parameters whose stage-1 gradients the fixture holds
// (grad.*), also those of the probe (grad_probe.*).
var stage1Keys = []string{
	"encoder.encoder.net.0.weight_v", "encoder.encoder.net.5.weight_g", "encoder.encoder.net.21.weight_v",
	"decoder.net.0.weight_v", "decoder.net.2.weight_v", "decoder.net.17.aligned.branches.0.net.1.weight_v",
	"decoder.net.21.weight_g", "decoder.net.21.weight_v",
}

// TestParityStage1 runs the first stage-1 generator batch of
// RAVE.training_step (β at batch 1, the fixture's ε, no crop) and compares
// the logged terms, the loss, the learning rate after the step and the
// gradients of the parameters, of the decoder output and of the input.
func TestParityStage1(t *testing.T) {
	m, ref := fixtureModel(t)
	x := refTensor(t, ref.f64, "input").SetRequiresGrad(true)
	zeroGrads(m)
	tp := core.NewTape()
	st := m.GeneratorStep(tp, x, StepOptions{Beta: m.Config.Beta(1), Eps: refTensor(t, ref.f64, "eps")})
	tp.Backward(st.Loss)
	l := st.Losses
	checks := []check{
		{"stage1_beta", scalar(l.Beta), forwardTol},
		{"stage1_multiband_spectral_distance", scalar(l.MultiBand), forwardTol},
		{"stage1_fullband_spectral_distance", scalar(l.FullBand), forwardTol},
		{"stage1_regularization", scalar(l.Regularization), forwardTol},
		{"stage1_loss", st.Loss, forwardTol},
		{"stage1_lr_after_step", scalar(m.Config.GeneratorLR(1)), forwardTol},
		{"grad_y.dec_out_mb", core.New(st.YMB.Grad(), st.YMB.Shape()...), endToEndGradTol},
		{"grad_x.input", core.New(x.Grad(), x.Shape()...), endToEndGradTol},
	}
	for _, name := range stage1Keys {
		checks = append(checks, check{"grad." + name, paramGrad(t, m, name), endToEndGradTol})
	}
	runChecks(t, ref, checks)
}

// TestParityStage2 runs a stage-2 generator batch (encoder frozen, feature
// matching weighted 20·20, hinge adversarial term) and a discriminator
// batch on the same input and ε, comparing the logged values and the
// fixture's gradients.
func TestParityStage2(t *testing.T) {
	m, ref := fixtureModel(t)
	x := refTensor(t, ref.f64, "input")
	opt := StepOptions{Beta: m.Config.Beta(1), WarmedUp: true, Eps: refTensor(t, ref.f64, "eps")}

	zeroGrads(m)
	tp := core.NewTape()
	gen := m.GeneratorStep(tp, x, opt)
	tp.Backward(gen.Loss)
	l := gen.Losses
	checks := []check{
		{"stage2_multiband_spectral_distance", scalar(l.MultiBand), forwardTol},
		{"stage2_fullband_spectral_distance", scalar(l.FullBand), forwardTol},
		{"stage2_regularization", scalar(l.Regularization), forwardTol},
		{"stage2_feature_matching", scalar(l.FeatureMatching), forwardTol},
		{"stage2_adversarial", scalar(l.Adversarial), forwardTol},
		{"stage2_loss_dis", scalar(l.LossDis), forwardTol},
		{"stage2_pred_real", scalar(l.PredReal), forwardTol},
		{"stage2_pred_fake", scalar(l.PredFake), forwardTol},
		{"stage2_gen_loss", gen.Loss, forwardTol},
	}
	for _, name := range []string{"decoder.net.0.weight_v", "decoder.net.21.weight_v"} {
		checks = append(checks, check{"grad_stage2." + name, paramGrad(t, m, name), endToEndGradTol})
	}
	for _, g := range m.Enc.Grad() {
		if g != 0 {
			t.Fatal("stage 2: the frozen encoder received a gradient")
		}
	}

	zeroGrads(m)
	tp = core.NewTape()
	dis := m.DiscriminatorStep(tp, x, opt)
	tp.Backward(dis.Loss)
	checks = append(checks, check{"stage2_loss_dis", dis.Loss, forwardTol}, check{"stage2_gen_loss", scalar(dis.Losses.Generator), forwardTol})
	for _, name := range []string{
		"discriminator.discriminators.0.layers.0.net.0.weight_v",
		"discriminator.discriminators.1.layers.2.net.8.weight",
	} {
		checks = append(checks, check{"grad_dis." + name, paramGrad(t, m, name), forwardTol})
	}
	for _, ps := range []*core.ParamSet{m.Enc, m.Dec} {
		for _, g := range ps.Grad() {
			if g != 0 {
				t.Fatal("discriminator batch: a generator parameter received a gradient")
			}
		}
	}
	runChecks(t, ref, checks)
}

// TestParityProbe differentiates the well-conditioned probe Σ dec_out_mb ·
// probe_w (through generator, posterior sample and encoder) and compares
// its value and gradients at the forward tolerance.
func TestParityProbe(t *testing.T) {
	m, ref := fixtureModel(t)
	x := refTensor(t, ref.f64, "input")
	zeroGrads(m)
	tp := core.NewTape()
	mean, _, std := Posterior(tp, m.Encode(tp, x))
	z := nn.Reparameterize(tp, mean, std, refTensor(t, ref.f64, "eps"))
	y := m.Generator.Forward(tp, z, nil)
	probe := tp.Sum(tp.Mul(y, refTensor(t, ref.f64, "probe_w")), false)
	tp.Backward(probe)
	checks := []check{{"probe_loss", probe, forwardTol}}
	for _, name := range stage1Keys {
		checks = append(checks, check{"grad_probe." + name, paramGrad(t, m, name), forwardTol})
	}
	runChecks(t, ref, checks)
}

// lossGradient returns d(multiband + fullband distance)/d y for the
// multiband output y, the input x being the target.
func lossGradient(m *Model, x, y *core.Tensor) *core.Tensor {
	tp := core.NewTape()
	y = y.Clone().SetRequiresGrad(true)
	mb := m.SpectralDistance(tp, m.Analysis(nil, x), y).Total
	fb := m.SpectralDistance(tp, x, m.Synthesis(tp, y)).Total
	tp.Backward(tp.Add(mb, fb))
	return core.New(y.Grad(), y.Shape()...)
}

// TestParityLossGradient compares the gradient of the stage-1 spectral
// loss with respect to the decoder output, evaluated at the reference's
// own output, with grad_y.dec_out_mb (the KL does not depend on it).
func TestParityLossGradient(t *testing.T) {
	m, ref := fixtureModel(t)
	x := refTensor(t, ref.f64, "input")
	g := lossGradient(m, x, refTensor(t, ref.f64, "dec_out_mb"))
	runChecks(t, ref, []check{{"grad_y.dec_out_mb", g, lossGradTol}})
}

// TestSpectralGradientConditioning measures how far a perturbation of the
// decoder output well below float32 rounding (1e-9, ~1.4e-7 of its peak)
// moves the spectral loss's gradient: this is why the end-to-end gradients
// are only held to endToEndGradTol.
func TestSpectralGradientConditioning(t *testing.T) {
	m, ref := fixtureModel(t)
	x := refTensor(t, ref.f64, "input")
	y := refTensor(t, ref.f64, "dec_out_mb")
	base := lossGradient(m, x, y)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range y.Data() {
		y.Data()[i] += float32(1e-9 * rng.NormFloat64())
	}
	want := make([]float64, base.Len())
	for i, v := range base.Data() {
		want[i] = float64(v)
	}
	e, err := relErr(lossGradient(m, x, y).Data(), want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a 1e-9 perturbation of dec_out_mb moves d loss/d dec_out_mb by %.3g (relative to its peak)", e)
	if e < 10*lossGradTol {
		t.Errorf("gradient moved by only %.3g: the loss is better conditioned than endToEndGradTol assumes", e)
	}
}

// TestParityBackwardChain differentiates the network with the reference's
// own gradient of the spectral loss with respect to dec_out_mb as the seed
// (plus β·KL in stage 1; plus our feature-matching and adversarial terms,
// which are well conditioned, in stage 2). By the chain rule this is
// d loss/d θ with the loss's ill-conditioned backward taken from the
// reference, so the parameter gradients must match at forwardTol.
func TestParityBackwardChain(t *testing.T) {
	m, ref := fixtureModel(t)
	x := refTensor(t, ref.f64, "input")
	eps := refTensor(t, ref.f64, "eps")
	seed := refTensor(t, ref.f64, "grad_y.dec_out_mb")
	train := m.Config.Training
	cases := []struct {
		name   string
		stage2 bool
		keys   []string
	}{
		{"stage1", false, stage1Keys},
		{"stage2", true, []string{"decoder.net.0.weight_v", "decoder.net.21.weight_v"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			zeroGrads(m)
			tp := core.NewTape()
			tenc := tp
			if c.stage2 {
				tenc = nil // frozen encoder
			}
			mean, _, std := Posterior(tenc, m.Encode(tenc, x))
			y := m.Generator.Forward(tp, nn.Reparameterize(tenc, mean, std, eps), nil)
			loss := tp.Sum(tp.Mul(y, seed), false)
			if c.stage2 {
				real := m.Discriminator.Forward(nil, x)
				fake := m.Discriminator.Forward(tp, m.Synthesis(tp, y))
				fm, _ := FeatureMatching(tp, real, fake, train.SkippedFeatures)
				w, a := float32(train.FeatureMatchingWeight), float32(train.AdversarialWeight)
				loss = tp.Add(loss, tp.Add(tp.Scale(fm, w*w), tp.Scale(HingeLosses(tp, real, fake).Adv, a*a)))
			} else {
				loss = tp.Add(loss, tp.Scale(nn.KL(tp, mean, std), float32(m.Config.Beta(1))))
			}
			tp.Backward(loss)
			prefix := "grad."
			if c.stage2 {
				prefix = "grad_stage2."
			}
			var checks []check
			for _, name := range c.keys {
				checks = append(checks, check{prefix + name, paramGrad(t, m, name), forwardTol})
			}
			runChecks(t, ref, checks)
		})
	}
}
