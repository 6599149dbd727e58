package modelv2

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ravestation/rave/core"
)

// newRandomModel returns an initialised model (PyTorch default init) for a
// preset, optionally with the noise generator.
func newRandomModel(t testing.TB, preset string, noise, disc bool) *Model {
	t.Helper()
	cfg, err := Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	if noise {
		cfg = cfg.WithNoise()
	}
	m, err := New(cfg, disc)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 1)))
	return m
}

// TestGeneratorNoise exercises configs/noise.gin's noise generator, which
// the fixture does not cover: shapes and reference names of its layers,
// the output tanh(x·σ(a) + noise), and noise drawn from the given source.
func TestGeneratorNoise(t *testing.T) {
	m := newRandomModel(t, "v2-small", true, false)
	cases := []struct {
		name  string
		shape []int
	}{
		{"decoder.waveform_module.weight_v", []int{32, 8, 7}},
		{"decoder.noise_module.net.0.weight", []int{128, 8, 4}},
		{"decoder.noise_module.net.2.weight", []int{128, 128, 4}},
		{"decoder.noise_module.net.4.weight", []int{80, 128, 4}},
	}
	for _, c := range cases {
		p := m.Dec.Get(c.name)
		if p == nil || !slices.Equal(p.Shape(), c.shape) {
			t.Fatalf("parameter %s = %v, want shape %v", c.name, p, c.shape)
		}
	}
	if m.Dec.Get("decoder.net.21.weight_v") != nil || m.Dec.Get("decoder.noise_module.net.0.bias") != nil {
		t.Fatal("noise model has decoder.net.21 or noise biases")
	}

	z := core.Randn(rand.New(rand.NewPCG(2, 2)), 1, 16, 3)
	st := m.Generator.Stages(nil, z, rand.New(rand.NewPCG(3, 3)))
	if !slices.Equal(st.Noise.Shape(), []int{1, 16, 384}) || !slices.Equal(st.Out.Shape(), []int{1, 16, 384}) {
		t.Fatalf("noise %v, output %v, want (1, 16, 384)", st.Noise.Shape(), st.Out.Shape())
	}
	am := AmplitudeModulation(nil, st.Wave).Data()
	for i, v := range st.Out.Data() {
		want := math.Tanh(float64(am[i]) + float64(st.Noise.Data()[i]))
		if math.Abs(float64(v)-want) > 1e-6 {
			t.Fatalf("output[%d] = %g, want tanh(x·σ(a) + noise) = %g", i, v, want)
		}
	}
	// Forward without a tape runs fast.go's kernels: the same noise, the
	// same output to rounding.
	again := m.Generator.Forward(nil, z, rand.New(rand.NewPCG(3, 3)))
	same := m.Generator.Forward(nil, z, rand.New(rand.NewPCG(3, 3)))
	other := m.Generator.Forward(nil, z, rand.New(rand.NewPCG(4, 4)))
	if !slices.Equal(again.Data(), same.Data()) || slices.Equal(other.Data(), again.Data()) {
		t.Fatal("the noise does not follow the random source")
	}
	for i, v := range again.Data() {
		if d := math.Abs(float64(v - st.Out.Data()[i])); d > 1e-6 {
			t.Fatalf("Forward output[%d] = %g, Stages gives %g", i, v, st.Out.Data()[i])
		}
	}
}

// TestDecodeShapes checks the round trip shapes of encode and decode.
func TestDecodeShapes(t *testing.T) {
	m := newRandomModel(t, "v2-small", false, false)
	x := core.Zeros(2, 1, 3*2048)
	raw := m.Encode(nil, x)
	if !slices.Equal(raw.Shape(), []int{2, 32, 3}) {
		t.Fatalf("Encode shape %v, want (2, 32, 3)", raw.Shape())
	}
	mean, _, _ := Posterior(nil, raw)
	if y := m.Decode(nil, mean, nil); !slices.Equal(y.Shape(), []int{2, 1, 3 * 2048}) {
		t.Fatalf("Decode shape %v, want (2, 1, 6144)", y.Shape())
	}
}

func TestValidSignalCrop(t *testing.T) {
	cases := []struct {
		name        string
		t           int
		left, right int
		start, n    int
	}{
		{"v2 receptive field on 131072 samples", 8192, 27117, 26428, 1694, 4846},
		{"left only", 100, 35, 0, 2, 98},
		{"right only", 100, 0, 17, 0, 98},
		{"exact multiples", 100, 32, 32, 2, 96},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := core.Zeros(1, 16, c.t)
			for i := range x.Data() {
				x.Data()[i] = float32(i % c.t)
			}
			y := ValidSignalCrop(nil, x, c.left, c.right)
			if y.Dim(2) != c.n || y.Data()[0] != float32(c.start) {
				t.Fatalf("ValidSignalCrop(%d, %d) keeps %d samples from %g, want %d from %d", c.left, c.right, y.Dim(2), y.Data()[0], c.n, c.start)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("cropping the fixture's 3072 sub-band samples by (27117, 26428) did not panic")
		}
	}()
	ValidSignalCrop(nil, core.Zeros(1, 16, 3072), 27117, 26428)
}

// TestStepCrop runs a stage-1 step with the reference's receptive field
// on a training-length crop (131072 samples) and checks that the
// multiband distance is taken on the cropped pair and the full-band one
// on the whole signal.
func TestStepCrop(t *testing.T) {
	m := newRandomModel(t, "v2-small", false, false)
	rng := rand.New(rand.NewPCG(5, 5))
	x := core.Randn(rng, 1, 1, 131072)
	rf := [2]int{27117, 26428}
	st := m.GeneratorStep(nil, x, StepOptions{Beta: 1e-6, ReceptiveField: rf, RNG: rng})
	xmb := ValidSignalCrop(nil, st.XMB, rf[0], rf[1])
	if xmb.Dim(2) != 4846 {
		t.Fatalf("cropped length %d, want 4846", xmb.Dim(2))
	}
	mb := m.SpectralDistance(nil, xmb, ValidSignalCrop(nil, st.YMB, rf[0], rf[1])).Total.Item()
	fb := m.SpectralDistance(nil, x, st.Y).Total.Item()
	if l := st.Losses; float32(l.MultiBand) != mb || float32(l.FullBand) != fb {
		t.Fatalf("step distances (%g, %g), want cropped multiband %g and whole full band %g", l.MultiBand, l.FullBand, mb, fb)
	}
}
