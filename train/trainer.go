package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
)

// ModelFile is the inference model inside a session folder, refreshed at
// every checkpoint (a hard link to the newest checkpoint's model).
const ModelFile = "model.safetensors"

// BestModelFile is the model of the lowest validation distance so far in a
// session folder, rewritten (atomically) whenever a validation improves on
// it: the reference's best.ckpt (a ModelCheckpoint on "validation").
const BestModelFile = "best.safetensors"

// ControlFile is polled by the trainer for requests from the workstation:
// {"force_stage2": true} starts the adversarial stage at the next step.
const ControlFile = "control.json"

// ErrDiverged is returned when the loss becomes NaN or infinite again after
// one recovery.
var ErrDiverged = errors.New("training diverged")

// poisonHook, set only by tests, makes the loss of the steps it returns
// true for NaN, to exercise the recovery path.
var poisonHook func(step int64) bool

// stepSalt separates the per-step random streams from the loader's.
const stepSalt = 0x9e3779b97f4a7c15

// trainer is the state of one Run.
type trainer struct {
	cfg     Config
	dir     string
	m       *model.Model
	adams   map[string]*core.Adam // "enc", "dec", "disc"
	ds      *audio.Dataset
	loader  *Loader
	valIdx  []int
	step    int64
	stage   Stage
	lrScale float64
	nanHits int
	events  chan<- Event
	metrics *MetricsLog
	tp      *core.Tape
	reps    []*replica // the parts of a data-parallel step (replicas)

	wallBase   time.Duration // wall time of earlier runs of this training
	runStart   time.Time
	lastLog    time.Time
	lastLogged int64
	lastStatus time.Time
	lastCkpt   string
	sums       map[string]float64
	counts     map[string]int
	lastLosses map[string]float64
	sps        float64
	run        *RunManifest
	lastVal    float64
	bestVal    float64 // lowest validation distance so far (0: none yet)
}

// Run trains the model of the session in cfg.SessionDir until cfg.Steps,
// resuming from the newest checkpoint if there is one. Progress goes to
// events (if not nil; step events are dropped when the receiver is slow,
// others are always delivered), to metrics.jsonl and to status.json. When
// ctx is cancelled (SIGINT, SIGTERM) it writes a checkpoint and returns nil;
// running it again resumes exactly where it stopped. The caller holds the
// session lock.
func Run(ctx context.Context, cfg Config, events chan<- Event) (err error) {
	t := &trainer{dir: cfg.SessionDir, events: events, lrScale: 1, runStart: time.Now()}
	defer func() {
		if t.ds != nil {
			t.ds.Close()
		}
		if t.metrics != nil {
			t.metrics.Close()
		}
		if err != nil {
			t.writeStatus("failed", err.Error())
			t.endRun("failed", err)
			t.emit(Event{Kind: EventDone, Message: err.Error()})
		}
	}()
	if err := t.setup(cfg); err != nil {
		return err
	}
	return t.loop(ctx)
}

func (t *trainer) setup(cfg Config) error {
	ds, err := audio.OpenDataset(t.dir)
	if err != nil {
		return fmt.Errorf("train: %w (run `rave preprocess` on this session first)", err)
	}
	t.ds = ds
	resumed, err := t.resume(cfg)
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
		if ds.SampleRate() != mc.SR {
			return fmt.Errorf("train: the dataset is at %d Hz but preset %s runs at %d Hz; preprocess again with --rate %d", ds.SampleRate(), cfg.Preset, mc.SR, mc.SR)
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, 0))
		m, err := model.New(mc, rng)
		if err != nil {
			return err
		}
		m.AddDiscriminator(rng)
		t.m = m
		t.newOptimisers()
		t.stage = StageVAE
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
	if t.metrics, err = OpenMetrics(filepath.Join(t.dir, MetricsFile)); err != nil {
		return err
	}
	t.tp = core.NewTape()
	t.resetSums()
	verb := "starting"
	if resumed {
		verb = "resuming"
	}
	t.run = newRunManifest(t.dir, t.cfg, t.m.Config.JSON(), t.step, resumed)
	if err := t.run.save(t.dir); err != nil {
		return fmt.Errorf("train: run manifest: %w", err)
	}
	t.emit(Event{Kind: EventStage, Message: fmt.Sprintf("%s at step %d in %v (preset %s, %d train / %d validation chunks)", verb, t.step, t.stage, t.m.Config.Preset, len(trainIdx), len(valIdx))})
	if !resumed {
		// The untrained model's validation score is the baseline of the
		// curve, and a checkpoint at step 0 means a NaN can always be
		// recovered from.
		if err := t.validate(); err != nil {
			return err
		}
		if err := t.checkpoint(); err != nil {
			return err
		}
	}
	return nil
}

