package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ravestation/rave/core/internal/nn"
)

// Config holds the hyper-parameters of a RAVE v1 model. The JSON names are
// those of the reference constructor (acids-ircam/RAVE tag v1, rave/model.py
// RAVE.__init__ and train_rave.py), so a reference hparams dict decodes
// directly into it.
type Config struct {
	// Preset names the preset the config came from ("v1", "small", "tiny",
	// "quick"),
	// or is empty for a custom or imported config.
	Preset string `json:"preset,omitempty"`
	// DataSize is the number of PQMF bands (1 disables the PQMF).
	DataSize int `json:"data_size"`
	// Capacity is the base channel count C of encoder and decoder.
	Capacity int `json:"capacity"`
	// LatentSize is the number of latent dimensions.
	LatentSize int `json:"latent_size"`
	// Ratios are the encoder's down-sampling factors (the decoder uses them
	// in reverse order to up-sample).
	Ratios []int `json:"ratios"`
	// Bias enables the biases of the encoder convolutions, the decoder's
	// input convolution and its waveform and loudness heads.
	Bias bool `json:"bias"`
	// LoudStride is the stride of the loudness head.
	LoudStride int `json:"loud_stride"`
	// UseNoise enables the filtered-noise synthesiser head.
	UseNoise bool `json:"use_noise"`
	// NoiseRatios are the strides of the noise amplitude network.
	NoiseRatios []int `json:"noise_ratios"`
	// NoiseBands is the number of noise filter bands per PQMF band.
	NoiseBands int `json:"noise_bands"`
	// DCapacity, DMultiplier and DNLayers shape the MelGAN discriminator.
	DCapacity   int `json:"d_capacity"`
	DMultiplier int `json:"d_multiplier"`
	DNLayers    int `json:"d_n_layers"`
	// Warmup is the number of stage-1 steps.
	Warmup int `json:"warmup"`
	// Mode is the adversarial loss ("hinge").
	Mode string `json:"mode"`
	// NoLatency makes every convolution causal (and the PQMF 70 dB).
	NoLatency bool `json:"no_latency"`
	// SR is the sample rate in Hz.
	SR int `json:"sr"`
	// MinKL and MaxKL bound the KL weight β.
	MinKL float64 `json:"min_kl"`
	MaxKL float64 `json:"max_kl"`
	// CroppedLatentSize, when non-zero, makes the encoder emit only that many
	// dimensions; the decoder's other inputs get N(0,1) noise.
	CroppedLatentSize int `json:"cropped_latent_size"`
	// FeatureMatch enables the feature-matching loss in stage 2.
	FeatureMatch bool `json:"feature_match"`
}

// presets are the built-in configurations. v1 is the paper's model
// (rave-spec.md §3.1, §4.1, §5.1, train_rave.py defaults); small, tiny and
// quick keep its structure, 16-band PQMF and 48 kHz but are scaled down for
// CPU training (sizes in doc.go). quick, made for learning per CPU-second,
// has small's channels and latent with one up-sampling stage fewer: 512
// samples per latent frame, as the reference's v2_small.
var presets = map[string]Config{
	"v1": {
		DataSize: 16, Capacity: 64, LatentSize: 128, Ratios: []int{4, 4, 4, 2},
		DCapacity: 16, DMultiplier: 4, DNLayers: 4,
	},
	"small": {
		DataSize: 16, Capacity: 32, LatentSize: 32, Ratios: []int{4, 4, 4, 2},
		DCapacity: 8, DMultiplier: 4, DNLayers: 3,
	},
	"quick": {
		DataSize: 16, Capacity: 32, LatentSize: 32, Ratios: []int{4, 4, 2},
		DCapacity: 8, DMultiplier: 4, DNLayers: 3,
	},
	"tiny": {
		DataSize: 16, Capacity: 8, LatentSize: 16, Ratios: []int{4, 4, 2},
		DCapacity: 4, DMultiplier: 4, DNLayers: 3,
	},
}

// withDefaults fills the fields every preset shares with the reference
// defaults.
func withDefaults(c Config) Config {
	c.Bias = true
	c.LoudStride = 1
	c.UseNoise = true
	c.NoiseRatios = []int{4, 4, 4}
	c.NoiseBands = 5
	c.Warmup = 1_000_000
	c.Mode = "hinge"
	c.SR = 48000
	c.MinKL, c.MaxKL = 0.1, 0.1
	c.FeatureMatch = true
	return c
}

// PresetNames returns the names of the built-in presets, sorted.
func PresetNames() []string {
	return slices.Sorted(maps.Keys(presets))
}

// Preset returns the named built-in configuration: "v1" (the paper's
// model), "small", "tiny" or "quick".
func Preset(name string) (Config, error) {
	c, ok := presets[strings.ToLower(name)]
	if !ok {
		return Config{}, fmt.Errorf("model: unknown preset %q (have %s)", name, strings.Join(PresetNames(), ", "))
	}
	c = withDefaults(c)
	c.Preset = strings.ToLower(name)
	c.Ratios = slices.Clone(c.Ratios)
	return c, nil
}

