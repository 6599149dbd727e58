package train

import (
	"cmp"
	"fmt"
	"math"

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
	// LR is the Adam learning rate of generator and discriminator, betas
	// 0.5 and 0.9: v1's 1e-4 for the v1 preset, v2.3's 1e-3 (its rate
	// during stage 1's start) for small and tiny.
	LR float64
	// LRDecay, when positive, is the number of steps over which the
	// learning rate falls log-linearly from LR to LR/10, where it stays
	// (LRAt). 0 takes the preset's default; a negative value keeps LR
	// constant, as v1 and small train.
	LRDecay int64 `json:",omitempty"`
	// BetaWarmup is the number of steps over which the KL weight β rises
	// log-linearly from BetaStart to the model's max_kl (the warm-up of the
	// reference's v2.3 configs). 0 takes the preset's default (none for
	// v1, DefaultBetaWarmup for small and tiny); a negative value keeps β
	// at max_kl from the first step, as v1 trains.
	BetaWarmup int64 `json:",omitempty"`
	// BetaStart is β at step 0 of the warm-up (default 1e-6, the
	// reference's).
	BetaStart float64 `json:",omitempty"`
	// BetaMax, when positive, is the KL weight the warm-up ends at,
	// written into a new run's model as its max_kl (and min_kl): v2.3's
	// 0.05 instead of v1's 0.1, for instance. 0 keeps the preset's model
	// value; a resumed run keeps its model's.
	BetaMax float64 `json:",omitempty"`
	// Split is the number of parts a batch is split into, computed
	// concurrently on replicas of the model as the reference's
	// DistributedDataParallel training does on that many devices (see
	// trainStep). 0 takes DefaultSplit for a new run; a checkpoint written
	// without the field resumes with 1, the whole batch at once, as it
	// was trained.
	Split int `json:",omitempty"`
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
	// EMA, when between 0 and 1, is the decay of an exponential moving
	// average of the decoder's weights kept beside the trained ones
	// (Polyak averaging; the reference v2's --ema): the model files,
	// validation and the best model use the average, which irons out the
	// step-to-step jumps of a high learning rate (the encoder stays as
	// trained, see emaSlabs). 0 takes the
	// preset's default (DefaultEMA for quick, none for the others); a
	// negative value turns it off.
	EMA float64 `json:",omitempty"`
	// Envelope, when positive, adds Envelope times the envelope distance
	// (model.EnvelopeDistance: the frame-by-frame log power of the output
	// against the input's, one frame per latent frame) to the generator's
	// loss in both stages, a departure from the reference that keeps quiet
	// decays at their level. 0 takes the preset's default
	// (DefaultEnvelope for quick, none for the others); a negative value
	// turns it off.
	Envelope float64 `json:",omitempty"`
	// UpsamplerInit is how a new run initialises the decoder's
	// up-samplers: "drawn" as PyTorch draws every layer (the reference's,
	// v1's and small's), or "smooth" (model.SmoothUpsamplers: linear
	// interpolation without the frame-rate buzz, quick's). Empty takes the
	// preset's.
	UpsamplerInit string `json:",omitempty"`
	// Stage2Plateau, when positive, starts stage 2 before Stage1Steps once
	// the validation distance has stopped improving: at the validation
	// that makes Stage2Plateau validations in a row, from step Stage2From
	// on, none of which lowered the best validation distance by
	// Stage2MinGain of its value. The switch depends only on the
	// validations, so a run switches at the same step however often it is
	// stopped and resumed. 0 takes the preset's default (DefaultStage2Plateau
	// for quick, none for the others); a negative value turns it off.
	Stage2Plateau int `json:",omitempty"`
	// Stage2From is the first step at which the plateau switch may fire.
	Stage2From int64 `json:",omitempty"`
}

// Stage2MinGain is the share by which a validation must lower the best
// validation distance to count as progress for the plateau switch
// (Config.Stage2Plateau).
const Stage2MinGain = 0.02

// DefaultEMA is the quick preset's weight average: a horizon of about
// 1 000 steps, two minutes on two cores.
const DefaultEMA = 0.999

// DefaultEnvelope is the quick preset's weight of the envelope distance
// (Config.Envelope): a frame 3 dB off costs 0.69, as much as a spectral
// log term off by a factor of two at every bin of one scale.
const DefaultEnvelope = 1.0

// DefaultStage2Plateau is the quick preset's plateau switch: 10
// validations of 500 steps (5 000 steps, about 10 minutes on two cores)
// without a 2 % gain, from step DefaultStage2From on.
const DefaultStage2Plateau = 10

// DefaultStage2From is the earliest plateau switch of the quick preset:
// 40 000 steps, about 75 minutes on two cores, well past the point where
// the held-out notes of the development set take their pitch (README, "A
// model in 30 minutes").
const DefaultStage2From = 40_000