func (t *trainer) newOptimisers() {
	b1, b2 := 0.5, 0.9
	t.adams = map[string]*core.Adam{
		"enc":  core.NewAdam(t.m.Enc.Count(), t.cfg.LR, b1, b2),
		"dec":  core.NewAdam(t.m.Dec.Count(), t.cfg.LR, b1, b2),
		"disc": core.NewAdam(t.m.Disc.Count(), t.cfg.LR, b1, b2),
	}
}

// loaded is a checkpoint read back by resume.
type loaded struct {
	m     *model.Model
	state *core.TensorFile
}

func loadCheckpoint(p string) (loaded, error) {
	m, err := model.Load(filepath.Join(p, CheckpointModel))
	if err != nil {
		return loaded{}, err
	}
	if m.Disc == nil {
		return loaded{}, errors.New("checkpoint model has no discriminator")
	}
	st, err := readTrainerState(filepath.Join(p, CheckpointState), CheckpointFormat)
	if err != nil {
		return loaded{}, err
	}
	return loaded{m: m, state: st}, nil
}

// resume restores the newest usable checkpoint, if any. Flags given for a
// resumed run (non-zero Steps, Stage1Steps, LR…) override the stored ones;
// the model and the seed are the checkpoint's.
func (t *trainer) resume(cfg Config) (bool, error) {
	var got loaded
	path, warns, err := LatestCheckpoint(filepath.Join(t.dir, CheckpointDir), func(p string) error {
		var err error
		got, err = loadCheckpoint(p)
		return err
	})
	for _, w := range warns {
		t.emit(Event{Kind: EventWarning, Message: w})
	}
	if errors.Is(err, ErrNoCheckpoint) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := t.restore(path, got, cfg); err != nil {
		return false, err
	}
	return true, nil
}

func (t *trainer) restore(path string, got loaded, override Config) error {
	md := got.state.Metadata()
	var stored Config
	if err := json.Unmarshal([]byte(md["config"]), &stored); err != nil {
		return fmt.Errorf("train: checkpoint %s: config: %w", path, err)
	}
	if override.Steps != 0 {
		stored.Steps = override.Steps
	}
	if override.Stage1Steps != 0 {
		stored.Stage1Steps = override.Stage1Steps
	}
	if stored.Steps < stored.Stage1Steps {
		stored.Steps = stored.Stage1Steps
	}
	stored.SessionDir = t.dir
	t.cfg = stored
	t.m = got.m
	t.newOptimisers()
	for name, a := range t.adams {
		if err := restoreAdam(got.state, "adam."+name, a); err != nil {
			return fmt.Errorf("train: checkpoint %s: %w", path, err)
		}
	}
	t.step, _ = strconv.ParseInt(md["step"], 10, 64)
	st, _ := strconv.Atoi(md["stage"])
	t.stage = Stage(max(st, 1))
	t.lrScale, _ = strconv.ParseFloat(md["lr_scale"], 64)
	if t.lrScale == 0 {
		t.lrScale = 1
	}
	t.nanHits, _ = strconv.Atoi(md["nan_recoveries"])
	t.bestVal, _ = strconv.ParseFloat(md["best_validation"], 64)
	wall, _ := strconv.ParseFloat(md["wall_s"], 64)
	t.wallBase = time.Duration(wall * float64(time.Second))
	t.lastCkpt = path
	t.applyLR()
	return nil
}

func (t *trainer) applyLR() {
	for _, a := range t.adams {
		a.LR = t.cfg.LR * t.lrScale
	}
}

func (t *trainer) wall() time.Duration { return t.wallBase + time.Since(t.runStart) }

