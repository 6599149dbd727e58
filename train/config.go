package train

import (
	"fmt"

	"github.com/ravestation/rave/core/model"
)

// Config configures a training run. Zero fields take the defaults of the
// preset (see Defaults).
type Config struct {
	// SessionDir is the session folder holding dataset.bin; metrics,
	// checkpoints and the model are written there.
	SessionDir string
	// Preset names the model preset ("tiny", "small", "v1") for a new run;
	// a resumed run keeps its checkpoint's model.
	Preset string
	// Stage1Steps is the number of VAE steps before the adversarial stage
	// (the reference's warmup).
	Stage1Steps int64
	// Steps is the total number of steps.
	Steps int64
	// Batch is the number of examples per step.
	Batch int
	// NSignal is the number of samples per example; a multiple of the
	// model's compression ratio.
	NSignal int
	// Seed makes the run reproducible: initialisation, batches, noise.
	Seed uint64
	// LR is the Adam learning rate of generator and discriminator
	// (reference 1e-4, betas 0.5 and 0.9).
	LR float64
	// LogEvery, ValEvery and CheckpointEvery are intervals in steps.
	LogEvery, ValEvery, CheckpointEvery int64
	// Keep is the number of checkpoints kept.
	Keep int
	// ValFraction is the share of chunks held out for validation (0.02).
	ValFraction float64
	// ValExamples caps the validation examples used per validation.
	ValExamples int
	// Augment configures the data augmentation.
	Augment Augment
}

// Defaults returns the configuration for a preset. v1 follows the
// reference (1 M stage-1 steps, 3 M in all, batch 8 × 65 536); small and
// tiny are sized for a CPU: shorter runs and examples.
func Defaults(preset string) (Config, error) {
	if _, err := model.Preset(preset); err != nil {
		return Config{}, err
	}
	c := Config{Preset: preset, Seed: 1, LR: 1e-4, ValFraction: 0.02, Keep: 3, Augment: DefaultAugment()}
	switch preset {
	case "v1":
		c.Stage1Steps, c.Steps, c.Batch, c.NSignal = 1_000_000, 3_000_000, 8, 65536
		c.LogEvery, c.ValEvery, c.CheckpointEvery, c.ValExamples = 100, 10_000, 10_000, 64
	case "small":
		c.Stage1Steps, c.Steps, c.Batch, c.NSignal = 200_000, 300_000, 8, 32768
		c.LogEvery, c.ValEvery, c.CheckpointEvery, c.ValExamples = 20, 1000, 1000, 32
	default: // tiny
		c.Stage1Steps, c.Steps, c.Batch, c.NSignal = 20_000, 30_000, 4, 32768
		c.LogEvery, c.ValEvery, c.CheckpointEvery, c.ValExamples = 10, 500, 500, 16
	}
	return c, nil
}

// fill replaces zero fields with the preset's defaults.
func (c Config) fill() (Config, error) {
	if c.Preset == "" {
		c.Preset = "small"
	}
	d, err := Defaults(c.Preset)
	if err != nil {
		return c, err
	}
	if c.Stage1Steps == 0 {
		c.Stage1Steps = d.Stage1Steps
	}
	if c.Steps == 0 {
		c.Steps = max(d.Steps, c.Stage1Steps)
	}
	if c.Batch == 0 {
		c.Batch = d.Batch
	}
	if c.NSignal == 0 {
		c.NSignal = d.NSignal
	}
	if c.LR == 0 {
		c.LR = d.LR
	}
	if c.LogEvery == 0 {
		c.LogEvery = d.LogEvery
	}
	if c.ValEvery == 0 {
		c.ValEvery = d.ValEvery
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = d.CheckpointEvery
	}
	if c.Keep == 0 {
		c.Keep = d.Keep
	}
	if c.ValFraction == 0 {
		c.ValFraction = d.ValFraction
	}
	if c.ValExamples == 0 {
		c.ValExamples = d.ValExamples
	}
	if c.Augment == (Augment{}) {
		c.Augment = d.Augment
	}
	if c.Steps < c.Stage1Steps {
		return c, fmt.Errorf("train: %d total steps is fewer than the %d stage-1 steps", c.Steps, c.Stage1Steps)
	}
	return c, nil
}
