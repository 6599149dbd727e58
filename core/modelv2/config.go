package modelv2

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/nn"
)

// ArchitectureV2 names the architecture this package implements: RAVE v2 as
// acids-ircam/RAVE tag v2.3.1 builds it from configs/v2.gin. A model file
// records it (Config.Architecture) so that a reader knows which network the
// tensors belong to.
const ArchitectureV2 = "rave-v2.3.1"

// Config holds the hyper-parameters of a RAVE v2 model and of its training
// objective. The JSON names follow the gin bindings of configs/v2.gin.
type Config struct {
	// Preset names the preset the config came from ("v2", "v2-small"), or
	// is empty for a custom or parsed config.
	Preset string `json:"preset,omitempty"`
	// Architecture is ArchitectureV2.
	Architecture string `json:"architecture"`
	// SampleRate is the audio rate in Hz (SAMPLING_RATE).
	SampleRate int `json:"sampling_rate"`
	// Bands is the number of PQMF bands (N_BAND).
	Bands int `json:"n_band"`
	// PQMFAttenuation is the stop-band attenuation of the PQMF prototype in dB.
	PQMFAttenuation float64 `json:"pqmf_attenuation"`
	// Capacity is the base width C of encoder and generator (CAPACITY).
	Capacity int `json:"capacity"`
	// LatentSize is the number of latent dimensions (LATENT_SIZE).
	LatentSize int `json:"latent_size"`
	// Ratios are the encoder's down-sampling factors, each even; the
	// generator up-samples by them in reverse order (RATIOS).
	Ratios []int `json:"ratios"`
	// KernelSize is the kernel of the dilated units and of the encoder's
	// output and generator's input convolutions (KERNEL_SIZE); the
	// encoder's input and the waveform convolutions use 2·KernelSize+1.
	KernelSize int `json:"kernel_size"`
	// Dilations lists the dilations of the residual units of each encoder
	// stage (one list per ratio); the generator uses them reversed
	// (DILATIONS).
	Dilations [][]int `json:"dilations"`
	// AmplitudeModulation makes the waveform convolution emit 2·Bands
	// channels x, a and the output tanh(x·σ(a)) (GeneratorV2
	// amplitude_modulation).
	AmplitudeModulation bool `json:"amplitude_modulation"`
	// Causal makes the convolutions of the PQMF, the encoder and the
	// generator causal, all their padding on the left ((k−1)·d, 0), as
	// configs/causal.gin does (cc.get_padding.mode = "causal"): the model
	// then streams with only the transposed convolutions' and the PQMF's
	// delays. The transposed convolutions, the noise generator (padding
	// (r, 0) already) and the discriminator (centred by name) are
	// unchanged.
	Causal bool `json:"causal,omitempty"`
	// Noise, when set, adds configs/noise.gin's filtered-noise generator
	// (GeneratorV2.noise_module); nil in configs/v2.gin.
	Noise *NoiseConfig `json:"noise,omitempty"`
	// Discriminator shapes the multi-period + multi-scale discriminator.
	Discriminator DiscriminatorConfig `json:"discriminator"`
	// Training holds the objective and schedule of RAVE.training_step.
	Training TrainingConfig `json:"training"`
}

// NoiseConfig configures the noise generator (blocks.NoiseGeneratorV2).
type NoiseConfig struct {
	// HiddenSize is the width of its hidden convolutions.
	HiddenSize int `json:"hidden_size"`
	// Ratios are the strides of its convolutions (kernel 2r, padding (r, 0));
	// their product is the length of one noise block in sub-band samples.
	Ratios []int `json:"ratios"`
	// NoiseBands is the number of filter amplitudes per PQMF band.
	NoiseBands int `json:"noise_bands"`
}

// DiscriminatorConfig configures CombineDiscriminators(MultiPeriod,
// MultiScale) of ConvNets.
type DiscriminatorConfig struct {
	// Capacity is the ConvNets' base width (the CAPACITY macro, shared
	// with the generator in configs/v2.gin).
	Capacity int `json:"capacity"`
	// Layers is the number of strided convolutions per ConvNet (widths C,
	// 2C, 4C, …), each followed by LeakyReLU(0.2).
	Layers int `json:"n_layers"`
	// Stride is the stride of those convolutions.
	Stride int `json:"stride"`
	// Periods are the periods of the period sub-discriminators.
	Periods []int `json:"periods"`
	// Scales is the number of scale sub-discriminators.
	Scales int `json:"n_discriminators"`
	// PeriodKernel is the time kernel of the period ConvNets' (k, 1) Conv2d.
	PeriodKernel int `json:"period_kernel_size"`
	// ScaleKernel is the kernel of the scale ConvNets' Conv1d.
	ScaleKernel int `json:"scale_kernel_size"`
}

