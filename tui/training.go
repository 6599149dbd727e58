package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train"
)

// The training pane starts, stops and resumes the open session's detached
// training job and shows it live. A watcher goroutine tails metrics.jsonl
// and reads status.json and the lock; it sends one trainUpdateMsg per poll
// with what changed, and Update re-arms waitTrain each time (the realtime
// pattern). The pane only reads files and signals the job, so closing the
// workstation never stops training and reopening it shows the whole curve.

// maxRecords bounds the metrics kept in memory (older ones are thinned).
const maxRecords = 20000

// jobMsg reports a start or stop of the training job.
type jobMsg struct {
	started *sessions.Job
	stopped int
	err     error
}

// trainingPane is the Training pane.
type trainingPane struct {
	Common
	s     *sessions.Session
	gen   int
	watch *trainWatcher
	// life ends the watcher with the workstation (Options.ctx; nil: never).
	life     context.Context
	every    time.Duration
	exe      string
	records  []train.MetricsRecord
	terms    []string
	term     int
	status   *train.Status
	running  bool
	pid      int
	presets  []string
	preset   int
	switched int64 // first step logged in stage 2 (0: not yet)
	busy     string
	// checkpoints counts files in checkpoints/ at the last poll.
	checkpoints int
	// jobErr is the last failed start or stop, shown until the next one.
	jobErr error
	// prior is the last progress of the session's prior training.
	prior priorProgress
}

// priorProgress is what the training pane shows of prior/metrics.jsonl:
// the last step and the last training and validation cross-entropies.
type priorProgress struct {
	seen          bool
	step          int64
	xent, valXent float64
	hasXent       bool
	hasVal        bool
}

// add merges metrics records of the prior trainer.
func (pp *priorProgress) add(recs []train.MetricsRecord) {
	for _, r := range recs {
		pp.seen = true
		pp.step = max(pp.step, r.Step)
		if v, ok := r.Losses["xent"]; ok {
			pp.xent, pp.hasXent = v, true
		}
		if v, ok := r.Losses["val_xent"]; ok {
			pp.valXent, pp.hasVal = v, true
		}
	}
}

func newTrainingPane(c Common, exe string, every time.Duration) trainingPane {
	p := trainingPane{Common: c, exe: exe, every: every, presets: model.PresetNames()}
	p.preset = max(0, slices.Index(p.presets, "small"))
	return p
}

// close stops the watcher.
func (p *trainingPane) close() {
	if p.watch != nil {
		p.watch.cancel()
		p.watch = nil
	}
}

// Update handles the pane's messages and keys.
func (p trainingPane) Update(msg tea.Msg) (trainingPane, tea.Cmd) {
	switch msg := msg.(type) {
	case sessionOpenedMsg:
		p.close()
		p.s = msg.s
		p.records, p.terms, p.term, p.status, p.running, p.switched, p.checkpoints, p.jobErr = nil, nil, 0, nil, false, 0, 0, nil
		p.prior = priorProgress{}
		if i := slices.Index(p.presets, msg.s.Manifest.Preset); i >= 0 {
			p.preset = i
		}
		p.gen++
		if p.every <= 0 {
			return p, nil
		}
		p.watch = startTrainWatcher(p.life, msg.s, p.gen, p.every)
		return p, p.watch.wait()
	case sessionGoneMsg:
		if p.s != nil && p.s.Manifest.Name == msg.name {
			p.close()
			p.s = nil
		}
	case trainUpdateMsg:
		if msg.gen != p.gen {
			return p, nil
		}
		p.apply(msg)
		if p.watch != nil {
			return p, p.watch.wait()
		}
	case jobMsg:
		p.busy, p.jobErr = "", msg.err
		switch {
		case msg.err != nil:
			return p, errorCmd(errors.New(firstLine(msg.err)))
		case msg.started != nil:
			p.running, p.pid = true, msg.started.PID
			return p, statusCmd(fmt.Sprintf("training started (pid %d); it runs on when you quit — log in %s", msg.started.PID, layout.TrainLogFile))
		case msg.stopped > 0:
			return p, statusCmd(fmt.Sprintf("asked pid %d to stop: it writes a checkpoint, then exits", msg.stopped))
		}
	case tea.KeyMsg:
		return p.handleKey(msg)
	}
	return p, nil
}

