package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/prior"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// PriorCheckpointFormat identifies prior trainer-state files.
const PriorCheckpointFormat = "rave-station-prior-checkpoint"

// priorSalt separates the prior's per-step random streams from the others.
const priorSalt = 0x7072696f72000001

// PriorConfig configures RunPrior. Zero fields take the CPU-sized
// defaults of DefaultPriorConfig.
type PriorConfig struct {
	// SessionDir is the session folder holding dataset.bin and
	// model.safetensors; the prior is written under SessionDir/prior.
	SessionDir string
	// Dims is k, the number of leading PCA dimensions the prior models
	// (required for a new run; a resumed run keeps its checkpoint's).
	Dims int
	// Residual, Skip and Layers size the prior network (the reference is
	// 512, 256, 10; the default 128, 64, 10 trains on a CPU).
	Residual, Skip, Layers int
	// Steps is the total number of optimisation steps.
	Steps int64
	// Batch is the number of crops per step.
	Batch int
	// Frames is the length of a crop in latent frames (at least 2; capped
	// by the frames of a dataset chunk).
	Frames int
	// Seed fixes initialisation, the validation split and the crops.
	Seed uint64
	// LR is the Adam learning rate (the reference's 1e-4).
	LR float64
	// LogEvery, ValEvery and CheckpointEvery are intervals in steps.
	LogEvery, ValEvery, CheckpointEvery int64
	// Keep is the number of checkpoints kept.
	Keep int
	// ValFraction is the share of chunks held out (as the main trainer's).
	ValFraction float64
	// ValExamples caps the validation chunks scored per validation.
	ValExamples int
	// NoCache skips the latent cache prior/latents.bin (read and write).
	NoCache bool `json:"-"`
}

// DefaultPriorConfig returns the defaults for a prior over dims
// dimensions of the session in dir.
func DefaultPriorConfig(dir string, dims int) PriorConfig {
	return PriorConfig{SessionDir: dir, Dims: dims, Residual: 128, Skip: 64, Layers: 10,
		Steps: 20_000, Batch: 8, Frames: 64, Seed: 1, LR: 1e-4,
		LogEvery: 20, ValEvery: 500, CheckpointEvery: 1000, Keep: 3, ValFraction: 0.02, ValExamples: 64}
}

// fill replaces zero fields with the defaults.
func (c PriorConfig) fill() PriorConfig {
	d := DefaultPriorConfig(c.SessionDir, c.Dims)
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set64 := func(v *int64, def int64) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.Residual, d.Residual)
	set(&c.Skip, d.Skip)
	set(&c.Layers, d.Layers)
	set(&c.Batch, d.Batch)
	set(&c.Frames, d.Frames)
	set(&c.Keep, d.Keep)
	set(&c.ValExamples, d.ValExamples)
	set64(&c.Steps, d.Steps)
	set64(&c.LogEvery, d.LogEvery)
	set64(&c.ValEvery, d.ValEvery)
	set64(&c.CheckpointEvery, d.CheckpointEvery)
	if c.LR == 0 {
		c.LR = d.LR
	}
	if c.ValFraction == 0 {
		c.ValFraction = d.ValFraction
	}
	return c
}

// resumed returns c, the config stored in a prior checkpoint, for a run
// resumed with o: a non-zero Steps extends or shortens the run, and the
// session folder and NoCache are o's; the rest is the checkpoint's.
func (c PriorConfig) resumed(o PriorConfig) PriorConfig {
	if o.Steps != 0 {
		c.Steps = o.Steps
	}
	c.SessionDir, c.NoCache = o.SessionDir, o.NoCache
	return c
}

// priorTrainer is the state of one RunPrior: the job of its runner (whose
// folder is SessionDir/prior), with the prior, its optimiser, the encoded
// dataset and the step of the model that encoded it.
type priorTrainer struct {
	runner
	cfg       PriorConfig
	p         *prior.Prior
	tr        *prior.Trainer
	lat       [][]float32 // per chunk: k × frames, row-major
	frames    int         // latent frames per chunk
	trainIx   []int
	valIx     []int
	modelStep int64 // the step of the model whose latents the prior learns
}

