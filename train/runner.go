package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// job is what a trainer supplies to the runner that drives it: its step,
// its validation, what its checkpoints hold, and the few things it reports
// its own way. The RAVE trainer and the prior trainer are the two jobs.
type job interface {
	// schedule returns the run's length and intervals from the trainer's
	// config as it stands (zero before the config is known).
	schedule() schedule
	// next runs the optimisation step numbered by the runner's step and
	// returns its loss terms. ok false means no step was taken and the
	// runner asks again (after the RAVE trainer's NaN recovery, say); an
	// error ends the run.
	next() (losses map[string]float64, ok bool, err error)
	// validate scores the held-out data at the runner's step and reports
	// the result (metrics.jsonl and an event).
	validate() error
	// save writes the trainer's files into tmp, a checkpoint folder being
	// made: its weights under the runner's naming.weights and its state,
	// whose metadata is meta with the trainer's own keys added.
	save(tmp string, meta map[string]string) error
	// stepEvent adds the trainer's own fields (β, learning rate) to a step
	// event.
	stepEvent(ev *Event)
	// ended is told how the run ended: "done", "stopped", or "failed" with
	// err. It comes after status.json is written and before the final
	// event.
	ended(state string, err error)
}

// schedule is a run's length and intervals, in steps.
type schedule struct {
	steps, logEvery, valEvery, checkpointEvery int64
	keep                                       int // checkpoints kept
}

// naming is how a runner's files and messages name what it trains.
type naming struct {
	weights string // the weights' file in a checkpoint folder
	model   string // the file in the runner's folder linked to the newest weights
	errs    string // the prefix of the runner's errors
	step    string // a step, in messages ("step", "prior step")
	thing   string // the weights, in messages ("model", "prior")
}

// runner is the skeleton both trainers share: the loop over the steps with
// its logging, validation and checkpoint intervals; checkpoints, with the
// link to the newest weights, and the counters a resume restores;
// status.json; metrics.jsonl; events; the wall clock. A trainer embeds a
// runner and is its job.
type runner struct {
	job     job
	names   naming
	dir     string             // folder of the checkpoints, metrics.jsonl and the linked weights
	status  string             // path of status.json; "" writes none
	events  chan<- Event       // nil: none sent
	metrics *runlog.MetricsLog // nil until openMetrics

	step  int64        // the step next run: the number of steps done
	stage runlog.Stage // the stage reported in events and status (0: a trainer without stages)

	wallBase   time.Duration // wall time of earlier runs of this training
	runStart   time.Time
	lastLog    time.Time
	lastLogged int64
	lastStatus time.Time
	lastCkpt   string
	sums       map[string]float64 // loss terms since the last log line, by name
	counts     map[string]int
	lastLosses map[string]float64 // the last step's loss terms
	logged     map[string]float64 // the averages of the last log line
	avgStatus  bool               // status.json shows logged instead of lastLosses
	sps        float64            // steps per second over the last logging interval
}

// statusPath returns the path of status.json in dir, or "" (no status
// file) where there is no session folder.
func statusPath(sessionDir, dir string) string {
	if sessionDir == "" {
		return ""
	}
	return layout.Status(dir)
}

// starting is the verb of a run's first message.
func starting(resumed bool) string {
	if resumed {
		return "resuming"
	}
	return "starting"
}

// wall is the training's wall-clock time: earlier runs' and this one's.
func (r *runner) wall() time.Duration { return r.wallBase + time.Since(r.runStart) }

// emit sends ev to the listener, stamped with the time (unless set), the
// wall clock and the run's length. Step events are dropped when the
// listener is slow; the others always arrive.
func (r *runner) emit(ev Event) {
	if r.events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Wall = r.wall()
	ev.TotalSteps = r.job.schedule().steps
	if ev.Kind == runlog.EventStep {
		select {
		case r.events <- ev:
		default:
		}
		return
	}
	r.events <- ev
}

// record appends ev to metrics.jsonl (stamped now, unless it has a time)
// and emits it. The event is emitted even when the write fails; the
// write's error is returned.
func (r *runner) record(ev Event) error {
	if ev.Time.IsZero() {
		ev.Time, ev.Wall = time.Now(), r.wall()
	}
	err := r.metrics.Write(ev.record())
	r.emit(ev)
	return err
}

