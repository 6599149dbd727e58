package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// ErrDiverged is returned when the loss becomes NaN or infinite again after
// one recovery.
var ErrDiverged = errors.New("training diverged")

// poisonHook, set only by tests, makes the loss of the steps it returns
// true for NaN, to exercise the recovery path.
var poisonHook func(step int64) bool

// stepSalt separates the per-step random streams from the loader's.
const stepSalt = 0x9e3779b97f4a7c15

// trainer is the state of one Run: the job of its runner (which holds the
// session folder, the step and the stage), with the model, the optimisers,
// the data and what is the RAVE trainer's own (NaN recovery, the run
// manifest, the best validation).
type trainer struct {
	runner
	cfg     Config
	m       *model.Model
	adams   map[string]*core.Adam // "enc", "dec", "disc"
	ds      *audio.Dataset
	loader  *Loader
	valIdx  []int
	lrScale float64
	nanHits int
	tp      *core.Tape
	reps    []*replica // the parts of a data-parallel step (replicas)
	run     *RunManifest
	lastVal float64
	bestVal float64 // lowest validation distance so far (0: none yet)
	// plateauRef is the best validation distance at the last validation
	// that counted as progress for the plateau switch, plateauCount the
	// validations since (see plateau).
	plateauRef   float64
	plateauCount int
	ema          *emaState // the weights' moving average (Config.EMA), nil without
}

// Run trains the model of the session in cfg.SessionDir until cfg.Steps,
// resuming from the newest checkpoint if there is one. Progress goes to
// events (if not nil; step events are dropped when the receiver is slow,
// others are always delivered), to metrics.jsonl and to status.json. When
// ctx is cancelled (SIGINT, SIGTERM) it writes a checkpoint and returns nil;
// running it again resumes exactly where it stopped. The caller holds the
// session lock.
func Run(ctx context.Context, cfg Config, events chan<- Event) (err error) {
	t := &trainer{lrScale: 1}
	t.runner = runner{job: t, dir: cfg.SessionDir, status: statusPath(cfg.SessionDir, cfg.SessionDir),
		events: events, runStart: time.Now(),
		names: naming{weights: layout.CheckpointModelFile, model: layout.ModelFile, errs: "train: ", step: "step", thing: "model"}}
	defer func() {
		if t.ds != nil {
			t.ds.Close()
		}
		t.closeMetrics()
		if err != nil {
			t.end("failed", err.Error(), err, Event{Kind: runlog.EventDone, Message: err.Error()})
		}
	}()
	if err := t.setup(cfg); err != nil {
		return err
	}
	// Validation and checkpoints between steps allocate too; keep the
	// step's collector target for the whole loop (see stepGCPercent).
	defer debug.SetGCPercent(debug.SetGCPercent(stepGCPercent))
	return t.loop(ctx)
}