// RunPrior trains the latent prior (rave-spec §10.1) of the session in
// cfg.SessionDir until cfg.Steps, resuming from the newest checkpoint in
// SessionDir/prior/checkpoints if there is one. It encodes every dataset
// chunk once with the session's model (posterior means in PCA space, the
// first Dims dimensions), splits the chunks into training and validation
// sets as Run does, and trains on random crops whose choice depends only
// on (Seed, step), so an interrupted and resumed run ends with the same
// weights as an uninterrupted one. Progress goes to events (step events
// are dropped when the receiver is slow), to prior/metrics.jsonl and to
// prior/status.json; losses are cross-entropies in nats per dimension and
// frame ("xent", "val_xent"; uniform guessing scores log 32). The encoded
// dataset is cached in prior/latents.bin for the model, dataset and k it
// was made from, so a resumed run starts at once. When ctx is
// cancelled it writes a checkpoint and returns nil. The newest weights are
// always in prior/prior.safetensors. The caller holds the session lock.
func RunPrior(ctx context.Context, cfg PriorConfig, events chan<- Event) (err error) {
	t := &priorTrainer{}
	t.runner = runner{job: t, dir: layout.Prior(cfg.SessionDir), events: events, runStart: time.Now(), avgStatus: true,
		names: naming{weights: layout.PriorFile, model: layout.PriorFile, errs: "train: prior: ", step: "prior step", thing: "prior"}}
	defer func() {
		t.closeMetrics()
		if err != nil {
			t.end("failed", err.Error(), err, Event{Kind: runlog.EventDone, Step: t.step, Message: err.Error()})
		}
	}()
	if err := t.setup(ctx, cfg); err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			msg := "stopped while encoding the dataset, before the first prior step"
			t.end("stopped", msg, nil, Event{Kind: runlog.EventDone, Step: t.step, Message: msg})
			return nil
		}
		return err
	}
	return t.loop(ctx)
}

// setup resumes from the newest prior checkpoint or builds a new prior,
// loads the session's model, encodes the dataset and opens the metrics
// log; a new run is validated and checkpointed at step 0.
func (t *priorTrainer) setup(ctx context.Context, cfg PriorConfig) error {
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		return fmt.Errorf("train: prior: %w", err)
	}
	resumed, err := resumeLatest(&t.runner, loadPriorCheckpoint, func(path string, got priorLoaded) error { return t.restore(path, got, cfg) })
	if err != nil {
		return err
	}
	if !resumed {
		t.setConfig(cfg.fill())
		if t.cfg.Dims < 1 {
			return fmt.Errorf("train: prior: %d latent dimensions; give the number of PCA dimensions to model", t.cfg.Dims)
		}
		pc := prior.DefaultConfig(t.cfg.Dims)
		pc.Residual, pc.Skip, pc.Layers, pc.LR = t.cfg.Residual, t.cfg.Skip, t.cfg.Layers, t.cfg.LR
		if err := pc.Validate(); err != nil {
			return err
		}
		t.p = prior.New(pc, rand.New(rand.NewPCG(t.cfg.Seed, priorSalt)))
		t.tr = prior.NewTrainer(t.p)
	}
	if t.cfg.Frames < 2 || t.cfg.Batch < 1 || t.cfg.LogEvery < 1 || t.cfg.ValEvery < 1 || t.cfg.CheckpointEvery < 1 {
		return fmt.Errorf("train: prior: invalid config (frames %d, batch %d, intervals %d/%d/%d)",
			t.cfg.Frames, t.cfg.Batch, t.cfg.LogEvery, t.cfg.ValEvery, t.cfg.CheckpointEvery)
	}
	m, err := model.Load(layout.Model(t.cfg.SessionDir))
	if err != nil {
		return fmt.Errorf("train: prior: %w (train the session's model first)", err)
	}
	if k := t.p.Config().Dims; k > m.Config.LatentSize {
		return fmt.Errorf("train: prior: %d dimensions requested, the model has %d", k, m.Config.LatentSize)
	}
	if resumed && m.Step != t.modelStep {
		t.emit(Event{Kind: runlog.EventWarning, Step: t.step, Message: fmt.Sprintf(
			"the session's model is at step %d but the prior was trained on latents of step %d; the prior keeps training on the new latents", m.Step, t.modelStep)})
	}
	t.modelStep = m.Step
	if err := t.encodeDataset(ctx, m); err != nil {
		return err
	}
	if t.frames < 2 {
		return fmt.Errorf("train: prior: dataset chunks give %d latent frames; at least 2 are needed", t.frames)
	}
	if t.cfg.Frames > t.frames {
		t.cfg.Frames = t.frames
	}
	t.trainIx, t.valIx = Split(len(t.lat), t.cfg.ValFraction, t.cfg.Seed)
	if len(t.trainIx) == 0 {
		return errors.New("train: prior: the dataset has no chunk to train on")
	}
	if len(t.valIx) > t.cfg.ValExamples {
		t.valIx = t.valIx[:t.cfg.ValExamples]
	}
	if err := t.openMetrics(); err != nil {
		return err
	}
	pc := t.p.Config()
	return t.begin(resumed, Event{Kind: runlog.EventStage, Step: t.step, Message: fmt.Sprintf(
		"%s the prior at step %d: %d dims, %d/%d/%d channels/layers, receptive field %d frames, %d train / %d validation chunks of %d frames",
		starting(resumed), t.step, pc.Dims, pc.Residual, pc.Skip, pc.Layers, pc.ReceptiveField(), len(t.trainIx), len(t.valIx), t.frames)})
}