// Validate reports the first inconsistency in the configuration.
func (c Config) Validate() error {
	switch {
	case c.DataSize < 1:
		return fmt.Errorf("model: data_size %d must be at least 1", c.DataSize)
	case c.DataSize > 1 && c.DataSize&(c.DataSize-1) != 0:
		return fmt.Errorf("model: data_size %d must be a power of two", c.DataSize)
	case c.Capacity < 1:
		return fmt.Errorf("model: capacity %d must be at least 1", c.Capacity)
	case c.LatentSize < 1:
		return fmt.Errorf("model: latent_size %d must be at least 1", c.LatentSize)
	case len(c.Ratios) == 0:
		return fmt.Errorf("model: ratios must not be empty")
	case c.LoudStride < 1:
		return fmt.Errorf("model: loud_stride %d must be at least 1", c.LoudStride)
	case c.SR < 1:
		return fmt.Errorf("model: sr %d must be positive", c.SR)
	case c.CroppedLatentSize < 0 || c.CroppedLatentSize > c.LatentSize:
		return fmt.Errorf("model: cropped_latent_size %d must be in [0, latent_size %d]", c.CroppedLatentSize, c.LatentSize)
	}
	for _, r := range c.Ratios {
		if r < 1 || (r > 1 && r%2 != 0) {
			return fmt.Errorf("model: ratio %d must be 1 or even (transposed conv padding r/2)", r)
		}
	}
	if c.UseNoise {
		if c.NoiseBands < 1 || len(c.NoiseRatios) == 0 {
			return fmt.Errorf("model: use_noise needs noise_bands ≥ 1 and noise_ratios")
		}
		for _, r := range c.NoiseRatios {
			if r < 1 {
				return fmt.Errorf("model: noise ratio %d must be at least 1", r)
			}
		}
	}
	if c.DCapacity < 1 || c.DMultiplier < 1 || c.DNLayers < 1 {
		return fmt.Errorf("model: discriminator needs d_capacity, d_multiplier, d_n_layers ≥ 1 (have %d, %d, %d)", c.DCapacity, c.DMultiplier, c.DNLayers)
	}
	return c.checkLimits()
}

// Limits far above any RAVE model, so that a configuration read from a
// file (a model's metadata, a checkpoint's hyper-parameters) cannot
// overflow a layer's size or ask for an absurd allocation.
const (
	maxChannels = 1 << 16 // capacity × 2^len(ratios), the widest layer
	maxSize     = 1 << 12 // data_size, latent_size, noise_bands, d_capacity
	maxRatios   = 12      // len(ratios), len(noise_ratios)
	maxRatio    = 1 << 10 // each ratio and noise ratio, loud_stride
	maxDLayers  = 16      // d_n_layers; d_multiplier ≤ maxRatios
)

// checkLimits checks c against the limits above.
func (c Config) checkLimits() error {
	for _, f := range []struct {
		name     string
		v, limit int
	}{
		{"data_size", c.DataSize, maxSize}, {"latent_size", c.LatentSize, maxSize},
		{"noise_bands", c.NoiseBands, maxSize}, {"d_capacity", c.DCapacity, maxSize},
		{"number of ratios", len(c.Ratios), maxRatios}, {"number of noise_ratios", len(c.NoiseRatios), maxRatios},
		{"loud_stride", c.LoudStride, maxRatio}, {"d_n_layers", c.DNLayers, maxDLayers},
		{"d_multiplier", c.DMultiplier, maxRatios}, {"capacity", c.Capacity, maxChannels},
	} {
		if f.v > f.limit {
			return fmt.Errorf("model: %s %d is more than rave supports (%d)", f.name, f.v, f.limit)
		}
	}
	for _, r := range slices.Concat(c.Ratios, c.NoiseRatios) {
		if r > maxRatio {
			return fmt.Errorf("model: ratio %d is more than rave supports (%d)", r, maxRatio)
		}
	}
	if w := c.Capacity << len(c.Ratios); w > maxChannels {
		return fmt.Errorf("model: capacity %d with %d ratios makes layers of %d channels, more than rave supports (%d)", c.Capacity, len(c.Ratios), w, maxChannels)
	}
	return nil
}

// EncoderLatent returns the number of dimensions the encoder emits
// (cropped_latent_size if set, else latent_size).
func (c Config) EncoderLatent() int {
	if c.CroppedLatentSize > 0 {
		return c.CroppedLatentSize
	}
	return c.LatentSize
}

// Ratio returns the product of the encoder ratios (sub-band samples per
// latent frame).
func (c Config) Ratio() int {
	r := 1
	for _, v := range c.Ratios {
		r *= v
	}
	return r
}

// CompressionRatio returns the number of audio samples per latent frame:
// data_size × Π ratios (2048 for v1, rave-spec.md §9.3).
func (c Config) CompressionRatio() int { return c.DataSize * c.Ratio() }

// NoiseRatio returns the product of the noise ratios (the noise
// synthesiser's target_size: sub-band samples per noise frame).
func (c Config) NoiseRatio() int {
	r := 1
	for _, v := range c.NoiseRatios {
		r *= v
	}
	return r
}

// PQMFAttenuation returns the PQMF prototype's stop-band attenuation in dB:
// 100, or 70 with no_latency (rave-spec.md §2.1).
func (c Config) PQMFAttenuation() float64 {
	if c.NoLatency {
		return 70
	}
	return 100
}

// JSON returns the configuration as JSON.
func (c Config) JSON() string { return nn.ConfigJSON("model", c) }

// ParseConfig decodes a JSON configuration (our own or a reference hparams
// dict), filling absent fields with the v1 defaults, and validates it.
func ParseConfig(js []byte) (Config, error) {
	c, _ := Preset("v1")
	c.Preset = ""
	return nn.ParseConfig("model", c, js)
}