// setup opens the dataset, resumes from the newest checkpoint or builds a
// new model, and prepares the loader, the metrics log and the run
// manifest; a new run is validated and checkpointed at step 0.
func (t *trainer) setup(cfg Config) error {
	ds, err := audio.OpenDataset(t.dir)
	if err != nil {
		return fmt.Errorf("train: %w (run `rave preprocess` on this session first)", err)
	}
	t.ds = ds
	resumed, err := resumeLatest(&t.runner, loadCheckpoint, func(path string, got loaded) error { return t.restore(path, got, cfg) })
	if err != nil {
		return err
	}
	if !resumed {
		if cfg, err = cfg.fill(); err != nil {
			return err
		}
		t.cfg = cfg
		mc, err := model.Preset(cfg.Preset)
		if err != nil {
			return err
		}
		mc.Warmup = int(cfg.Stage1Steps)
		if cfg.BetaMax > 0 {
			mc.MinKL, mc.MaxKL = cfg.BetaMax, cfg.BetaMax
		}
		if ds.SampleRate() != mc.SR {
			return fmt.Errorf("train: the dataset is at %d Hz but preset %s runs at %d Hz; preprocess again with --rate %d", ds.SampleRate(), cfg.Preset, mc.SR, mc.SR)
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, 0))
		m, err := model.New(mc, rng)
		if err != nil {
			return err
		}
		if cfg.UpsamplerInit == "smooth" {
			m.SmoothUpsamplers()
		}
		m.AddDiscriminator(rng)
		t.m = m
		t.newOptimisers()
		t.newEMA()
		t.stage = runlog.StageVAE
	}
	if r := t.m.Config.CompressionRatio(); t.cfg.NSignal%r != 0 {
		return fmt.Errorf("train: examples of %d samples are not a multiple of the model's %d samples per latent frame", t.cfg.NSignal, r)
	}
	// The 2048-point STFT of the multiband distance pads each band by 1024
	// samples (reflect), which needs bands longer than that.
	if bands := t.m.Config.DataSize; t.cfg.NSignal/bands <= 1024 {
		return fmt.Errorf("train: examples of %d samples give %d samples per PQMF band; the 2048-point spectral distance needs more than 1024 (use at least %d)", t.cfg.NSignal, t.cfg.NSignal/bands, 2048*bands)
	}
	trainIdx, valIdx := Split(ds.Len(), t.cfg.ValFraction, t.cfg.Seed)
	if len(trainIdx) == 0 {
		return fmt.Errorf("train: the dataset has %d chunk(s): too little audio to train (add more with `rave preprocess`)", ds.Len())
	}
	t.valIdx = valIdx
	if t.loader, err = NewLoader(ds, trainIdx, t.cfg.Batch, t.cfg.NSignal, t.cfg.Seed, t.cfg.Augment); err != nil {
		return err
	}
	t.loader.SetNext(t.step)
	if err := t.openMetrics(); err != nil {
		return err
	}
	t.tp = core.NewTape()
	t.run = newRunManifest(t.dir, t.cfg, t.m.Config.JSON(), t.step, resumed)
	if err := t.run.save(t.dir); err != nil {
		return fmt.Errorf("train: run manifest: %w", err)
	}
	if t.stage == runlog.StageVAE && t.cfg.ShortOfStage2(t.step) {
		t.emit(Event{Kind: runlog.EventWarning, Step: t.step, Stage: t.stage, Message: fmt.Sprintf(
			"note: this run ends at step %d, in stage 1; stage 2 (adversarial) starts at step %d", t.cfg.Steps, t.cfg.Stage1Steps)})
	}
	return t.begin(resumed, Event{Kind: runlog.EventStage, Message: fmt.Sprintf("%s at step %d in %v (preset %s, %d train / %d validation chunks)",
		starting(resumed), t.step, t.stage, t.m.Config.Preset, len(trainIdx), len(valIdx))})
}

// newOptimisers makes fresh Adam optimisers for the model's encoder,
// decoder and discriminator.
func (t *trainer) newOptimisers() {
	b1, b2 := 0.5, 0.9
	t.adams = map[string]*core.Adam{
		"enc":  core.NewAdam(t.m.Enc.Count(), t.cfg.LR, b1, b2),
		"dec":  core.NewAdam(t.m.Dec.Count(), t.cfg.LR, b1, b2),
		"disc": core.NewAdam(t.m.Disc.Count(), t.cfg.LR, b1, b2),
	}
}

// loaded is a checkpoint of the RAVE trainer read back.
type loaded = saved[*model.Model]

// loadCheckpoint reads the checkpoint at p: a model with a discriminator
// and the trainer state.
func loadCheckpoint(p string) (loaded, error) {
	return readSaved(p, func(p string) (*model.Model, error) {
		m, err := model.Load(filepath.Join(p, layout.CheckpointModelFile))
		if err == nil && m.Disc == nil {
			return nil, errors.New("checkpoint model has no discriminator")
		}
		return m, err
	}, layout.CheckpointStateFile, CheckpointFormat)
}