// apply merges a watcher update.
func (p *trainingPane) apply(msg trainUpdateMsg) {
	if msg.reset {
		p.records, p.terms, p.term, p.switched = nil, nil, 0, 0
	}
	for _, r := range msg.records {
		if r.Kind != "" && r.Kind != train.EventStep && r.Kind != train.EventValidation && r.Kind != train.EventStage {
			continue
		}
		if r.Stage == 2 && p.switched == 0 {
			p.switched = r.Step
		}
		if len(r.Losses) > 0 {
			p.records = append(p.records, r)
		}
		for name := range r.Losses {
			if !slices.Contains(p.terms, name) {
				p.terms = append(p.terms, name)
			}
		}
	}
	sort.Strings(p.terms)
	if len(p.records) > maxRecords {
		// Thin the older half by two, keeping the recent detail.
		half := len(p.records) / 2
		var kept []train.MetricsRecord
		for i := 0; i < half; i += 2 {
			kept = append(kept, p.records[i])
		}
		p.records = append(kept, p.records[half:]...)
	}
	p.term = max(0, min(p.term, len(p.terms)-1))
	if msg.status != nil {
		p.status = msg.status
	}
	if msg.priorReset {
		p.prior = priorProgress{}
	}
	p.prior.add(msg.priorRecords)
	p.running, p.pid = msg.running, msg.pid
	p.checkpoints = msg.checkpoints
}

func (p trainingPane) handleKey(msg tea.KeyMsg) (trainingPane, tea.Cmd) {
	k := p.Keys
	switch {
	case key.Matches(msg, k.PrevTerm):
		if n := len(p.terms); n > 0 {
			p.term = (p.term + n - 1) % n
		}
		return p, nil
	case key.Matches(msg, k.NextTerm):
		if n := len(p.terms); n > 0 {
			p.term = (p.term + 1) % n
		}
		return p, nil
	}
	if p.s == nil {
		if key.Matches(msg, k.StartTrain, k.StopTrain, k.ForceStage2, k.Preset) {
			return p, statusCmd("open a session first (1, then enter)")
		}
		return p, nil
	}
	s := p.s
	switch {
	case key.Matches(msg, k.Preset):
		if p.hasRun() {
			return p, statusCmd("the preset is fixed once training has begun (it is stored in the checkpoints)")
		}
		p.preset = (p.preset + 1) % len(p.presets)
	case key.Matches(msg, k.StartTrain):
		if p.running {
			return p, statusCmd(fmt.Sprintf("already training (pid %d)", p.pid))
		}
		if p.busy != "" {
			return p, nil
		}
		var args []string
		if !p.hasRun() {
			args = []string{"--preset", p.presets[p.preset]}
		}
		p.busy = "starting…"
		exe := p.exe
		return p, func() tea.Msg {
			job, err := s.StartTraining(sessions.JobOptions{Executable: exe, Args: args})
			return jobMsg{started: job, err: err}
		}
	case key.Matches(msg, k.StopTrain):
		if !p.running {
			return p, statusCmd("no training job is running")
		}
		p.busy = "stopping…"
		return p, func() tea.Msg {
			pid, err := s.StopTraining()
			return jobMsg{stopped: pid, err: err}
		}
	case key.Matches(msg, k.ForceStage2):
		if p.stage() == 2 {
			return p, statusCmd("already in stage 2")
		}
		return p, func() tea.Msg {
			if err := s.RequestStage2(); err != nil {
				return errMsg{err}
			}
			return statusMsg{"stage 2 requested (" + layout.ControlFile + "): the trainer switches at its next poll"}
		}
	}
	return p, nil
}

// hasRun reports whether training has begun (so a start resumes).
func (p trainingPane) hasRun() bool {
	return p.status != nil || len(p.records) > 0 || p.checkpoints > 0
}