// PlateauSwitch reports whether the plateau switch is on.
func (c Config) PlateauSwitch() bool { return c.Stage2Plateau > 0 }

// DefaultSplit is the number of parts a batch is split into by default:
// two, one per core of the development machine, where it makes a step of
// the small preset 1.4× faster than one part spread over both cores. It
// does not depend on the machine, so a run gives the same weights
// wherever it runs.
const DefaultSplit = 2

// DefaultBetaWarmup is the β warm-up of the small and tiny presets: the
// reference v2.3's 20 000 steps from 1e-6. With v1's constant β = 0.1 from
// step 0 the KL term squeezes the latents nearly shut before the decoder
// has learnt anything (on the piano set: KL 3.7 after 5 000 steps, and
// reconstructions 18 dB too quiet without the notes' partials); warmed up,
// the latents carry information from the start (KL above 1 000 by step
// 2 000), which is what a short CPU run needs.
const DefaultBetaWarmup = 20_000

// DefaultPreset is the preset of a new run when none is named: quick, made
// for learning per CPU-second.
const DefaultPreset = "quick"

// Defaults returns the configuration for a preset. v1 follows the
// reference (1 M stage-1 steps, 3 M in all, batch 8 × 65 536, constant β);
// small and tiny are sized for a CPU: shorter runs and examples, and
// v2.3's learning rate (1e-3) and β warm-up (DefaultBetaWarmup), made for
// the first steps of a run. quick adds batches of 4 (half the work of a
// step of 8), the smoothed up-samplers, the learning-rate decay, the
// decoder's weight average, the envelope term and the plateau switch to
// stage 2.
func Defaults(preset string) (Config, error) {
	if _, err := model.Preset(preset); err != nil {
		return Config{}, err
	}
	c := Config{Preset: preset, Seed: 1, LR: 1e-4, ValFraction: 0.02, Keep: 3, Augment: DefaultAugment(),
		BetaWarmup: DefaultBetaWarmup, BetaStart: 1e-6}
	switch preset {
	case "v1":
		c.Stage1Steps, c.Steps, c.Batch, c.NSignal = 1_000_000, 3_000_000, 8, 65536
		c.BetaWarmup = -1
		c.LogEvery, c.ValEvery, c.CheckpointEvery, c.ValExamples = 100, 10_000, 10_000, 64
	case "quick":
		c.LR = 1e-3
		c.Stage1Steps, c.Steps, c.Batch, c.NSignal = 150_000, 200_000, 4, 32768
		c.LogEvery, c.ValEvery, c.CheckpointEvery, c.ValExamples = 20, 500, 1000, 32
		c.Stage2Plateau, c.Stage2From = DefaultStage2Plateau, DefaultStage2From
		c.UpsamplerInit, c.LRDecay, c.EMA = "smooth", 20_000, DefaultEMA
		c.Envelope = DefaultEnvelope
	case "small":
		c.LR = 1e-3
		c.Stage1Steps, c.Steps, c.Batch, c.NSignal = 200_000, 300_000, 8, 32768
		c.LogEvery, c.ValEvery, c.CheckpointEvery, c.ValExamples = 20, 1000, 1000, 32
	default: // tiny
		c.LR = 1e-3
		c.Stage1Steps, c.Steps, c.Batch, c.NSignal = 20_000, 30_000, 4, 32768
		c.LogEvery, c.ValEvery, c.CheckpointEvery, c.ValExamples = 10, 500, 500, 16
	}
	return c, nil
}