// openMetrics opens the metrics log of the runner's folder.
func (r *runner) openMetrics() (err error) {
	r.metrics, err = runlog.OpenMetrics(layout.Metrics(r.dir))
	return err
}

// closeMetrics closes the metrics log, if open.
func (r *runner) closeMetrics() {
	if r.metrics != nil {
		r.metrics.Close()
	}
}

// writeStatus rewrites status.json with state, msg and the run's progress.
func (r *runner) writeStatus(state, msg string) {
	r.lastStatus = time.Now()
	if r.status == "" {
		return
	}
	total := r.job.schedule().steps
	losses := r.lastLosses
	if r.avgStatus {
		losses = r.logged
	}
	s := runlog.Status{PID: os.Getpid(), State: state, Step: r.step, Stage: r.stage, TotalSteps: total,
		StepsPerS: r.sps, Losses: losses, Checkpoint: r.lastCkpt, Message: msg}
	if r.sps > 0 {
		s.ETASeconds = float64(total-r.step) / r.sps
	}
	runlog.WriteStatus(r.status, s)
}

// saved is a checkpoint read back: the trainer's weights and its state
// (optimiser moments; counters and config in the metadata).
type saved[W any] struct {
	weights W
	state   *core.TensorFile
}

// readSaved reads the checkpoint folder p: the weights with readWeights,
// and the trainer state in stateFile, which must be of format.
func readSaved[W any](p string, readWeights func(p string) (W, error), stateFile, format string) (saved[W], error) {
	w, err := readWeights(p)
	if err != nil {
		return saved[W]{}, err
	}
	st, err := readTrainerState(filepath.Join(p, stateFile), format)
	if err != nil {
		return saved[W]{}, err
	}
	return saved[W]{w, st}, nil
}

// config decodes the run's config stored in s into cfg.
func (s saved[W]) config(cfg any) error {
	return json.Unmarshal([]byte(s.state.Metadata()["config"]), cfg)
}

// latestLoaded is LatestCheckpoint where load, which reads a checkpoint,
// checks it: got is the newest usable checkpoint in dir as load read it.
func latestLoaded[T any](dir string, load func(path string) (T, error)) (path string, got T, warnings []string, err error) {
	path, warnings, err = LatestCheckpoint(dir, func(p string) error {
		var err error
		got, err = load(p)
		return err
	})
	return path, got, warnings, err
}

// resumeLatest restores the newest usable checkpoint in r's folder, if
// any: load reads one, and restore takes the trainer's state from it (and
// the runner's counters, see restored). The checkpoints passed over are
// reported as warnings. It returns false where there is no checkpoint.
func resumeLatest[T any](r *runner, load func(path string) (T, error), restore func(path string, got T) error) (bool, error) {
	path, got, warns, err := latestLoaded(layout.Checkpoints(r.dir), load)
	for _, w := range warns {
		r.emit(Event{Kind: runlog.EventWarning, Message: w})
	}
	if errors.Is(err, ErrNoCheckpoint) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := restore(path, got); err != nil {
		return false, err
	}
	return true, nil
}

// restored takes the runner's counters (the step, the wall clock) from md,
// the metadata of the checkpoint at path.
func (r *runner) restored(path string, md map[string]string) {
	r.step, _ = strconv.ParseInt(md["step"], 10, 64)
	wall, _ := strconv.ParseFloat(md["wall_s"], 64)
	if math.IsNaN(wall) {
		wall = 0
	}
	r.wallBase = time.Duration(wall * float64(time.Second))
	r.lastCkpt = path
}

// checkpoint writes a checkpoint of the runner's step, the job's files
// with the common metadata (format version, step, wall clock), keeps the
// newest ones, and then links the new weights into the runner's folder.
func (r *runner) checkpoint() error {
	meta := map[string]string{
		"format_version": CheckpointVersion,
		"step":           strconv.FormatInt(r.step, 10),
		"wall_s":         strconv.FormatFloat(r.wall().Seconds(), 'f', 3, 64),
	}
	path, err := SaveCheckpoint(layout.Checkpoints(r.dir), r.step, func(tmp string) error {
		return r.job.save(tmp, meta)
	}, r.job.schedule().keep)
	if err != nil {
		return err
	}
	r.lastCkpt = path
	if err := linkModel(filepath.Join(path, r.names.weights), filepath.Join(r.dir, r.names.model)); err != nil {
		return fmt.Errorf("%supdate %s: %w", r.names.errs, r.names.model, err)
	}
	r.emit(Event{Kind: runlog.EventCheckpoint, Step: r.step, Stage: r.stage, Checkpoint: path})
	return nil
}