// TrainingConfig holds the loss weights and schedules of v2.3.1's
// RAVE.training_step and its callbacks.
type TrainingConfig struct {
	// Phase1Steps is the length of stage 1 in batches (PHASE_1_DURATION).
	Phase1Steps int `json:"phase_1_duration"`
	// GeneratorLR is the generator's initial Adam learning rate.
	GeneratorLR float64 `json:"generator_lr"`
	// GeneratorLREndFactor is the factor the generator's rate reaches,
	// linearly, after Phase1Steps batches (LinearLR end_factor).
	GeneratorLREndFactor float64 `json:"generator_lr_end_factor"`
	// DiscriminatorLR is the discriminator's (constant) learning rate.
	DiscriminatorLR float64 `json:"discriminator_lr"`
	// AdamBeta1 is the first beta of both Adam optimisers.
	AdamBeta1 float64 `json:"adam_beta1"`
	// AdamBeta2 is their second beta.
	AdamBeta2 float64 `json:"adam_beta2"`
	// BetaInitial is the KL weight at the start of the warm-up
	// (BetaWarmupCallback, log-linear).
	BetaInitial float64 `json:"beta_initial_value"`
	// BetaTarget is the KL weight after it.
	BetaTarget float64 `json:"beta_target_value"`
	// BetaWarmup is the warm-up length in batches.
	BetaWarmup int `json:"beta_warmup_len"`
	// FeatureMatchingWeight is weights['feature_matching']; v2.3.1 applies
	// it twice (effective weight 400 for 20).
	FeatureMatchingWeight float64 `json:"feature_matching_weight"`
	// AdversarialWeight is weights['adversarial'], also applied twice.
	AdversarialWeight float64 `json:"adversarial_weight"`
	// SkippedFeatures is the number of leading feature maps of every
	// sub-discriminator left out of feature matching.
	SkippedFeatures int `json:"num_skipped_features"`
	// UpdateDiscriminatorEvery: in stage 2, batches with index multiple of
	// it update the discriminator, the others the generator.
	UpdateDiscriminatorEvery int `json:"update_discriminator_every"`
	// SpectralScales are the FFT sizes of the multiscale spectral distance.
	SpectralScales []int `json:"spectral_scales"`
	// LogEpsilon is ε in its log-magnitude term.
	LogEpsilon float64 `json:"log_epsilon"`
	// ValidSignalCrop crops the multiband pair by the receptive field
	// before the multiband distance (once the receptive field is known).
	ValidSignalCrop bool `json:"valid_signal_crop"`
}

// presets are the built-in configurations, completed by withV2Defaults.
var presets = map[string]struct{ capacity, latent int }{
	"v2":       {capacity: 96, latent: 128},
	"v2-small": {capacity: 8, latent: 16},
}

// withV2Defaults returns configs/v2.gin (v2.3.1) with the given capacity
// (encoder, generator and discriminator) and latent size.
func withV2Defaults(capacity, latent int) Config {
	return Config{
		Architecture:        ArchitectureV2,
		SampleRate:          44100,
		Bands:               16,
		PQMFAttenuation:     100,
		Capacity:            capacity,
		LatentSize:          latent,
		Ratios:              []int{4, 4, 4, 2},
		KernelSize:          3,
		Dilations:           [][]int{{1, 3, 9}, {1, 3, 9}, {1, 3, 9}, {1, 3}},
		AmplitudeModulation: true,
		Discriminator: DiscriminatorConfig{
			Capacity: capacity, Layers: 4, Stride: 4,
			Periods: []int{2, 3, 5, 7, 11}, Scales: 3,
			PeriodKernel: 5, ScaleKernel: 15,
		},
		Training: TrainingConfig{
			Phase1Steps:          1_000_000,
			GeneratorLR:          1e-3,
			GeneratorLREndFactor: 0.1,
			DiscriminatorLR:      1e-4,
			AdamBeta1:            0.5, AdamBeta2: 0.9,
			BetaInitial: 1e-6, BetaTarget: 0.05, BetaWarmup: 20_000,
			FeatureMatchingWeight:    20,
			AdversarialWeight:        1,
			SkippedFeatures:          1,
			UpdateDiscriminatorEvery: 4,
			SpectralScales:           []int{2048, 1024, 512, 256, 128},
			LogEpsilon:               1e-7,
			ValidSignalCrop:          true,
		},
	}
}