// restore takes the run's state from got, the checkpoint at path, with
// the flags in override (see Config.resumed).
func (t *trainer) restore(path string, got loaded, override Config) error {
	var stored Config
	if err := got.config(&stored); err != nil {
		return fmt.Errorf("train: checkpoint %s: config: %w", path, err)
	}
	t.cfg = stored.resumed(override)
	t.cfg.SessionDir = t.dir
	t.m = got.weights
	t.newOptimisers()
	for name, a := range t.adams {
		if err := restoreAdam(got.state, "adam."+name, a); err != nil {
			return fmt.Errorf("train: checkpoint %s: %w", path, err)
		}
	}
	md := got.state.Metadata()
	t.restored(path, md)
	st, _ := strconv.Atoi(md["stage"])
	t.stage = runlog.Stage(max(st, 1))
	t.lrScale, _ = strconv.ParseFloat(md["lr_scale"], 64)
	if t.lrScale == 0 {
		t.lrScale = 1
	}
	if err := t.restoreEMA(got.state); err != nil {
		return fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	t.nanHits, _ = strconv.Atoi(md["nan_recoveries"])
	t.bestVal, _ = strconv.ParseFloat(md["best_validation"], 64)
	t.plateauRef, _ = strconv.ParseFloat(md["plateau_reference"], 64)
	t.plateauCount, _ = strconv.Atoi(md["plateau_count"])
	t.applyLR()
	return nil
}

// applyLR sets the optimisers' learning rate: the schedule's rate at the
// current step (Config.LRAt) scaled by lrScale.
func (t *trainer) applyLR() {
	for _, a := range t.adams {
		a.LR = t.lr()
	}
}

// lr is the learning rate of the current step.
func (t *trainer) lr() float64 { return t.cfg.LRAt(t.step) * t.lrScale }

// schedule is the job's: the config's length and intervals.
func (t *trainer) schedule() schedule {
	return schedule{t.cfg.Steps, t.cfg.LogEvery, t.cfg.ValEvery, t.cfg.CheckpointEvery, t.cfg.Keep}
}

// save is the job's: the model, with its step and stage, and the trainer
// state (the three optimisers; the stage, learning-rate scale, NaN
// recoveries, best validation, plateau switch and config in the metadata).
func (t *trainer) save(tmp string, meta map[string]string) error {
	t.m.Step, t.m.Stage = t.step, int(t.stage)
	cfgJSON, _ := json.Marshal(t.cfg)
	meta["format"], meta["config"] = CheckpointFormat, string(cfgJSON)
	meta["stage"] = strconv.Itoa(int(t.stage))
	meta["lr_scale"] = strconv.FormatFloat(t.lrScale, 'g', -1, 64)
	meta["nan_recoveries"] = strconv.Itoa(t.nanHits)
	meta["best_validation"] = strconv.FormatFloat(t.bestVal, 'g', -1, 64)
	meta["plateau_reference"] = strconv.FormatFloat(t.plateauRef, 'g', -1, 64)
	meta["plateau_count"] = strconv.Itoa(t.plateauCount)
	var moments []*core.Tensor
	for _, name := range []string{"enc", "dec", "disc"} {
		moments = append(moments, adamState("adam."+name, t.adams[name], meta)...)
	}
	// With a moving average, the model file (the session's model) holds
	// the average and the state file the trained weights.
	moments = append(moments, t.emaTensors()...)
	if err := t.withAverage(func() error { return t.m.Save(filepath.Join(tmp, layout.CheckpointModelFile)) }); err != nil {
		return err
	}
	return core.WriteSafetensors(filepath.Join(tmp, layout.CheckpointStateFile), moments, meta)
}

// stepEvent is the job's: β and the learning rate of the step.
func (t *trainer) stepEvent(ev *Event) {
	ev.Beta, ev.LR = t.cfg.Beta(t.step, t.m.Config.MaxKL), t.lr()
}

// stepRNG is the random stream of one step (posterior samples, noise):
// it depends only on the seed and the step, so a resumed run draws the same.
func (t *trainer) stepRNG(salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(t.cfg.Seed^stepSalt^salt, uint64(t.step)))
}

// next is the job's step: it polls the control file, switches to the
// adversarial stage at Stage1Steps and trains on the step's batch. A loss
// that is not finite restores the last checkpoint with a lower learning
// rate, and the step is not taken.
func (t *trainer) next() (map[string]float64, bool, error) {
	t.pollControl()
	want := runlog.StageVAE
	if t.step >= t.cfg.Stage1Steps {
		want = runlog.StageAdversarial
	}
	if want != t.stage {
		t.stage = want
		t.record(Event{Kind: runlog.EventStage, Step: t.step, Stage: want,
			Message: fmt.Sprintf("switching to %v at step %d: encoder frozen, noise synthesiser and discriminator on", want, t.step)})
	}
	if t.cfg.LRDecay > 0 {
		t.applyLR()
	}
	batch, k := t.loader.Next()
	if k != t.step {
		panic(fmt.Sprintf("train: loader at batch %d, trainer at step %d", k, t.step))
	}
	losses, finite := t.trainStep(batch)
	if finite {
		if t.stepKind() != stepDisc { // a discriminator step leaves the decoder as it was
			t.updateEMA(t.step, emaSlabs)
		}
	}
	if poisonHook != nil && poisonHook(t.step) {
		losses["loss"], finite = math.NaN(), false
	}
	if !finite {
		return nil, false, t.recoverNaN(losses)
	}
	return losses, true, nil
}