// setConfig makes c the run's config. status.json is written from then on
// (a run that fails before its config is known leaves the last one).
func (t *priorTrainer) setConfig(c PriorConfig) {
	t.cfg = c
	t.status = statusPath(c.SessionDir, t.dir)
}

// encodeDataset encodes every chunk to its first k PCA dimensions.
func (t *priorTrainer) encodeDataset(ctx context.Context, m *model.Model) error {
	ds, err := audio.OpenDataset(t.cfg.SessionDir)
	if err != nil {
		return fmt.Errorf("train: prior: %w (run `rave preprocess` on this session first)", err)
	}
	defer ds.Close()
	if ds.SampleRate() != m.Config.SR {
		return fmt.Errorf("train: prior: the dataset is at %d Hz, the model at %d Hz", ds.SampleRate(), m.Config.SR)
	}
	k := t.p.Config().Dims
	t.frames = ds.ChunkLen() / m.Config.CompressionRatio()
	var key latentsKey
	cache := filepath.Join(t.dir, layout.PriorLatentsFile)
	if id := datasetIdentity(t.cfg.SessionDir); !t.cfg.NoCache && id.Hash != "" {
		key = latentsKey{model: m.Hash(), dims: k, dataset: fmt.Sprintf("%s/%d/%d", id.Hash, ds.Len(), ds.ChunkLen())}
		lat, frames, err := readLatents(cache, key)
		if err == nil && frames == t.frames && len(lat) == ds.Len() {
			t.lat = lat
			return nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.emit(Event{Kind: runlog.EventWarning, Message: fmt.Sprintf("encoding the dataset again: %v", err)})
		}
	}
	t.lat = make([][]float32, ds.Len())
	buf := make([]float32, ds.ChunkLen())
	start := time.Now()
	for i := range t.lat {
		if ctx.Err() != nil {
			return fmt.Errorf("train: prior: interrupted while encoding the dataset: %w", ctx.Err())
		}
		x := ds.ChunkFloat(buf, i)
		z, err := m.EncodeAudioWith(x, model.CodecOptions{Dims: k})
		if err != nil {
			return fmt.Errorf("train: prior: encode chunk %d: %w", i, err)
		}
		row := make([]float32, k*t.frames)
		for d := range k {
			copy(row[d*t.frames:(d+1)*t.frames], z[d][:t.frames])
		}
		t.lat[i] = row
		if time.Since(start) > 5*time.Second && (i+1)%64 == 0 {
			t.emit(Event{Kind: runlog.EventStage, Message: fmt.Sprintf("encoded %d of %d chunks", i+1, len(t.lat))})
		}
	}
	if key.dataset != "" {
		if err := writeLatents(cache, key, t.lat, t.frames); err != nil {
			t.emit(Event{Kind: runlog.EventWarning, Message: fmt.Sprintf("latent cache not written: %v", err)})
		}
	}
	return nil
}