// begin reports the start of a run with ev. A new run then validates the
// untrained weights, the baseline of the curve, and checkpoints them, so
// that a loss that is not finite can always be recovered from.
func (r *runner) begin(resumed bool, ev Event) error {
	r.emit(ev)
	if resumed {
		return nil
	}
	if err := r.job.validate(); err != nil {
		return err
	}
	return r.checkpoint()
}

// loop runs the steps from the runner's step to the schedule's end, logging,
// validating and checkpointing at their intervals and refreshing
// status.json every two seconds; it ends with a checkpoint. When ctx is
// cancelled it stops at the next step with a checkpoint and returns nil.
func (r *runner) loop(ctx context.Context) error {
	r.lastLog, r.lastLogged = time.Now(), r.step
	r.sums, r.counts = map[string]float64{}, map[string]int{}
	for r.step < r.job.schedule().steps {
		if ctx.Err() != nil {
			return r.stop()
		}
		losses, ok, err := r.job.next()
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		for k, v := range losses {
			r.sums[k] += v
			r.counts[k]++
		}
		r.lastLosses = losses
		r.step++
		sc := r.job.schedule()
		if r.step%sc.logEvery == 0 || r.step == sc.steps {
			r.log()
		}
		if r.step%sc.valEvery == 0 || r.step == sc.steps {
			if err := r.job.validate(); err != nil {
				return err
			}
		}
		if r.step%sc.checkpointEvery == 0 && r.step != sc.steps {
			if err := r.checkpoint(); err != nil {
				return err
			}
		}
		if time.Since(r.lastStatus) > 2*time.Second {
			r.writeStatus("running", "")
		}
	}
	if err := r.checkpoint(); err != nil {
		return err
	}
	r.end("done", "", nil, Event{Kind: runlog.EventDone, Step: r.step, Stage: r.stage,
		Message: fmt.Sprintf("finished %d %ss; %s in %s", r.step, r.names.step, r.names.thing, filepath.Join(r.dir, r.names.model))})
	return nil
}

// stop ends an interrupted run with a checkpoint.
func (r *runner) stop() error {
	if err := r.checkpoint(); err != nil {
		return err
	}
	msg := fmt.Sprintf("stopped at %s %d; checkpoint written, run again to resume", r.names.step, r.step)
	r.end("stopped", msg, nil, Event{Kind: runlog.EventDone, Step: r.step, Stage: r.stage, Message: msg})
	return nil
}

// end reports the end of a run: status.json in state with msg, the job's
// ended hook (err for a failure), then ev, the final event.
func (r *runner) end(state, msg string, err error, ev Event) {
	r.writeStatus(state, msg)
	r.job.ended(state, err)
	r.emit(ev)
}

// log reports the averages of the loss terms since the last log line as a
// step event (to metrics.jsonl and the listener) and refreshes
// status.json.
func (r *runner) log() {
	now := time.Now()
	if dt := now.Sub(r.lastLog).Seconds(); dt > 0 {
		r.sps = float64(r.step-r.lastLogged) / dt
	}
	r.lastLog, r.lastLogged = now, r.step
	avg := make(map[string]float64, len(r.sums))
	for k, v := range r.sums {
		avg[k] = v / float64(r.counts[k])
	}
	r.sums, r.counts = map[string]float64{}, map[string]int{}
	r.logged = avg
	ev := Event{Kind: runlog.EventStep, Step: r.step, Stage: r.stage, Losses: avg, StepsPerSec: r.sps, Time: now, Wall: r.wall()}
	r.job.stepEvent(&ev)
	if r.sps > 0 {
		ev.ETA = time.Duration(float64(r.job.schedule().steps-r.step) / r.sps * float64(time.Second))
	}
	r.record(ev)
	r.writeStatus("running", "")
}