// checkpoint writes model and trainer state, then points the session's
// model file at the new model.
func (t *trainer) checkpoint() error {
	t.m.Step, t.m.Stage = t.step, int(t.stage)
	cfgJSON, _ := json.Marshal(t.cfg)
	meta := map[string]string{
		"format": CheckpointFormat, "format_version": CheckpointVersion,
		"step": strconv.FormatInt(t.step, 10), "stage": strconv.Itoa(int(t.stage)),
		"config": string(cfgJSON), "lr_scale": strconv.FormatFloat(t.lrScale, 'g', -1, 64),
		"nan_recoveries": strconv.Itoa(t.nanHits), "wall_s": strconv.FormatFloat(t.wall().Seconds(), 'f', 3, 64),
		"best_validation": strconv.FormatFloat(t.bestVal, 'g', -1, 64),
	}
	var moments []*core.Tensor
	for _, name := range []string{"enc", "dec", "disc"} {
		moments = append(moments, adamState("adam."+name, t.adams[name], meta)...)
	}
	path, err := SaveCheckpoint(filepath.Join(t.dir, CheckpointDir), t.step, func(tmp string) error {
		if err := t.m.Save(filepath.Join(tmp, CheckpointModel)); err != nil {
			return err
		}
		return core.WriteSafetensors(filepath.Join(tmp, CheckpointState), moments, meta)
	}, t.cfg.Keep)
	if err != nil {
		return err
	}
	t.lastCkpt = path
	if err := linkModel(filepath.Join(path, CheckpointModel), filepath.Join(t.dir, ModelFile)); err != nil {
		return fmt.Errorf("train: update %s: %w", ModelFile, err)
	}
	t.emit(Event{Kind: EventCheckpoint, Step: t.step, Stage: t.stage, Checkpoint: path})
	return nil
}

// linkModel makes dst the same file as src (a hard link, or a copy where
// links are impossible), replacing dst atomically.
func linkModel(src, dst string) error {
	tmp := dst + ".tmp-link"
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := core.WriteFileAtomic(tmp, func(f *os.File) error {
			in, err := os.Open(src)
			if err != nil {
				return err
			}
			defer in.Close()
			_, err = io.Copy(f, in)
			return err
		}); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dst)
}

func (t *trainer) emit(ev Event) {
	if t.events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Wall = t.wall()
	ev.TotalSteps = t.cfg.Steps
	if ev.Kind == EventStep {
		select {
		case t.events <- ev:
		default:
		}
		return
	}
	t.events <- ev
}

func (t *trainer) resetSums() {
	t.sums, t.counts = map[string]float64{}, map[string]int{}
}

func (t *trainer) add(losses map[string]float64) {
	for k, v := range losses {
		t.sums[k] += v
		t.counts[k]++
	}
}

// stepRNG is the random stream of one step (posterior samples, noise):
// it depends only on the seed and the step, so a resumed run draws the same.
func (t *trainer) stepRNG(salt uint64) *rand.Rand {
	return rand.New(rand.NewPCG(t.cfg.Seed^stepSalt^salt, uint64(t.step)))
}

func (t *trainer) loop(ctx context.Context) error {
	// Validation and checkpoints between steps allocate too; keep the
	// step's collector target for the whole loop (see stepGCPercent).
	defer debug.SetGCPercent(debug.SetGCPercent(stepGCPercent))
	t.lastLog, t.lastLogged = time.Now(), t.step
	for t.step < t.cfg.Steps {
		if ctx.Err() != nil {
			return t.stop()
		}
		t.pollControl()
		want := StageVAE
		if t.step >= t.cfg.Stage1Steps {
			want = StageAdversarial
		}
		if want != t.stage {
			t.stage = want
			msg := fmt.Sprintf("switching to %v at step %d: encoder frozen, noise synthesiser and discriminator on", want, t.step)
			t.metrics.Write(Event{Kind: EventStage, Step: t.step, Stage: want, Time: time.Now(), Wall: t.wall(), Message: msg})
			t.emit(Event{Kind: EventStage, Step: t.step, Stage: want, Message: msg})
		}
		batch, k := t.loader.Next()
		if k != t.step {
			panic(fmt.Sprintf("train: loader at batch %d, trainer at step %d", k, t.step))
		}
		losses, finite := t.trainStep(batch)
		if poisonHook != nil && poisonHook(t.step) {
			losses["loss"], finite = math.NaN(), false
		}
		if !finite {
			if err := t.recoverNaN(losses); err != nil {
				return err
			}
			continue
		}
		t.add(losses)
		t.lastLosses = losses
		t.step++
		if t.step%t.cfg.LogEvery == 0 || t.step == t.cfg.Steps {
			t.log()
		}
		if t.step%t.cfg.ValEvery == 0 || t.step == t.cfg.Steps {
			if err := t.validate(); err != nil {
				return err
			}
		}
		if t.step%t.cfg.CheckpointEvery == 0 && t.step != t.cfg.Steps {
			if err := t.checkpoint(); err != nil {
				return err
			}
		}
		if time.Since(t.lastStatus) > 2*time.Second {
			t.writeStatus("running", "")
		}
	}
	if err := t.checkpoint(); err != nil {
		return err
	}
	t.writeStatus("done", "")
	t.endRun("done", nil)
	t.emit(Event{Kind: EventDone, Step: t.step, Stage: t.stage, Message: fmt.Sprintf("finished %d steps; model in %s", t.step, filepath.Join(t.dir, ModelFile))})
	return nil
}