// batch returns the crops of step s: (Batch, k, Frames).
func (t *priorTrainer) batch(s int64) *core.Tensor {
	rng := rand.New(rand.NewPCG(t.cfg.Seed^priorSalt, uint64(s)))
	B, k, T, F := t.cfg.Batch, t.p.Config().Dims, t.cfg.Frames, t.frames
	z := core.Zeros(B, k, T)
	zd := z.Data()
	for b := range B {
		src := t.lat[t.trainIx[rng.IntN(len(t.trainIx))]]
		off := rng.IntN(F - T + 1)
		for d := range k {
			copy(zd[(b*k+d)*T:(b*k+d+1)*T], src[d*F+off:d*F+off+T])
		}
	}
	return z
}

// next is the job's step: one step on the crops of the runner's step.
func (t *priorTrainer) next() (map[string]float64, bool, error) {
	nats, err := t.tr.Step(t.batch(t.step))
	if err != nil {
		return nil, false, fmt.Errorf("train: prior: %w (lower --lr, or check the model's latents)", err)
	}
	return map[string]float64{"xent": nats}, true, nil
}

// validate scores every validation chunk whole (all its frames).
func (t *priorTrainer) validate() error {
	if len(t.valIx) == 0 {
		return nil
	}
	k := t.p.Config().Dims
	var sum float64
	for _, i := range t.valIx {
		sum += t.p.Evaluate(core.New(t.lat[i], 1, k, t.frames))
	}
	v := sum / float64(len(t.valIx))
	ev := Event{Kind: runlog.EventValidation, Step: t.step, Losses: map[string]float64{"val_xent": v}, LR: t.cfg.LR, Time: time.Now(), Wall: t.wall()}
	if err := t.metrics.Write(ev.record()); err != nil {
		return err
	}
	t.emit(ev)
	return nil
}

// schedule is the job's: the config's length and intervals.
func (t *priorTrainer) schedule() schedule {
	return schedule{t.cfg.Steps, t.cfg.LogEvery, t.cfg.ValEvery, t.cfg.CheckpointEvery, t.cfg.Keep}
}

// stepEvent is the job's: the learning rate.
func (t *priorTrainer) stepEvent(ev *Event) { ev.LR = t.cfg.LR }

// ended is the job's: the prior keeps no run manifest.
func (t *priorTrainer) ended(string, error) {}

// save is the job's: the prior's weights and its trainer state (the
// optimiser; the config and the model's step in the metadata).
func (t *priorTrainer) save(tmp string, meta map[string]string) error {
	cfgJSON, _ := json.Marshal(t.cfg)
	meta["format"], meta["config"] = PriorCheckpointFormat, string(cfgJSON)
	meta["model_step"] = strconv.FormatInt(t.modelStep, 10)
	moments := adamState("adam", t.tr.Opt, meta)
	if err := t.p.Save(filepath.Join(tmp, layout.PriorFile)); err != nil {
		return err
	}
	return core.WriteSafetensors(filepath.Join(tmp, layout.CheckpointStateFile), moments, meta)
}

// priorLoaded is a prior checkpoint read back.
type priorLoaded = saved[*prior.Prior]

// loadPriorCheckpoint reads the prior checkpoint at p.
func loadPriorCheckpoint(p string) (priorLoaded, error) {
	return readSaved(p, func(p string) (*prior.Prior, error) {
		return prior.Load(filepath.Join(p, layout.PriorFile))
	}, layout.CheckpointStateFile, PriorCheckpointFormat)
}

// restore takes the run's state from got, the checkpoint at path, with
// the flags in override (see PriorConfig.resumed).
func (t *priorTrainer) restore(path string, got priorLoaded, override PriorConfig) error {
	var stored PriorConfig
	if err := got.config(&stored); err != nil {
		return fmt.Errorf("train: prior checkpoint %s: config: %w", path, err)
	}
	if override.Dims != 0 && override.Dims != got.weights.Config().Dims {
		return fmt.Errorf("train: prior: the checkpoint models %d dimensions, %d were asked; delete %s to start over",
			got.weights.Config().Dims, override.Dims, t.dir)
	}
	t.setConfig(stored.resumed(override))
	t.p = got.weights
	t.tr = prior.NewTrainer(t.p)
	if err := restoreAdam(got.state, "adam", t.tr.Opt); err != nil {
		return fmt.Errorf("train: prior checkpoint %s: %w", path, err)
	}
	md := got.state.Metadata()
	t.restored(path, md)
	t.modelStep, _ = strconv.ParseInt(md["model_step"], 10, 64)
	return nil
}
