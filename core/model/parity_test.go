package model_test

import (
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/internal/parity"
)

// TestParityForward compares every forward key of the reference fixture
// (encoder, posterior, KL, decoder trunk and heads, PQMF, discriminator
// logits).
func TestParityForward(t *testing.T) {
	m, ref := parity.FixtureModel(t)
	out := parity.ForwardOutputs(t, m, ref)
	keys := []string{
		"pqmf_analysis", "pqmf_reconstruction", "enc_mean", "enc_scale", "enc_std", "kl",
		"dec_hidden", "dec_wave_raw", "dec_loud_raw", "dec_noise_amp",
		"dec_out_mb_nonoise", "dec_out_fb_nonoise",
		"disc_scale0_logits_x", "disc_scale1_logits_x", "disc_scale2_logits_x",
	}
	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			e, err := parity.Compare(ref, k, out[k], parity.ForwardTol)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: max relative error %.3g", k, e)
		})
	}
}

// TestParityLoss compares the reconstruction distances, loudness curves,
// the deterministic stage-1 loss and the parameter gradients of
// stage1_det_loss (eval mode, z = mean, no noise).
func TestParityLoss(t *testing.T) {
	m, ref := parity.FixtureModel(t)
	m.Encoder.Training = false
	x, _ := parity.RefTensor(t, ref, "input")
	xmb := m.Analysis(nil, x)
	mean, _ := m.Encoder.Forward(nil, xmb)
	ymb := m.Decoder.Forward(nil, mean, false, nil)
	_, d := m.Distance(nil, xmb, ymb)
	xfb, yfb := m.Synthesis(nil, xmb), m.Synthesis(nil, ymb)
	lx, ly := m.Loudness(nil, xfb, yfb)
	fbIn := dsp.DistanceV1().Distance(nil, x, yfb).Total

	m.Enc.ZeroGrad()
	m.Dec.ZeroGrad()
	tp := core.NewTape()
	loss, terms := m.Stage1DetLoss(tp, x)
	tp.Backward(loss)
	if terms.Total != float64(loss.Item()) {
		t.Errorf("terms.Total %g != loss %g", terms.Total, loss.Item())
	}

	vec := func(v []float64) *core.Tensor {
		out := core.Zeros(len(v))
		for i, f := range v {
			out.Data()[i] = float32(f)
		}
		return out
	}
	scalar := func(v float64) *core.Tensor { return core.Scalar(float32(v)) }
	grad := func(name string) *core.Tensor {
		p := m.Enc.Get(name)
		if p == nil {
			p = m.Dec.Get(name)
		}
		if p == nil {
			t.Fatalf("no parameter %s", name)
		}
		return core.New(p.Grad(), p.Shape()...)
	}
	cases := []struct {
		key string
		got *core.Tensor
		tol float64
	}{
		{"mss_mb", scalar(d.MultiBand), parity.ForwardTol},
		{"mss_fb", scalar(d.FullBand), parity.ForwardTol},
		{"mss_fb_vs_input", fbIn, parity.ForwardTol},
		{"mss_mb_lin_per_scale", vec(d.MultiBandLin), parity.ForwardTol},
		{"mss_mb_log_per_scale", vec(d.MultiBandLog), parity.ForwardTol},
		{"mss_fb_lin_per_scale", vec(d.FullBandLin), parity.ForwardTol},
		{"mss_fb_log_per_scale", vec(d.FullBandLog), parity.ForwardTol},
		{"loudness_x", lx, parity.ForwardTol},
		{"loudness_y", ly, parity.ForwardTol},
		{"loud_dist", scalar(d.Loudness), parity.ForwardTol},
		{"stage1_det_loss", loss, parity.ForwardTol},
		{"kl", scalar(terms.KL), parity.ForwardTol},
	}
	for _, name := range []string{"encoder.net.0.weight", "encoder.net.14.weight", "decoder.net.0.weight_g", "decoder.net.0.weight_v", "decoder.synth.branches.0.weight_v", "decoder.synth.branches.1.weight_v"} {
		cases = append(cases, struct {
			key string
			got *core.Tensor
			tol float64
		}{"grad." + name, grad(name), parity.GradTol})
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			e, err := parity.Compare(ref, c.key, c.got, c.tol)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: max relative error %.3g", c.key, e)
		})
	}
	// The noise branch gets no gradient without the noise head.
	for _, p := range m.Dec.Params() {
		if !strings.HasPrefix(p.Name, "decoder.synth.branches.2.") {
			continue
		}
		for _, g := range p.Grad() {
			if g != 0 {
				t.Fatalf("%s received a gradient with add_noise=false", p.Name)
			}
		}
	}
}
