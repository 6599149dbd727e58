package model

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
)

// Tolerances of the parity tests against v1_small_reference_f64 (the
// reference's float64 outputs for the fixture weights). Our float32 model
// differs from float64 by rounding only; the fixture README measures the
// reference's own float32-vs-float64 gaps at ≤ 2e-6 (forward) and up to
// ~3e-3 (gradients, amplified by the log-magnitude terms).
const (
	parityForwardTol = 1e-4
	parityGradTol    = 2e-2
)

// fixtureSet caches the fixture model and reference across tests: the
// 64 MB discriminator file is read once per test binary.
var fixtureSet struct {
	once  sync.Once
	model *Model
	ref   *core.TensorFile
	err   error
}

// fixtureModel returns the reference fixture model (with its
// discriminator) and the float64 reference outputs, skipping when the
// fixtures are absent.
func fixtureModel(t testing.TB) (*Model, *core.TensorFile) {
	t.Helper()
	sdPath := fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors")
	discPath := fixtures.File(t, fixtures.V1Small, "v1_small_state_dict_discriminator.safetensors")
	refPath := fixtures.File(t, fixtures.V1Small, "v1_small_reference_f64.safetensors")
	fixtureSet.once.Do(func() {
		m, err := Import(sdPath)
		if err != nil {
			fixtureSet.err = err
			return
		}
		if err := m.ImportDiscriminator(discPath); err != nil {
			fixtureSet.err = err
			return
		}
		ref, err := core.ReadSafetensors(refPath)
		if err != nil {
			fixtureSet.err = err
			return
		}
		fixtureSet.model, fixtureSet.ref = m, ref
	})
	if fixtureSet.err != nil {
		t.Fatalf("loading fixtures: %v", fixtureSet.err)
	}
	return fixtureSet.model, fixtureSet.ref
}

// refTensor returns a reference array as a float32 tensor and its float64
// values.
func refTensor(t testing.TB, ref *core.TensorFile, name string) (*core.Tensor, []float64) {
	t.Helper()
	v, shape, err := ref.Float64(name)
	if err != nil {
		t.Fatal(err)
	}
	x := core.Zeros(shape...)
	for i, f := range v {
		x.Data()[i] = float32(f)
	}
	return x, v
}

// relErr returns max|got − want| / max|want|.
func relErr(got []float32, want []float64) float64 {
	var d, w float64
	for i, v := range want {
		d = max(d, math.Abs(float64(got[i])-v))
		w = max(w, math.Abs(v))
	}
	if w == 0 {
		return d
	}
	return d / w
}

// compare checks a computed tensor against a reference key, returning an
// error describing the mismatch.
func compare(ref *core.TensorFile, name string, got *core.Tensor, tol float64) (float64, error) {
	want, shape, err := ref.Float64(name)
	if err != nil {
		return 0, err
	}
	if got.Len() != len(want) {
		return 0, fmt.Errorf("%s: got shape %v, want %v", name, got.Shape(), shape)
	}
	e := relErr(got.Data(), want)
	if e > tol || math.IsNaN(e) {
		n := min(4, len(want))
		return e, fmt.Errorf("%s: max relative error %.3g > %.0e; first values got %v, want %v", name, e, tol, got.Data()[:n], want[:n])
	}
	return e, nil
}

