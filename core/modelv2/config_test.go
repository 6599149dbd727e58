package modelv2

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
)

func TestPresets(t *testing.T) {
	cases := []struct {
		name             string
		capacity, latent int
	}{
		{"v2", 96, 128},
		{"v2-small", 8, 16},
		{"V2-Small", 8, 16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Preset(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Preset(%q).Validate() = %v", c.name, err)
			}
			if cfg.Capacity != c.capacity || cfg.LatentSize != c.latent || cfg.Discriminator.Capacity != c.capacity {
				t.Errorf("Preset(%q) capacity %d/%d latent %d, want %d and %d", c.name, cfg.Capacity, cfg.Discriminator.Capacity, cfg.LatentSize, c.capacity, c.latent)
			}
			if cfg.Architecture != ArchitectureV2 || cfg.SampleRate != 44100 || cfg.CompressionRatio() != 2048 || cfg.Noise != nil {
				t.Errorf("Preset(%q) = %s, want v2.gin at 44.1 kHz, 2048 samples per frame, no noise", c.name, cfg.JSON())
			}
		})
	}
	if _, err := Preset("v3"); err == nil || !strings.Contains(err.Error(), "v2, v2-small") {
		t.Errorf("Preset(v3) error = %v, want one listing the presets", err)
	}
}

// TestPresetsIndependent checks that presets do not share slices.
func TestPresetsIndependent(t *testing.T) {
	a, _ := Preset("v2")
	a.Ratios[0] = 8
	a.Dilations[0][0] = 5
	b, _ := Preset("v2")
	if b.Ratios[0] != 4 || b.Dilations[0][0] != 1 {
		t.Fatal("modifying one preset changed another")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *Config)
		want string // substring of the error, "" for valid
	}{
		{"valid", func(c *Config) {}, ""},
		{"with noise", func(c *Config) { *c = c.WithNoise() }, ""},
		{"architecture", func(c *Config) { c.Architecture = "rave-v1" }, "architecture"},
		{"bands", func(c *Config) { c.Bands = 12 }, "n_band"},
		{"odd ratio", func(c *Config) { c.Ratios[3] = 3 }, "ratio 3"},
		{"dilation lists", func(c *Config) { c.Dilations = c.Dilations[:3] }, "dilation lists"},
		{"zero dilation", func(c *Config) { c.Dilations[1][0] = 0 }, "dilation 0"},
		{"latent", func(c *Config) { c.LatentSize = 0 }, "latent_size"},
		{"noise bands", func(c *Config) { *c = c.WithNoise(); c.Noise.NoiseBands = 1 }, "noise"},
		{"noise block", func(c *Config) { *c = c.WithNoise(); c.Noise.Ratios = []int{3} }, "noise block"},
		{"no sub-discriminator", func(c *Config) { c.Discriminator.Periods = nil; c.Discriminator.Scales = 0 }, "sub-discriminator"},
		{"skipped features", func(c *Config) { c.Training.SkippedFeatures = 5 }, "num_skipped_features"},
		{"spectral scale", func(c *Config) { c.Training.SpectralScales = []int{1000} }, "spectral scale"},
		{"beta", func(c *Config) { c.Training.BetaInitial = 0 }, "β warm-up"},
		{"adam", func(c *Config) { c.Training.AdamBeta2 = 1 }, "Adam"},
		{"update every", func(c *Config) { c.Training.UpdateDiscriminatorEvery = 0 }, "update_discriminator_every"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, _ := Preset("v2-small")
			c.edit(&cfg)
			err := cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Validate() = %v, want an error about %q", err, c.want)
			}
			if _, nerr := New(cfg, false); (nerr == nil) != (err == nil) {
				t.Fatalf("New error %v disagrees with Validate %v", nerr, err)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	want, _ := Preset("v2-small")
	want = want.WithNoise()
	got, err := ParseConfig([]byte(want.JSON()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseConfig(JSON()) = %s, want %s", got.JSON(), want.JSON())
	}
	// Absent fields come from the v2 preset.
	got, err = ParseConfig([]byte(`{"capacity": 48, "latent_size": 64}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Capacity != 48 || got.LatentSize != 64 || got.Bands != 16 || got.Preset != "" {
		t.Fatalf("ParseConfig(partial) = %s", got.JSON())
	}
	for _, bad := range []string{`{"capacity": "x"}`, `{"ratios": [3]}`} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%s) succeeded", bad)
		}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(want.JSON()), &m); err != nil || m["architecture"] != ArchitectureV2 {
		t.Fatalf("JSON() records architecture %v (%v), want %q", m["architecture"], err, ArchitectureV2)
	}
}

// declaredCounts returns the number of parameters of a config's encoder,
// generator and discriminator, weight-norm gains (weight_g) counted
// separately, without allocating them.
func declaredCounts(cfg Config) (params, gains [3]int) {
	count := func(ps *core.ParamSet) (n, g int) {
		for _, p := range ps.Params() {
			k := 1
			for _, d := range p.Shape() {
				k *= d
			}
			if strings.HasSuffix(p.Name, ".weight_g") {
				g += k
			} else {
				n += k
			}
		}
		return n, g
	}
	sets := [3]*core.ParamSet{core.NewParamSet(), core.NewParamSet(), core.NewParamSet()}
	newEncoder(sets[0], cfg)
	newGenerator(sets[1], cfg)
	newDiscriminator(sets[2], cfg.Discriminator)
	for i, ps := range sets {
		params[i], gains[i] = count(ps)
	}
	return params, gains
}

// TestParamCounts checks the full-size v2 network against the parameter
// counts of rave-spec.md §10, which leave out the weight-norm gains
// (encoder 16,046,592, decoder 15,467,520, discriminator 27,119,432; the
// gains add "21.9 k" to encoder and decoder).
func TestParamCounts(t *testing.T) {
	cfg, _ := Preset("v2")
	n, gains := declaredCounts(cfg)
	if n[0] != 16_046_592 || n[1] != 15_467_520 {
		t.Errorf("v2 encoder %d, decoder %d parameters without gains, want 16046592 and 15467520", n[0], n[1])
	}
	if n[2] != 27_119_432 {
		t.Errorf("v2 discriminator %d parameters without gains, want 27119432", n[2])
	}
	if g := gains[0] + gains[1]; g < 21_850 || g >= 21_950 {
		t.Errorf("v2 encoder and decoder have %d weight-norm gains, want 21.9 k", g)
	}
	t.Logf("v2: encoder %d + %d gains, decoder %d + %d gains, discriminator %d + %d gains", n[0], gains[0], n[1], gains[1], n[2], gains[2])
}