// fill replaces zero fields with the preset's defaults.
func (c Config) fill() (Config, error) {
	if c.Preset == "" {
		c.Preset = DefaultPreset
	}
	d, err := Defaults(c.Preset)
	if err != nil {
		return c, err
	}
	c.Stage1Steps = cmp.Or(c.Stage1Steps, d.Stage1Steps)
	c.Steps = cmp.Or(c.Steps, max(d.Steps, c.Stage1Steps))
	c.Batch = cmp.Or(c.Batch, d.Batch)
	c.NSignal = cmp.Or(c.NSignal, d.NSignal)
	c.LR = cmp.Or(c.LR, d.LR)
	c.LogEvery = cmp.Or(c.LogEvery, d.LogEvery)
	c.ValEvery = cmp.Or(c.ValEvery, d.ValEvery)
	c.CheckpointEvery = cmp.Or(c.CheckpointEvery, d.CheckpointEvery)
	c.Keep = cmp.Or(c.Keep, d.Keep)
	c.ValFraction = cmp.Or(c.ValFraction, d.ValFraction)
	c.ValExamples = cmp.Or(c.ValExamples, d.ValExamples)
	c.BetaWarmup = cmp.Or(c.BetaWarmup, d.BetaWarmup)
	c.LRDecay = cmp.Or(c.LRDecay, d.LRDecay)
	c.EMA = cmp.Or(c.EMA, d.EMA)
	c.Envelope = cmp.Or(c.Envelope, d.Envelope)
	if math.IsNaN(c.Envelope) || math.IsInf(c.Envelope, 0) {
		return c, fmt.Errorf("train: envelope weight %g: want a finite number (negative for none)", c.Envelope)
	}
	if c.EMA >= 1 || math.IsNaN(c.EMA) {
		return c, fmt.Errorf("train: a weight average with decay %g would never move (want a decay below 1, or a negative value for none)", c.EMA)
	}
	c.UpsamplerInit = cmp.Or(c.UpsamplerInit, d.UpsamplerInit, "drawn")
	if c.UpsamplerInit != "drawn" && c.UpsamplerInit != "smooth" {
		return c, fmt.Errorf("train: up-sampler initialisation %q: want drawn or smooth", c.UpsamplerInit)
	}
	c.Stage2Plateau = cmp.Or(c.Stage2Plateau, d.Stage2Plateau)
	c.Stage2From = cmp.Or(c.Stage2From, d.Stage2From)
	c.Split = cmp.Or(c.Split, DefaultSplit)
	if c.Split < 0 {
		return c, fmt.Errorf("train: a batch cannot be split into %d parts", c.Split)
	}
	c.BetaStart = cmp.Or(c.BetaStart, 1e-6)
	c.BetaMax = cmp.Or(c.BetaMax, d.BetaMax)
	if c.BetaMax < 0 || math.IsNaN(c.BetaMax) || math.IsInf(c.BetaMax, 0) {
		return c, fmt.Errorf("train: the KL weight cannot end at %g (want a positive weight, or 0 for the preset's)", c.BetaMax)
	}
	if c.ValFraction <= 0 || c.ValFraction >= 0.5 || math.IsNaN(c.ValFraction) {
		return c, fmt.Errorf("train: a validation share of %g: want a fraction above 0 and below 0.5", c.ValFraction)
	}
	if c.BetaStart < 0 || math.IsNaN(c.BetaStart) {
		return c, fmt.Errorf("train: the β warm-up cannot start at %g (want a positive weight)", c.BetaStart)
	}
	if c.Augment == (Augment{}) {
		c.Augment = d.Augment
	}
	if c.Steps < 0 || c.Stage1Steps < 0 {
		return c, fmt.Errorf("train: %d total steps with %d stage-1 steps: want counts of 0 or more", c.Steps, c.Stage1Steps)
	}
	// Steps below Stage1Steps is a short run that ends in stage 1
	// (ShortOfStage2 says so).
	return c, nil
}

// ShortOfStage2 reports whether a run at step of this config ends before
// the adversarial stage: Steps is below Stage1Steps, as in a short trial
// run (`rave train --steps 60` on the tiny preset, of 20 000 stage-1 steps).
func (c Config) ShortOfStage2(step int64) bool {
	return c.Steps < c.Stage1Steps && step < c.Steps
}

// resumed returns c, the config stored in a checkpoint, for a run resumed
// with the flags in o: a non-zero Steps or Stage1Steps replaces the stored
// one; without a new Steps, Steps is at least Stage1Steps (a short stage-1
// run resumed goes on to the stage boundary); the rest, the model and the
// seed included, is the checkpoint's.
func (c Config) resumed(o Config) Config {
	if o.Steps != 0 {
		c.Steps = o.Steps
	}
	if o.Stage1Steps != 0 {
		c.Stage1Steps = o.Stage1Steps
	}
	if o.Steps == 0 && c.Steps < c.Stage1Steps {
		c.Steps = c.Stage1Steps
	}
	return c
}

// Beta returns the KL weight at step for a model whose full weight is
// maxKL: maxKL itself without a warm-up, else
// exp((1−r)·ln BetaStart + r·ln maxKL) with r = step/BetaWarmup capped at 1.
func (c Config) Beta(step int64, maxKL float64) float64 {
	if c.BetaWarmup <= 0 || c.BetaStart <= 0 || maxKL <= 0 {
		return maxKL
	}
	r := min(float64(step)/float64(c.BetaWarmup), 1)
	return math.Exp((1-r)*math.Log(c.BetaStart) + r*math.Log(maxKL))
}

// LRAt returns the learning rate of step: LR, or with LRDecay
// LR·10^(−min(step/LRDecay, 1)).
func (c Config) LRAt(step int64) float64 {
	if c.LRDecay <= 0 {
		return c.LR
	}
	r := min(float64(max(step, 0))/float64(c.LRDecay), 1)
	return c.LR * math.Pow(10, -r)
}

// parts returns the number of parts a step's batch is split into: Split,
// at most one example each, 1 for a configuration without the field.
func (c Config) parts() int { return max(1, min(c.Split, c.Batch)) }