// PresetNames returns the names of the built-in presets, sorted.
func PresetNames() []string {
	return slices.Sorted(maps.Keys(presets))
}

// Preset returns a built-in configuration:
//
//   - "v2": configs/v2.gin of v2.3.1 (capacity 96, latent 128, 44.1 kHz,
//     16 bands, ratios 4·4·4·2, no noise generator);
//   - "v2-small": the same network with capacity 8 and latent 16, as the
//     rave-v2-small parity fixture instantiates it. It is not the
//     reference's configs/v2_small.gin (capacity 48, ratios 4·2·2·2).
//
// Use WithNoise to add configs/noise.gin.
func Preset(name string) (Config, error) {
	key := strings.ToLower(name)
	p, ok := presets[key]
	if !ok {
		return Config{}, fmt.Errorf("modelv2: unknown preset %q (have %s)", name, strings.Join(PresetNames(), ", "))
	}
	c := withV2Defaults(p.capacity, p.latent)
	c.Preset = key
	return c, nil
}

// WithNoise returns c with the noise generator of configs/noise.gin:
// hidden size 128, ratios 2·2·2, 5 noise bands per PQMF band.
func (c Config) WithNoise() Config {
	c.Noise = &NoiseConfig{HiddenSize: 128, Ratios: []int{2, 2, 2}, NoiseBands: 5}
	return c
}