// stop checkpoints after an interruption.
func (t *trainer) stop() error {
	if err := t.checkpoint(); err != nil {
		return err
	}
	msg := fmt.Sprintf("stopped at step %d; checkpoint written, run again to resume", t.step)
	t.writeStatus("stopped", msg)
	t.endRun("stopped", nil)
	t.emit(Event{Kind: EventDone, Step: t.step, Stage: t.stage, Message: msg})
	return nil
}

func (t *trainer) pollControl() {
	if t.stage == StageAdversarial || t.step%max(t.cfg.LogEvery, 1) != 0 {
		return
	}
	b, err := os.ReadFile(filepath.Join(t.dir, ControlFile))
	if err != nil {
		return
	}
	var c struct {
		ForceStage2 bool `json:"force_stage2"`
	}
	if json.Unmarshal(b, &c) == nil && c.ForceStage2 && t.step < t.cfg.Stage1Steps {
		t.cfg.Stage1Steps = t.step
		os.Remove(filepath.Join(t.dir, ControlFile))
	}
}

func (t *trainer) log() {
	now := time.Now()
	if dt := now.Sub(t.lastLog).Seconds(); dt > 0 {
		t.sps = float64(t.step-t.lastLogged) / dt
	}
	t.lastLog, t.lastLogged = now, t.step
	avg := make(map[string]float64, len(t.sums))
	for k, v := range t.sums {
		avg[k] = v / float64(t.counts[k])
	}
	t.resetSums()
	ev := Event{Kind: EventStep, Step: t.step, Stage: t.stage, Losses: avg, Beta: t.cfg.Beta(t.step, t.m.Config.MaxKL),
		LR: t.cfg.LR * t.lrScale, StepsPerSec: t.sps, Time: now, Wall: t.wall()}
	if t.sps > 0 {
		ev.ETA = time.Duration(float64(t.cfg.Steps-t.step) / t.sps * float64(time.Second))
	}
	t.metrics.Write(ev)
	t.emit(ev)
	t.writeStatus("running", "")
}

func (t *trainer) writeStatus(state, msg string) {
	t.lastStatus = time.Now()
	if t.dir == "" {
		return
	}
	s := Status{PID: os.Getpid(), State: state, Step: t.step, Stage: t.stage, TotalSteps: t.cfg.Steps,
		StepsPerS: t.sps, Losses: t.lastLosses, Checkpoint: t.lastCkpt, Message: msg}
	if t.sps > 0 {
		s.ETASeconds = float64(t.cfg.Steps-t.step) / t.sps
	}
	WriteStatus(filepath.Join(t.dir, StatusFile), s)
}

// recoverNaN restores the last checkpoint and lowers the learning rate
// tenfold the first time the loss is not finite; the second time it stops.
func (t *trainer) recoverNaN(losses map[string]float64) error {
	bad := fmt.Sprint(losses)
	if t.nanHits >= 1 {
		return fmt.Errorf("train: %w: the loss is not finite at step %d (%s) again after restoring a checkpoint and lowering the learning rate to %g; lower --lr further, or check the dataset for silent or clipped audio", ErrDiverged, t.step, bad, t.cfg.LR*t.lrScale)
	}
	var got loaded
	path, _, err := LatestCheckpoint(filepath.Join(t.dir, CheckpointDir), func(p string) error {
		var err error
		got, err = loadCheckpoint(p)
		return err
	})
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
	msg := fmt.Sprintf("loss not finite at step %d (%s): restored step %d and lowered the learning rate to %g", at, bad, t.step, t.cfg.LR*t.lrScale)
	t.metrics.Write(Event{Kind: EventWarning, Step: at, Stage: t.stage, Time: time.Now(), Wall: t.wall(), Message: msg})
	t.emit(Event{Kind: EventWarning, Step: at, Stage: t.stage, Message: msg})
	return nil
}

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

// endRun completes the run manifest (state, last step, final losses).
func (t *trainer) endRun(state string, err error) {
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