// pollControl reads the control file at every logging interval of stage 1:
// a force_stage2 request moves the stage switch to the current step.
func (t *trainer) pollControl() {
	if t.stage == runlog.StageAdversarial || t.step%max(t.cfg.LogEvery, 1) != 0 {
		return
	}
	b, err := os.ReadFile(layout.Control(t.dir))
	if err != nil {
		return
	}
	var c struct {
		ForceStage2 bool `json:"force_stage2"`
	}
	if json.Unmarshal(b, &c) == nil && c.ForceStage2 && t.step < t.cfg.Stage1Steps {
		t.cfg.Stage1Steps = t.step
		os.Remove(layout.Control(t.dir))
	}
}

// recoverNaN restores the last checkpoint and lowers the learning rate
// tenfold the first time the loss is not finite; the second time it stops.
func (t *trainer) recoverNaN(losses map[string]float64) error {
	bad := fmt.Sprint(losses)
	if t.nanHits >= 1 {
		return fmt.Errorf("train: %w: the loss is not finite at step %d (%s) again after restoring a checkpoint and lowering the learning rate to %g; lower --lr further, or check the dataset for silent or clipped audio", ErrDiverged, t.step, bad, t.lr())
	}
	path, got, _, err := latestLoaded(layout.Checkpoints(t.dir), loadCheckpoint)
	if err != nil {
		return fmt.Errorf("train: the loss is not finite at step %d and no checkpoint can be restored: %w", t.step, err)
	}
	at := t.step
	cfg := t.cfg
	if err := t.restore(path, got, Config{Steps: cfg.Steps, Stage1Steps: cfg.Stage1Steps}); err != nil {
		return err
	}
	t.nanHits++
	t.lrScale *= 0.1
	t.applyLR()
	t.loader.SetNext(t.step)
	msg := fmt.Sprintf("loss not finite at step %d (%s): restored step %d and lowered the learning rate to %g", at, bad, t.step, t.lr())
	t.record(Event{Kind: runlog.EventWarning, Step: at, Stage: t.stage, Message: msg})
	return nil
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// slabFinite reports whether every value of g is finite. A large slab (a
// model's gradients) is checked in parallel parts.
func slabFinite(g []float32) bool {
	parts := min(runtime.GOMAXPROCS(0), len(g)>>20)
	if parts <= 1 {
		return rangeFinite(g)
	}
	ok := make([]bool, parts)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i] = rangeFinite(g[len(g)*i/parts : len(g)*(i+1)/parts])
		}()
	}
	wg.Wait()
	for _, v := range ok {
		if !v {
			return false
		}
	}
	return true
}

// rangeFinite is slabFinite on one goroutine.
func rangeFinite(g []float32) bool {
	// A value is NaN or ±Inf exactly when its exponent bits are all set;
	// adding one to the exponent field then carries into the sign bit.
	// Four independent accumulators keep the loop at memory speed.
	const exp, one = 0x7f800000, 0x00800000
	var a0, a1, a2, a3 uint32
	i := 0
	for ; i+4 <= len(g); i += 4 {
		a0 |= math.Float32bits(g[i])&exp + one
		a1 |= math.Float32bits(g[i+1])&exp + one
		a2 |= math.Float32bits(g[i+2])&exp + one
		a3 |= math.Float32bits(g[i+3])&exp + one
	}
	for ; i < len(g); i++ {
		a0 |= math.Float32bits(g[i])&exp + one
	}
	return (a0|a1|a2|a3)&(1<<31) == 0
}

// ended is the job's: it completes the run manifest (state, last step,
// final losses).
func (t *trainer) ended(state string, err error) {
	if t.run == nil {
		return
	}
	t.run.State, t.run.Ended, t.run.EndStep = state, time.Now().UTC(), t.step
	t.run.Losses, t.run.Validation = t.lastLosses, t.lastVal
	if err != nil {
		t.run.Error = err.Error()
	}
	t.run.save(t.dir)
}