// stage returns the current stage (1 before any report).
func (p trainingPane) stage() int {
	if p.status != nil && p.status.Stage == train.StageAdversarial || p.switched > 0 {
		return 2
	}
	return 1
}

// switchStep returns the step of the stage switch and whether it is past
// (true) or planned from the preset's warmup (false).
func (p trainingPane) switchStep() (int64, bool) {
	if p.switched > 0 {
		return p.switched, true
	}
	name := p.presets[p.preset]
	if p.s != nil && p.s.Manifest.Preset != "" {
		name = p.s.Manifest.Preset
	}
	if c, err := model.Preset(name); err == nil {
		return int64(c.Warmup), false
	}
	return 0, false
}

// series returns the selected loss over the records.
func (p trainingPane) series(name string) []float64 {
	out := make([]float64, 0, len(p.records))
	for _, r := range p.records {
		if v, ok := r.Losses[name]; ok {
			out = append(out, v)
		}
	}
	return out
}

// ShortHelp implements help.KeyMap.
func (p trainingPane) ShortHelp() []key.Binding {
	k := p.Keys
	return []key.Binding{k.StartTrain, k.StopTrain, k.ForceStage2, k.NextTerm}
}

// FullHelp implements help.KeyMap.
func (p trainingPane) FullHelp() [][]key.Binding {
	k := p.Keys
	return [][]key.Binding{{k.StartTrain, k.StopTrain, k.ForceStage2, k.Preset, k.PrevTerm, k.NextTerm}}
}

