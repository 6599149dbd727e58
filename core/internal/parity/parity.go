// Package parity compares the model with the reference implementation's
// fixtures (v1_small_reference_f64: the reference's float64 outputs for
// the fixture weights) for the tests of core/model and core/interop. The
// fixtures are located by core/internal/fixtures; tests skip when they are
// absent.
package parity

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/model"
)

// Tolerances of the parity tests against the reference outputs. Our
// float32 model differs from float64 by rounding only; the fixture README
// measures the reference's own float32-vs-float64 gaps at ≤ 2e-6
// (forward) and up to ~3e-3 (gradients, amplified by the log-magnitude
// terms).
const (
	ForwardTol = 1e-4
	GradTol    = 2e-2
)

// fixtureSet caches the fixture model and reference across tests: the
// 64 MB discriminator file is read once per test binary.
var fixtureSet struct {
	once  sync.Once
	model *model.Model
	ref   *core.TensorFile
	err   error
}

// FixtureModel returns the reference fixture model (with its
// discriminator) and the float64 reference outputs, skipping when the
// fixtures are absent. The model is shared by the tests of a binary.
func FixtureModel(t testing.TB) (*model.Model, *core.TensorFile) {
	t.Helper()
	sdPath := fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors")
	discPath := fixtures.File(t, fixtures.V1Small, "v1_small_state_dict_discriminator.safetensors")
	refPath := fixtures.File(t, fixtures.V1Small, "v1_small_reference_f64.safetensors")
	fixtureSet.once.Do(func() {
		m, err := interop.Import(sdPath)
		if err != nil {
			fixtureSet.err = err
			return
		}
		if err := interop.ImportDiscriminator(m, discPath); err != nil {
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

// RefTensor returns a reference array as a float32 tensor and its float64
// values.
func RefTensor(t testing.TB, ref *core.TensorFile, name string) (*core.Tensor, []float64) {
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

// Compare checks a computed tensor against a reference key, returning the
// largest relative error and an error describing a mismatch beyond tol.
func Compare(ref *core.TensorFile, name string, got *core.Tensor, tol float64) (float64, error) {
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

// ForwardOutputs computes every forward key of the reference from the
// fixture input, in eval mode with z = mean and no noise.
func ForwardOutputs(t testing.TB, m *model.Model, ref *core.TensorFile) map[string]*core.Tensor {
	t.Helper()
	x, _ := RefTensor(t, ref, "input")
	out := map[string]*core.Tensor{}
	m.Encoder.Training = false
	xmb := m.Analysis(nil, x)
	out["pqmf_analysis"] = xmb
	out["pqmf_reconstruction"] = m.Synthesis(nil, xmb)
	mean, scale := m.Encoder.Forward(nil, xmb)
	out["enc_mean"], out["enc_scale"] = mean, scale
	std := model.PosteriorStd(nil, scale)
	out["enc_std"] = std
	out["kl"] = model.KL(nil, mean, std)
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
