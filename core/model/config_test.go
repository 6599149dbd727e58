package model

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
)

// countNoGain counts parameters without the weight-norm gains, as
// rave-spec.md §10 counts them.
func countNoGain(ps *core.ParamSet) int {
	n := 0
	for _, p := range ps.Params() {
		if !strings.HasSuffix(p.Name, ".weight_g") {
			n += p.Len()
		}
	}
	return n
}

// TestPresetSizes checks the parameter counts of the presets. For v1 the
// encoder and discriminator match rave-spec.md §10 (4,836,416 and
// 16,907,715); the decoder has 12,770,721, 6,720 fewer than the spec's
// 12,777,441, which assumes biases on the up-samplers and residual convs:
// the tag-v1 state dict (fixture README, 114 keys) has none there.
func TestPresetSizes(t *testing.T) {
	want := map[string]struct{ enc, dec, disc, ratio int }{
		"v1":    {4_836_416, 12_770_721, 16_907_715, 2048},
		"small": {1_129_952, 3_084_033, 4_102_947, 2048},
		"tiny":  {22_280, 55_753, 1_027_107, 512},
		"quick": {301_536, 798_209, 4_102_947, 512},
	}
	for name, w := range want {
		cfg, err := Preset(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := newEmpty(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m.allocDiscriminator()
		enc, dec, disc := countNoGain(m.Enc), countNoGain(m.Dec), countNoGain(m.Disc)
		t.Logf("%s: encoder %d, decoder %d, discriminator %d (without weight-norm gains); with gains %d/%d/%d; ratio %d",
			name, enc, dec, disc, m.Enc.Count(), m.Dec.Count(), m.Disc.Count(), cfg.CompressionRatio())
		if w.enc != 0 && (enc != w.enc || dec != w.dec) {
			t.Errorf("%s: encoder %d decoder %d, want %d %d", name, enc, dec, w.enc, w.dec)
		}
		if w.disc != 0 && disc != w.disc {
			t.Errorf("%s: discriminator %d, want %d", name, disc, w.disc)
		}
		if cfg.CompressionRatio() != w.ratio {
			t.Errorf("%s: compression ratio %d, want %d", name, cfg.CompressionRatio(), w.ratio)
		}
		if got := DiscriminatorParamCount(cfg); got != m.Disc.Count() {
			t.Errorf("%s: DiscriminatorParamCount %d, allocated %d", name, got, m.Disc.Count())
		}
	}
	if _, err := Preset("huge"); err == nil {
		t.Error("Preset(huge) succeeded")
	}
}

// TestConfigJSON checks the JSON names (the reference's) and the round
// trip, and that a reference hparams dict decodes.
func TestConfigJSON(t *testing.T) {
	cfg, _ := Preset("v1")
	var m map[string]any
	if err := json.Unmarshal([]byte(cfg.JSON()), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"data_size", "capacity", "latent_size", "ratios", "bias", "loud_stride", "use_noise", "noise_ratios", "noise_bands", "d_capacity", "d_multiplier", "d_n_layers", "warmup", "mode", "no_latency", "sr", "min_kl", "max_kl", "cropped_latent_size", "feature_match"} {
		if _, ok := m[k]; !ok {
			t.Errorf("config JSON lacks %q", k)
		}
	}
	back, err := ParseConfig([]byte(cfg.JSON()))
	if err != nil || back.JSON() != cfg.JSON() {
		t.Errorf("round trip: %v, %s", err, back.JSON())
	}
	hp, err := ParseConfig([]byte(`{"capacity": 8, "latent_size": 16, "d_capacity": 4, "ratios": [4, 4, 2]}`))
	if err != nil || hp.Capacity != 8 || hp.LatentSize != 16 || hp.Ratio() != 32 || hp.SR != 48000 {
		t.Errorf("partial hparams: %v %+v", err, hp)
	}
	if _, err := ParseConfig([]byte(`{"ratios": [3]}`)); err == nil {
		t.Error("odd ratio accepted")
	}
}

// TestNewDeterministic checks that New with the same seed gives the same
// parameters.
func TestNewDeterministic(t *testing.T) {
	cfg, _ := Preset("tiny")
	a, _ := New(cfg, rand.New(rand.NewPCG(1, 1)))
	b, _ := New(cfg, rand.New(rand.NewPCG(1, 1)))
	if relDiff(a.Dec.Data(), b.Dec.Data()) != 0 || relDiff(a.Enc.Data(), b.Enc.Data()) != 0 {
		t.Error("same seed, different parameters")
	}
}