// View draws the job line, the progress line, the selected loss as a chart
// and every loss as a sparkline.
func (p trainingPane) View() string {
	st, w, h := p.Styles, p.Width, p.Height
	if p.s == nil {
		return st.Heading.Render("Training") + "\n\n" + st.Subtle.Render("No session open. Pick one in Sessions (press 1, then enter).")
	}
	var lines []string
	// Line 1: session, job state, stage.
	state := st.Subtle.Render("■ stopped")
	switch {
	case p.busy != "":
		state = st.Warn.Render(p.busy)
	case p.running:
		state = st.OK.Render(fmt.Sprintf("▶ running (pid %d)", p.pid))
	case p.status != nil && p.status.State == "done":
		state = st.Accent.Render("✓ done")
	case p.status != nil && p.status.State == "failed":
		state = st.Error.Render("✗ failed")
	case !p.hasRun():
		state = st.Subtle.Render("not started · preset " + p.presets[p.preset] + " (p changes)")
	}
	stage := "stage 1 (VAE)"
	if p.stage() == 2 {
		stage = "stage 2 (adversarial)"
	}
	step := int64(0)
	total := int64(0)
	if p.status != nil {
		step, total = p.status.Step, p.status.TotalSteps
	} else if n := len(p.records); n > 0 {
		step = p.records[n-1].Step
	}
	stepText := "step " + fmtCount(step)
	if total > 0 {
		stepText += " / " + fmtCount(total)
	}
	lines = append(lines, st.Heading.Render("Training "+p.s.Manifest.Name)+"  "+state+st.Subtle.Render(" · ")+st.Text.Render(stage)+st.Subtle.Render(" · ")+st.Text.Render(stepText))

	// Line 2: speed, ETA, stage switch, checkpoint.
	var parts []string
	if p.status != nil && p.status.StepsPerS > 0 {
		parts = append(parts, fmt.Sprintf("%.2f steps/s", p.status.StepsPerS), "ETA "+fmtSpan(seconds(p.status.ETASeconds)))
	}
	if sw, past := p.switchStep(); past {
		parts = append(parts, "stage 2 since step "+fmtCount(sw))
	} else if sw > 0 {
		t := "stage 2 at step " + fmtCount(sw)
		if p.status != nil && p.status.StepsPerS > 0 && sw > step {
			t += " (in " + fmtSpan(seconds(float64(sw-step)/p.status.StepsPerS)) + ")"
		}
		parts = append(parts, t+" · F forces it")
	}
	if p.status != nil && p.status.Checkpoint != "" {
		parts = append(parts, "last ckpt "+checkpointLabel(p.status.Checkpoint))
	}
	if len(parts) == 0 {
		parts = append(parts, "no progress reported yet · s starts training")
	}
	lines = append(lines, st.Subtle.Render(strings.Join(parts, " · ")))
	if p.status != nil && p.status.Message != "" {
		lines = append(lines, st.Warn.Render(p.status.Message))
	}
	if l := p.priorLine(); l != "" {
		lines = append(lines, l)
	}
	if p.jobErr != nil {
		msg := strings.Split(p.jobErr.Error(), "\n")
		for i, l := range msg[:min(len(msg), 6)] {
			if i == 0 {
				lines = append(lines, st.Error.Render(truncate("✗ "+l, w)))
			} else {
				lines = append(lines, st.Subtle.Render(truncate("  "+l, w)))
			}
		}
	}

	if len(p.terms) == 0 {
		lines = append(lines, "", st.Subtle.Render("No metrics yet: curves appear here as "+layout.MetricsFile+" grows."))
		return strings.Join(lines, "\n")
	}
	// The selected loss, large.
	name := p.terms[p.term]
	vals := p.series(name)
	if len(vals) == 0 {
		return strings.Join(lines, "\n")
	}
	last := vals[len(vals)-1]
	lo, hi, _ := span(vals)
	sc, _ := newScale(vals)
	scaleNote := ""
	if sc.log {
		scaleNote = " · log scale"
	}
	title := fmt.Sprintf("── %s (%d/%d, ←/→) · last %s · min %s%s ", name, p.term+1, len(p.terms), fmtValue(last), fmtValue(lo), scaleNote)
	lines = append(lines, st.Heading.Render(truncate(title, w)))
	chartH := max(3, h-len(lines)-min(len(p.terms), 6)-1)
	const labelW = 9
	chart := areaChart(vals, max(10, w-labelW-1), chartH, st.Chart, st.Cursor, -1, nil)
	for i, row := range chart {
		label := ""
		switch i {
		case 0:
			label = fmtValue(hi)
		case chartH - 1:
			label = fmtValue(lo)
		}
		lines = append(lines, st.Axis.Render(fmt.Sprintf("%*s┤", labelW, label))+row)
	}
	// Every loss as a sparkline.
	nameW := 0
	for _, t := range p.terms {
		nameW = max(nameW, len(t))
	}
	nameW = min(nameW, 14)
	for i, t := range p.terms {
		if len(lines) >= h {
			break
		}
		v := p.series(t)
		if len(v) == 0 {
			continue
		}
		mark := "  "
		style := st.Text
		if i == p.term {
			mark, style = "▸ ", st.Selected
		}
		valW := 10
		line := style.Render(fmt.Sprintf("%s%-*s ", mark, nameW, truncate(t, nameW))) +
			st.ChartAlt.Render(sparkline(v, max(5, w-nameW-3-valW-1))) + " " + st.Text.Render(fmt.Sprintf("%*s", valW, fmtValue(v[len(v)-1])))
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// priorLine summarises prior training (empty when prior/metrics.jsonl
// has no records).
func (p trainingPane) priorLine() string {
	pp := p.prior
	if !pp.seen {
		return ""
	}
	st := p.Styles
	parts := []string{"step " + fmtCount(pp.step)}
	if pp.hasXent {
		parts = append(parts, "xent "+fmtValue(pp.xent))
	}
	if pp.hasVal {
		parts = append(parts, "val_xent "+fmtValue(pp.valXent))
	}
	return truncate(st.Accent.Render("prior ")+st.Text.Render(strings.Join(parts, " · "))+
		st.Subtle.Render(" · 5 generates"), p.Width)
}

// checkpointLabel names a checkpoint by its step ("step 14,000") when
// its file name carries one (ckpt-000000014000.safetensors), else by name.
func checkpointLabel(path string) string {
	name := path
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var step int64
	if _, err := fmt.Sscanf(name, "ckpt-%d.safetensors", &step); err == nil {
		return "step " + fmtCount(step)
	}
	return name
}

// trainWatcher polls a session's training files from a goroutine.
type trainWatcher struct {
	ch     chan trainUpdateMsg
	cancel context.CancelFunc
}

// startTrainWatcher starts polling s every interval, until the watcher
// is cancelled or life (nil: never) is done.
func startTrainWatcher(life context.Context, s *sessions.Session, gen int, every time.Duration) *trainWatcher {
	if life == nil {
		life = context.Background()
	}
	ctx, cancel := context.WithCancel(life)
	w := &trainWatcher{ch: make(chan trainUpdateMsg), cancel: cancel}
	go w.run(ctx, s, gen, every)
	return w
}

// wait returns the watcher's next update (nil once it stopped).
func (w *trainWatcher) wait() tea.Cmd {
	ch := w.ch
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

func (w *trainWatcher) run(ctx context.Context, s *sessions.Session, gen int, every time.Duration) {
	defer close(w.ch)
	tail := &metricsTail{path: s.Path(layout.MetricsFile)}
	priorTail := &metricsTail{path: s.Path(layout.PriorDir, layout.MetricsFile)}
	var lastStatus time.Time
	var lastModel, lastPrior time.Time
	lastRunning, lastPID, lastCkpts := false, -1, -1
	first := true
	for {
		msg := trainUpdateMsg{gen: gen}
		recs, reset, err := tail.next()
		msg.records, msg.reset = recs, reset
		changed := first || len(recs) > 0 || reset || err != nil
		if precs, preset, err := priorTail.next(); err == nil {
			msg.priorRecords, msg.priorReset = precs, preset
			changed = changed || len(precs) > 0 || preset
		}
		if fi, err := os.Stat(layout.PriorModel(s.Dir)); err == nil {
			msg.priorMod = fi.ModTime()
		}
		if !msg.priorMod.Equal(lastPrior) {
			lastPrior = msg.priorMod
			changed = true
		}
		if st, err := train.ReadStatus(s.Path(layout.StatusFile)); err == nil && !st.Updated.Equal(lastStatus) {
			lastStatus = st.Updated
			msg.status = &st
			changed = true
		}
		msg.pid, msg.running = s.Training()
		msg.checkpoints = countCheckpoints(s)
		if msg.checkpoints != lastCkpts {
			lastCkpts = msg.checkpoints
			changed = true
		}
		if msg.running != lastRunning || msg.pid != lastPID {
			lastRunning, lastPID = msg.running, msg.pid
			changed = true
		}
		if fi, err := os.Stat(s.Path(layout.ModelFile)); err == nil {
			msg.modelMod = fi.ModTime()
			if !fi.ModTime().Equal(lastModel) {
				lastModel = fi.ModTime()
				changed = true
			}
		}
		if changed {
			select {
			case w.ch <- msg:
				first = false
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-time.After(every):
		case <-ctx.Done():
			return
		}
	}
}

// countCheckpoints counts the files in the session's checkpoints folder.
func countCheckpoints(s *sessions.Session) int {
	entries, err := os.ReadDir(s.Path(layout.CheckpointDir))
	if err != nil {
		return 0
	}
	return len(entries)
}

// metricsTail reads the complete lines appended to metrics.jsonl since
// the last call.
type metricsTail struct {
	path string
	off  int64
}

// next returns the new records; reset reports that the file shrank (it
// was replaced) and was read again from the start.
func (t *metricsTail) next() (recs []train.MetricsRecord, reset bool, err error) {
	f, err := os.Open(t.path)
	if errors.Is(err, os.ErrNotExist) {
		reset = t.off > 0
		t.off = 0
		return nil, reset, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if fi.Size() < t.off {
		t.off, reset = 0, true
	}
	if fi.Size() == t.off {
		return nil, reset, nil
	}
	buf := make([]byte, fi.Size()-t.off)
	n, err := f.ReadAt(buf, t.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, reset, err
	}
	buf = buf[:n]
	end := bytes.LastIndexByte(buf, '\n')
	if end < 0 {
		return nil, reset, nil // only a partial line so far
	}
	recs, _, err = train.ReadMetrics(bytes.NewReader(buf[:end+1]))
	t.off += int64(end + 1)
	return recs, reset, err
}