// Validate reports the first inconsistency in the configuration.
func (c Config) Validate() error {
	checks := []func() error{c.validateNetwork, c.validateNoise, c.validateDiscriminator, c.validateTraining}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validateNetwork() error {
	switch {
	case c.Architecture != ArchitectureV2:
		return fmt.Errorf("modelv2: architecture %q, this package builds %q", c.Architecture, ArchitectureV2)
	case c.SampleRate < 1:
		return fmt.Errorf("modelv2: sampling_rate %d must be positive", c.SampleRate)
	case c.Bands < 2 || c.Bands&(c.Bands-1) != 0:
		return fmt.Errorf("modelv2: n_band %d must be a power of two ≥ 2", c.Bands)
	case c.PQMFAttenuation <= 21:
		return fmt.Errorf("modelv2: pqmf_attenuation %g dB must exceed 21", c.PQMFAttenuation)
	case c.Capacity < 1 || c.LatentSize < 1:
		return fmt.Errorf("modelv2: capacity %d and latent_size %d must be at least 1", c.Capacity, c.LatentSize)
	case len(c.Ratios) == 0:
		return fmt.Errorf("modelv2: ratios must not be empty")
	case c.KernelSize < 1:
		return fmt.Errorf("modelv2: kernel_size %d must be at least 1", c.KernelSize)
	case len(c.Dilations) != len(c.Ratios):
		return fmt.Errorf("modelv2: %d dilation lists for %d ratios", len(c.Dilations), len(c.Ratios))
	}
	for _, r := range c.Ratios {
		if r < 2 || r%2 != 0 {
			return fmt.Errorf("modelv2: ratio %d must be even (the transposed convolutions crop r/2 per side)", r)
		}
	}
	for i, ds := range c.Dilations {
		for _, d := range ds {
			if d < 1 {
				return fmt.Errorf("modelv2: dilation %d of stage %d must be at least 1", d, i)
			}
		}
	}
	return nil
}

func (c Config) validateNoise() error {
	n := c.Noise
	if n == nil {
		return nil
	}
	if n.HiddenSize < 1 || n.NoiseBands < 2 || len(n.Ratios) == 0 {
		return fmt.Errorf("modelv2: noise needs hidden_size ≥ 1, noise_bands ≥ 2 and ratios (have %d, %d, %v)", n.HiddenSize, n.NoiseBands, n.Ratios)
	}
	for _, r := range n.Ratios {
		if r < 1 {
			return fmt.Errorf("modelv2: noise ratio %d must be at least 1", r)
		}
	}
	if c.SubbandRatio()%product(n.Ratios) != 0 {
		return fmt.Errorf("modelv2: noise block of %d sub-band samples does not divide the %d of a latent frame", product(n.Ratios), c.SubbandRatio())
	}
	return nil
}

func (c Config) validateDiscriminator() error {
	d := c.Discriminator
	switch {
	case d.Capacity < 1 || d.Layers < 1 || d.Stride < 1:
		return fmt.Errorf("modelv2: discriminator needs capacity, n_layers and stride ≥ 1 (have %d, %d, %d)", d.Capacity, d.Layers, d.Stride)
	case d.Scales < 0 || len(d.Periods)+d.Scales == 0:
		return fmt.Errorf("modelv2: discriminator needs at least one sub-discriminator (%d periods, %d scales)", len(d.Periods), d.Scales)
	case d.PeriodKernel < 1 || d.ScaleKernel < 1:
		return fmt.Errorf("modelv2: discriminator kernels %d and %d must be at least 1", d.PeriodKernel, d.ScaleKernel)
	}
	for _, p := range d.Periods {
		if p < 1 {
			return fmt.Errorf("modelv2: period %d must be at least 1", p)
		}
	}
	return nil
}

func (c Config) validateTraining() error {
	t := c.Training
	switch {
	case t.Phase1Steps < 0:
		return fmt.Errorf("modelv2: phase_1_duration %d must not be negative", t.Phase1Steps)
	case !(t.GeneratorLR > 0) || !(t.DiscriminatorLR > 0) || !(t.GeneratorLREndFactor > 0):
		return fmt.Errorf("modelv2: learning rates %g, %g and end factor %g must be positive", t.GeneratorLR, t.DiscriminatorLR, t.GeneratorLREndFactor)
	case t.AdamBeta1 < 0 || t.AdamBeta1 >= 1 || t.AdamBeta2 < 0 || t.AdamBeta2 >= 1:
		return fmt.Errorf("modelv2: Adam betas (%g, %g) must lie in [0, 1)", t.AdamBeta1, t.AdamBeta2)
	case !(t.BetaInitial > 0) || !(t.BetaTarget > 0) || t.BetaWarmup < 1:
		return fmt.Errorf("modelv2: β warm-up %g → %g over %d steps needs positive values", t.BetaInitial, t.BetaTarget, t.BetaWarmup)
	case t.FeatureMatchingWeight < 0 || t.AdversarialWeight < 0:
		return fmt.Errorf("modelv2: loss weights %g, %g must not be negative", t.FeatureMatchingWeight, t.AdversarialWeight)
	case t.SkippedFeatures < 0 || t.SkippedFeatures > c.Discriminator.Layers:
		return fmt.Errorf("modelv2: num_skipped_features %d must leave at least the score map of %d", t.SkippedFeatures, c.Discriminator.Layers+1)
	case t.UpdateDiscriminatorEvery < 1:
		return fmt.Errorf("modelv2: update_discriminator_every %d must be at least 1", t.UpdateDiscriminatorEvery)
	case len(t.SpectralScales) == 0:
		return fmt.Errorf("modelv2: spectral_scales must not be empty")
	case !(t.LogEpsilon > 0):
		return fmt.Errorf("modelv2: log_epsilon %g must be positive", t.LogEpsilon)
	}
	for _, n := range t.SpectralScales {
		if n < 4 || n&(n-1) != 0 {
			return fmt.Errorf("modelv2: spectral scale %d must be a power of two ≥ 4", n)
		}
	}
	return nil
}

// Padding returns cached_conv's get_padding for a kernel of size k and
// dilation d in the configured mode: centred (core.SamePadding, the
// stride ignored) or, with Causal, all on the left (core.CausalPadding).
func (c Config) Padding(k, d int) (left, right int) {
	if c.Causal {
		return core.CausalPadding(k, d)
	}
	return core.SamePadding(k, d)
}

// SubbandRatio returns the product of the ratios: sub-band samples per
// latent frame.
func (c Config) SubbandRatio() int { return product(c.Ratios) }

// CompressionRatio returns the audio samples per latent frame, Bands·Π
// ratios (2048 for v2).
func (c Config) CompressionRatio() int { return c.Bands * c.SubbandRatio() }

// JSON returns the configuration as JSON.
func (c Config) JSON() string { return nn.ConfigJSON("modelv2", c) }

// ParseConfig decodes a JSON configuration, filling absent fields from the
// "v2" preset, and validates it.
func ParseConfig(js []byte) (Config, error) {
	c, _ := Preset("v2")
	c.Preset = ""
	return nn.ParseConfig("modelv2", c, js)
}

// clone returns a deep copy (the slices are not shared).
func (c Config) clone() Config {
	c.Ratios = slices.Clone(c.Ratios)
	ds := make([][]int, len(c.Dilations))
	for i, d := range c.Dilations {
		ds[i] = slices.Clone(d)
	}
	c.Dilations = ds
	if c.Noise != nil {
		n := *c.Noise
		n.Ratios = slices.Clone(n.Ratios)
		c.Noise = &n
	}
	c.Discriminator.Periods = slices.Clone(c.Discriminator.Periods)
	c.Training.SpectralScales = slices.Clone(c.Training.SpectralScales)
	return c
}

func product(xs []int) int {
	p := 1
	for _, x := range xs {
		p *= x
	}
	return p
}
