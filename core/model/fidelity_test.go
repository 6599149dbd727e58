package model

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/internal/modeltest"
	"github.com/ravestation/rave/core/latent"
)

// analysedModel is a tiny model with a random orthogonal PCA and a
// fidelity curve that reaches 0.5, 0.8, 0.9, 0.95, 0.99 at 1, 2, 4, 6 and
// 10 dimensions.
func analysedModel(t testing.TB, seed uint64) *Model {
	t.Helper()
	cfg, err := Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	m, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Randomize(m.Buffers(), rng)
	copy(m.Buffer(bufFidelity).Data(), modeltest.Fidelity16)
	m.LatentAnalysis = LatentAnalysis{Done: true, Frames: 1000}
	return m
}

func TestKeptDims(t *testing.T) {
	m := analysedModel(t, 1)
	for _, c := range []struct {
		fid  latent.Fidelity
		want int
	}{
		{latent.Fidelity{}, 16},
		{latent.Fidelity{Dims: 3}, 3},
		{latent.Fidelity{F: 0.95, Rule: latent.RuleExact}, 6},    // fidelity[5] = 0.95 ≥ 0.95
		{latent.Fidelity{F: 0.95}, 8},                            // argmax(> 0.95) = 6 → 8
		{latent.Fidelity{F: 0.9, Rule: latent.RuleExact}, 4},     // fidelity[3] = 0.9
		{latent.Fidelity{F: 0.9}, 4},                             // argmax(> 0.9) = 4 → 4
		{latent.Fidelity{F: 0.6}, 1},                             // argmax(> 0.6) = 1 → 1
		{latent.Fidelity{F: 0.4, Rule: latent.RuleExact}, 1},     // already 0.5
		{latent.Fidelity{F: 0.4}, 1},                             // r = max(0, 1) = 1
		{latent.Fidelity{F: 0.9995, Rule: latent.RuleExact}, 16}, // only the last reaches it
		{latent.Fidelity{F: 0.9985}, 16},                         // argmax = 14 → 16
	} {
		got, err := m.KeptDims(c.fid)
		if err != nil || got != c.want {
			t.Errorf("KeptDims(%+v) = %d, %v; want %d", c.fid, got, err, c.want)
		}
	}
	for _, bad := range []latent.Fidelity{{Dims: 17}, {Dims: -1}, {F: 1.5}, {F: -0.1}} {
		if _, err := m.KeptDims(bad); err == nil {
			t.Errorf("KeptDims(%+v) accepted", bad)
		}
	}
	fresh := analysedModel(t, 2)
	fresh.LatentAnalysis = LatentAnalysis{}
	if _, err := fresh.KeptDims(latent.Fidelity{F: 0.9}); !errors.Is(err, latent.ErrNoAnalysis) {
		t.Errorf("without analysis: %v, want latent.ErrNoAnalysis", err)
	}
}

// TestDecodeFidelity checks the offline fidelity decode: dropped
// dimensions are zeros (equal to decoding explicit zeros) or noise (needs
// an RNG, differs from zeros).
func TestDecodeFidelity(t *testing.T) {
	m := analysedModel(t, 3)
	x := sine(20*512, 220, 48000)
	z, err := m.EncodeAudio(x)
	if err != nil {
		t.Fatal(err)
	}
	k := 4
	zeroed := make([][]float32, len(z))
	for d := range z {
		zeroed[d] = make([]float32, len(z[d]))
		if d < k {
			copy(zeroed[d], z[d])
		}
	}
	want, _ := m.DecodeLatents(zeroed, len(x))
	got, err := m.DecodeLatentsFidelity(z, len(x), latent.Fidelity{Dims: k, Fill: latent.FillZero}, CodecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e := relDiff(got, want); e > 1e-6 {
		t.Errorf("zero fill differs from decoding zeros by %.3g", e)
	}
	if _, err := m.DecodeLatentsFidelity(z, len(x), latent.Fidelity{Dims: k}, CodecOptions{}); err == nil {
		t.Error("noise fill without an RNG accepted")
	}
	noisy, err := m.DecodeLatentsFidelity(z, len(x), latent.Fidelity{Dims: k}, CodecOptions{RNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	if relDiff(noisy, want) < 1e-3 {
		t.Error("noise fill gives the zero fill's output")
	}
}

func TestHash(t *testing.T) {
	m := analysedModel(t, 4)
	h := m.Hash()
	if m.Hash() != h {
		t.Fatal("Hash is not stable")
	}
	m.Step = 1234
	m.syncCounters()
	m.AddDiscriminator(rand.New(rand.NewPCG(1, 1)))
	m.Config.Preset = "renamed"
	if m.Hash() != h {
		t.Error("Hash depends on the step, the discriminator or the preset name")
	}
	m.Dec.Data()[10] += 1e-6
	if m.Hash() == h {
		t.Error("Hash ignores a decoder weight")
	}
	m.Dec.Data()[10] -= 1e-6
	m.Buffer(bufLatentPCA).Data()[3] += 1e-6
	if m.Hash() == h {
		t.Error("Hash ignores the latent PCA")
	}
}