// forwardOutputs computes every forward key of the reference from the
// fixture input, in eval mode with z = mean and no noise.
func forwardOutputs(t testing.TB, m *Model, ref *core.TensorFile) map[string]*core.Tensor {
	t.Helper()
	x, _ := refTensor(t, ref, "input")
	out := map[string]*core.Tensor{}
	m.Encoder.Training = false
	xmb := m.Analysis(nil, x)
	out["pqmf_analysis"] = xmb
	out["pqmf_reconstruction"] = m.Synthesis(nil, xmb)
	mean, scale := m.Encoder.Forward(nil, xmb)
	out["enc_mean"], out["enc_scale"] = mean, scale
	std := PosteriorStd(nil, scale)
	out["enc_std"] = std
	out["kl"] = KL(nil, mean, std)
	h := m.Decoder.Trunk(nil, mean)
	out["dec_hidden"] = h
	out["dec_wave_raw"] = m.Decoder.Wave(nil, h)
	out["dec_loud_raw"] = m.Decoder.Loudness(nil, h)
	out["dec_noise_amp"] = m.Decoder.NoiseAmp(nil, h)
	y := m.Decoder.Forward(nil, mean, false, nil)
	out["dec_out_mb_nonoise"] = y
	out["dec_out_fb_nonoise"] = m.Synthesis(nil, y)
	if m.Discriminator != nil {
		feats := m.Discriminator.Forward(nil, out["pqmf_reconstruction"])
		for s, f := range feats {
			out[fmt.Sprintf("disc_scale%d_logits_x", s)] = f[len(f)-1]
		}
	}
	return out
}

// TestParityForward compares every forward key of the reference fixture
// (encoder, posterior, KL, decoder trunk and heads, PQMF, discriminator
// logits).
func TestParityForward(t *testing.T) {
	m, ref := fixtureModel(t)
	out := forwardOutputs(t, m, ref)
	keys := []string{
		"pqmf_analysis", "pqmf_reconstruction", "enc_mean", "enc_scale", "enc_std", "kl",
		"dec_hidden", "dec_wave_raw", "dec_loud_raw", "dec_noise_amp",
		"dec_out_mb_nonoise", "dec_out_fb_nonoise",
		"disc_scale0_logits_x", "disc_scale1_logits_x", "disc_scale2_logits_x",
	}
	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			e, err := compare(ref, k, out[k], parityForwardTol)
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
	m, ref := fixtureModel(t)
	m.Encoder.Training = false
	x, _ := refTensor(t, ref, "input")
	xmb := m.Analysis(nil, x)
	mean, _ := m.Encoder.Forward(nil, xmb)
	ymb := m.Decoder.Forward(nil, mean, false, nil)
	_, d := m.Distance(nil, xmb, ymb)
	xfb, yfb := m.Synthesis(nil, xmb), m.Synthesis(nil, ymb)
	lx, ly := m.Loudness(nil, xfb, yfb)
	fbIn := m.losses().spectral.Distance(nil, x, yfb).Total

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
		{"mss_mb", scalar(d.MultiBand), parityForwardTol},
		{"mss_fb", scalar(d.FullBand), parityForwardTol},
		{"mss_fb_vs_input", fbIn, parityForwardTol},
		{"mss_mb_lin_per_scale", vec(d.MultiBandLin), parityForwardTol},
		{"mss_mb_log_per_scale", vec(d.MultiBandLog), parityForwardTol},
		{"mss_fb_lin_per_scale", vec(d.FullBandLin), parityForwardTol},
		{"mss_fb_log_per_scale", vec(d.FullBandLog), parityForwardTol},
		{"loudness_x", lx, parityForwardTol},
		{"loudness_y", ly, parityForwardTol},
		{"loud_dist", scalar(d.Loudness), parityForwardTol},
		{"stage1_det_loss", loss, parityForwardTol},
		{"kl", scalar(terms.KL), parityForwardTol},
	}
	for _, name := range []string{"encoder.net.0.weight", "encoder.net.14.weight", "decoder.net.0.weight_g", "decoder.net.0.weight_v", "decoder.synth.branches.0.weight_v", "decoder.synth.branches.1.weight_v"} {
		cases = append(cases, struct {
			key string
			got *core.Tensor
			tol float64
		}{"grad." + name, grad(name), parityGradTol})
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			e, err := compare(ref, c.key, c.got, c.tol)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: max relative error %.3g", c.key, e)
		})
	}
	// The noise branch gets no gradient without the noise head.
	for _, c := range m.Decoder.noise {
		for _, p := range c.params() {
			for _, g := range p.Grad() {
				if g != 0 {
					t.Fatalf("%s received a gradient with add_noise=false", p.Name)
				}
			}
		}
	}
}
