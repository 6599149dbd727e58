package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/sessions/trainjob"
	"github.com/ravestation/rave/train"
	"github.com/ravestation/rave/train/runlog"
	"github.com/ravestation/rave/tui/demo"
)

// The training pane starts, stops and resumes the open session's detached
// training job and shows it live. A watcher goroutine tails metrics.jsonl
// and reads status.json and the lock; it sends one trainUpdateMsg per poll
// with what changed, and Update re-arms waitTrain each time (the realtime
// pattern). The pane only reads files and signals the job, so closing the
// workstation never stops training and reopening it shows the whole curve.

// maxRecords bounds the metrics kept in memory (older ones are thinned).
const maxRecords = 20000

// Messages of the training pane.
type (
	// jobMsg reports a start or stop of the training job; noDataset
	// reports a start refused because the session has no dataset.
	jobMsg struct {
		started   *trainjob.Job
		stopped   int
		noDataset bool
		err       error
	}
	// stage2RequestedMsg reports a force_stage2 request written to
	// control.json while a job ran (running) or for its next start.
	stage2RequestedMsg struct{ running bool }
	// newSessionMsg asks the root to open the Sessions pane's "new
	// session" prompt (the next step offered by a session that cannot
	// train).
	newSessionMsg struct{}
)

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
	records  []runlog.MetricsRecord
	terms    []string
	term     int
	status   *runlog.Status
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
	// demo: the open session is the installed demo. noDataset: the
	// watcher found no dataset, so the session cannot train.
	demo, noDataset bool
	// runSwitch is the stage switch of the latest run (its run
	// manifest), zero before the first run.
	runSwitch stageSwitch
	// stage2Pending: control.json holds a force_stage2 request the
	// trainer has not acted on yet.
	stage2Pending bool
	// confirmStage2: F on a stopped run waits for y or n.
	confirmStage2 bool
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
func (pp *priorProgress) add(recs []runlog.MetricsRecord) {
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
	p.preset = max(0, slices.Index(p.presets, train.DefaultPreset))
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
		p.demo, p.noDataset, p.runSwitch, p.stage2Pending, p.confirmStage2 = demo.Is(msg.s), false, stageSwitch{}, false, false
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
	case stage2RequestedMsg:
		p.stage2Pending = true
		if msg.running {
			return p, statusCmd("stage 2 requested (" + layout.ControlFile + "): the trainer switches at its next poll")
		}
		return p, statusCmd("stage 2 requested: it begins as soon as training starts again (s)")
	case jobMsg:
		p.busy, p.jobErr = "", msg.err
		switch {
		case msg.noDataset:
			p.noDataset = true
			return p, statusCmd(p.noDatasetStatus())
		case msg.err != nil:
			_, detail := trainerError(msg.err)
			return p, errorCmd(errors.New(detail[len(detail)-1]))
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
		if r.Kind != "" && r.Kind != runlog.EventStep && r.Kind != runlog.EventValidation && r.Kind != runlog.EventStage {
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
		var kept []runlog.MetricsRecord
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
	p.noDataset, p.runSwitch, p.stage2Pending = msg.noDataset, msg.runSwitch, msg.stage2Pending
	if p.running || p.stage() == 2 {
		p.confirmStage2 = false // the question no longer applies
	}
}

// capturing reports whether the pane waits for an answer (y or n).
func (p trainingPane) capturing() bool { return p.confirmStage2 }

func (p trainingPane) handleKey(msg tea.KeyMsg) (trainingPane, tea.Cmd) {
	k := p.Keys
	if p.confirmStage2 {
		return p.confirmKey(msg)
	}
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
	if p.noDataset && !p.running {
		switch {
		case key.Matches(msg, k.NewSession):
			return p, func() tea.Msg { return newSessionMsg{} }
		case key.Matches(msg, k.StartTrain, k.ForceStage2, k.Preset):
			return p, statusCmd(p.noDatasetStatus())
		}
	}
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
			if _, err := os.Stat(layout.DatasetBin(s.Dir)); errors.Is(err, os.ErrNotExist) {
				return jobMsg{noDataset: true}
			}
			job, err := trainjob.Start(s, trainjob.Options{Executable: exe, Args: args})
			return jobMsg{started: job, err: err}
		}
	case key.Matches(msg, k.StopTrain):
		if !p.running {
			return p, statusCmd("no training job is running")
		}
		p.busy = "stopping…"
		return p, func() tea.Msg {
			pid, err := trainjob.Stop(s)
			return jobMsg{stopped: pid, err: err}
		}
	case key.Matches(msg, k.ForceStage2):
		return p.forceStage2()
	}
	return p, nil
}

// forceStage2 handles F: a running job gets the request at once; for a
// stopped one, which reads it only when it starts again, the pane asks
// first rather than leave a switch waiting unseen.
func (p trainingPane) forceStage2() (trainingPane, tea.Cmd) {
	switch {
	case p.stage() == 2:
		return p, statusCmd("already in stage 2")
	case p.stage2Pending && p.running:
		return p, statusCmd("stage 2 is already requested: the trainer switches at its next poll")
	case p.stage2Pending:
		return p, statusCmd("stage 2 is already requested: it begins as soon as training starts again (s)")
	case !p.running:
		p.confirmStage2 = true
		return p, nil
	}
	return p, requestStage2Cmd(p.s, true)
}

// confirmKey answers the stage-2 question: y requests it, n or esc
// cancels, other keys wait.
func (p trainingPane) confirmKey(msg tea.KeyMsg) (trainingPane, tea.Cmd) {
	switch {
	case key.Matches(msg, p.Keys.Yes):
		p.confirmStage2 = false
		return p, requestStage2Cmd(p.s, false)
	case key.Matches(msg, p.Keys.No, p.Keys.Back):
		p.confirmStage2 = false
		return p, statusCmd("stage 2 not requested")
	}
	return p, nil
}

// requestStage2Cmd writes the force_stage2 request of s.
func requestStage2Cmd(s *sessions.Session, running bool) tea.Cmd {
	return func() tea.Msg {
		if err := trainjob.RequestStage2(s); err != nil {
			return errMsg{err}
		}
		return stage2RequestedMsg{running: running}
	}
}

// noDatasetNote says why the session cannot train and what to do next.
func (p trainingPane) noDatasetNote() string {
	if p.demo {
		return "The demo has no training audio: its model came trained. Press n to make a new session from a folder of your own audio."
	}
	name := p.s.Manifest.Name
	return name + " has no training audio yet. Press n for a new session from a folder of audio, or 1, then p, to add audio to " + name + "."
}

// noDatasetStatus is noDatasetNote in short, for the status line.
func (p trainingPane) noDatasetStatus() string {
	if p.demo {
		return "the demo has no training audio: n makes a new session from your own"
	}
	return p.s.Manifest.Name + " has no training audio: n makes a new session, 1 then p adds audio"
}

// trainerError splits a failed start into its first line (what failed)
// and the trainer's own words, the end of train.log: without the
// "=== … starting" banner, and with a line that repeats the one before
// it behind a prefix ("rave train: " + the error) kept once. detail is
// never empty.
func trainerError(err error) (head string, detail []string) {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	// The session is on screen: drop the `sessions: "NAME": ` prefix.
	head = lines[0]
	if rest, ok := strings.CutPrefix(head, "sessions: "); ok {
		if i := strings.Index(rest, `": `); strings.HasPrefix(rest, `"`) && i > 0 {
			head = rest[i+3:]
		}
	}
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "=== "):
			continue
		case len(detail) > 0 && strings.HasSuffix(l, ": "+detail[len(detail)-1]):
			detail[len(detail)-1] = l
			continue
		}
		detail = append(detail, l)
	}
	if len(detail) == 0 {
		detail = []string{head}
	}
	return head, detail
}

// hasRun reports whether training has begun (so a start resumes).
func (p trainingPane) hasRun() bool {
	return p.status != nil || len(p.records) > 0 || p.checkpoints > 0
}

// stage returns the current stage (1 before any report).
func (p trainingPane) stage() int {
	if p.status != nil && p.status.Stage == runlog.StageAdversarial || p.switched > 0 {
		return 2
	}
	return 1
}

// stageSwitch is what decides when stage 2 starts: the stage-1 length and
// the plateau switch (train.Config's fields of the same names).
type stageSwitch struct {
	Stage1Steps   int64
	Stage2Plateau int
	Stage2From    int64
}

// plannedSwitch returns the planned stage switch: the latest run's, or
// before any run the default of the preset a start would pass
// (train.Defaults).
func (p trainingPane) plannedSwitch() stageSwitch {
	if p.runSwitch.Stage1Steps > 0 {
		return p.runSwitch
	}
	name := p.presets[p.preset]
	if p.s != nil && p.s.Manifest.Preset != "" {
		name = p.s.Manifest.Preset
	}
	if c, err := train.Defaults(name); err == nil {
		return stageSwitch{c.Stage1Steps, c.Stage2Plateau, c.Stage2From}
	}
	return stageSwitch{}
}

// switchStep returns the step of the stage switch and whether it is past
// (true) or planned (false). The planned step is the trainer's: the
// stage-1 length in the latest run's manifest, or before any run the
// default of the preset a start would pass (train.Defaults).
func (p trainingPane) switchStep() (int64, bool) {
	if p.switched > 0 {
		return p.switched, true
	}
	return p.plannedSwitch().Stage1Steps, false
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
	switch {
	case p.confirmStage2:
		return []key.Binding{k.Yes, k.No}
	case p.noDataset && !p.running && p.s != nil:
		return []key.Binding{k.NewSession}
	}
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
	lines := p.headLines()
	if p.noDataset && !p.running && !p.hasRun() {
		lines = append(lines, "", paragraph(st.Text, p.noDatasetNote(), w))
		if p.demo {
			lines = append(lines, "", paragraph(st.Subtle, "Meanwhile the demo's model plays (space), prunes (3 Fidelity) and opens up its latents (4 Latent) as it is.", w))
		}
		return strings.Join(lines, "\n")
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

// headLines draws the lines above the chart: the job line, the progress
// line, the trainer's message, the prior's progress, a failed start (in
// full) and the stage-2 question. Each breaks between its parts, or
// wraps, rather than run off a narrow terminal; the result has one entry
// a line, as View counts them.
func (p trainingPane) headLines() []string {
	st, w := p.Styles, p.Width
	sep := st.Subtle.Render(" · ")
	title := st.Heading.Render("Training "+p.s.Manifest.Name) + "  " + p.stateText()
	if p.noDataset && !p.running && !p.hasRun() {
		return joinFit([]string{title}, sep, w)
	}
	stage := "stage 1 (VAE)"
	if p.stage() == 2 {
		stage = "stage 2 (adversarial)"
	}
	step, total := p.step()
	stepText := "step " + fmtCount(step)
	if total > 0 {
		stepText += " / " + fmtCount(total)
	}
	lines := joinFit([]string{title, st.Text.Render(stage), st.Text.Render(stepText)}, sep, w)
	lines = append(lines, joinFit(p.progressParts(), sep, w)...)
	if p.status != nil && p.status.Message != "" {
		style := st.Warn
		if p.status.State == "failed" {
			style = st.Error
		}
		lines = append(lines, paragraph(style, p.status.Message, w))
	}
	if l := p.priorLine(); l != "" {
		lines = append(lines, l)
	}
	lines = append(lines, p.jobErrLines()...)
	if p.confirmStage2 {
		at := ""
		if sw, past := p.switchStep(); !past && sw > 0 {
			at = " instead of at step " + fmtCount(sw)
		}
		q := "Force stage 2? Training is stopped: the switch waits for the next start (s) and happens then" + at + "."
		lines = append(lines, paragraph(st.Warn, q, w),
			st.Prompt.Render(p.Keys.Yes.Help().Key)+st.Subtle.Render(" request it · ")+st.Prompt.Render(p.Keys.No.Help().Key)+st.Subtle.Render(" cancel"))
	}
	return strings.Split(strings.Join(lines, "\n"), "\n")
}

// stateText names the job's state: busy, running, done, failed, stopped
// or not started.
func (p trainingPane) stateText() string {
	st := p.Styles
	switch {
	case p.busy != "":
		return st.Warn.Render(p.busy)
	case p.running:
		return st.OK.Render(fmt.Sprintf("▶ running (pid %d)", p.pid))
	case p.status != nil && p.status.State == "done":
		return st.Accent.Render("✓ done")
	case p.status != nil && p.status.State == "failed":
		return st.Error.Render("✗ failed")
	case p.noDataset && !p.hasRun():
		return st.Subtle.Render("no training audio")
	case !p.hasRun():
		name := p.presets[p.preset]
		if note := presetNotes[name]; note != "" {
			name += ", " + note
		}
		return st.Subtle.Render("not started · preset " + name + " (p changes)")
	}
	return st.Subtle.Render("■ stopped")
}

// presetNotes says in a few words what each training preset is for, where
// the Training pane proposes one for a new run.
var presetNotes = map[string]string{
	"quick": "learns fastest on a CPU",
	"small": "v1's shape, ¼ of its channels",
	"tiny":  "for trials",
	"v1":    "the paper's, sized for a GPU",
}

// step returns the last step reported and the run's total (0: unknown).
func (p trainingPane) step() (step, total int64) {
	if p.status != nil {
		return p.status.Step, p.status.TotalSteps
	}
	if n := len(p.records); n > 0 {
		return p.records[n-1].Step, 0
	}
	return 0, 0
}

// progressParts are the parts of the progress line: speed, ETA, the stage
// switch (past, planned or requested) and the last checkpoint.
func (p trainingPane) progressParts() []string {
	var parts []string
	if p.status != nil && p.status.StepsPerS > 0 {
		parts = append(parts, fmt.Sprintf("%.2f steps/s", p.status.StepsPerS), "ETA "+fmtSpan(seconds(p.status.ETASeconds)))
	}
	if sw, past := p.switchStep(); past {
		parts = append(parts, "stage 2 since step "+fmtCount(sw))
	} else if sw > 0 {
		t := "stage 2 at step " + fmtCount(sw)
		if step, _ := p.step(); p.status != nil && p.status.StepsPerS > 0 && sw > step {
			t += " (in " + fmtSpan(seconds(float64(sw-step)/p.status.StepsPerS)) + ")"
		}
		if ps := p.plannedSwitch(); ps.Stage2Plateau > 0 {
			t += " or at a plateau from step " + fmtCount(ps.Stage2From)
		}
		switch {
		case p.stage2Pending && p.running:
			parts = append(parts, t, "stage 2 requested: the trainer switches at its next poll")
		case p.stage2Pending:
			parts = append(parts, t, "stage 2 requested: it begins when training starts again")
		default:
			parts = append(parts, t, "F forces it")
		}
	}
	if p.status != nil && p.status.Checkpoint != "" {
		parts = append(parts, "last ckpt "+checkpointLabel(p.status.Checkpoint))
	}
	if len(parts) == 0 {
		parts = append(parts, "no progress reported yet · s starts training")
	}
	for i := range parts {
		parts[i] = p.Styles.Subtle.Render(parts[i])
	}
	return parts
}

// jobErrLines draws a failed start or stop in full: what failed, then the
// trainer's own words, wrapped and indented.
func (p trainingPane) jobErrLines() []string {
	if p.jobErr == nil {
		return nil
	}
	st, w := p.Styles, p.Width
	head, detail := trainerError(p.jobErr)
	lines := []string{paragraph(st.Error, "✗ "+head, w)}
	if len(detail) == 1 && detail[0] == head {
		return lines
	}
	for _, d := range detail {
		for _, l := range wrap(d, w-2) {
			lines = append(lines, "  "+st.Text.Render(l))
		}
	}
	return lines
}

// joinFit joins parts with sep into as few lines of at most w cells as it
// can, breaking only between parts; a part wider than w alone is cut
// (truncate).
func joinFit(parts []string, sep string, w int) []string {
	var lines []string
	cur := ""
	for _, part := range parts {
		switch {
		case cur == "":
			cur = part
		case lipgloss.Width(cur)+lipgloss.Width(sep)+lipgloss.Width(part) <= w:
			cur += sep + part
		default:
			lines = append(lines, truncate(cur, w))
			cur = part
		}
	}
	return append(lines, truncate(cur, w))
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
	if step, ok := layout.CheckpointStep(name); ok {
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
	var last trainUpdateMsg // the dataset, run and control fields sent last
	run := &latestRun{dir: s.Dir}
	first := true
	for {
		msg := trainUpdateMsg{gen: gen}
		msg.noDataset, msg.runSwitch, msg.stage2Pending = pollSession(s, run)
		if msg.noDataset != last.noDataset || msg.runSwitch != last.runSwitch || msg.stage2Pending != last.stage2Pending {
			last = msg
			first = true // send even without other news
		}
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
		if st, err := runlog.ReadStatus(s.Path(layout.StatusFile)); err == nil && !st.Updated.Equal(lastStatus) {
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

// pollSession reads what decides whether and how the session trains:
// whether it lacks a dataset, the newest run's stage switch and whether
// control.json asks for stage 2.
func pollSession(s *sessions.Session, run *latestRun) (noDataset bool, sw stageSwitch, stage2 bool) {
	_, err := os.Stat(layout.DatasetBin(s.Dir))
	if c, cerr := trainjob.ReadControl(s); cerr == nil {
		stage2 = c.ForceStage2
	}
	return errors.Is(err, os.ErrNotExist), run.stageSwitch(), stage2
}

// latestRun reads the stage switch of a session's newest run manifest
// (runs/run-ID.json), reading the file again only when it changes.
type latestRun struct {
	dir  string
	path string
	mod  time.Time
	sw   stageSwitch
}

// stageSwitch returns the stage switch of the newest run (zero: no run).
func (r *latestRun) stageSwitch() stageSwitch {
	matches, _ := filepath.Glob(layout.RunGlob(r.dir))
	if len(matches) == 0 {
		r.path, r.sw = "", stageSwitch{}
		return r.sw
	}
	sort.Strings(matches) // run IDs sort by start time
	path := matches[len(matches)-1]
	fi, err := os.Stat(path)
	if err != nil || path == r.path && fi.ModTime().Equal(r.mod) {
		return r.sw
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return r.sw
	}
	// The trainer's manifest (train.RunManifest) holds its whole
	// configuration under "config"; only the stage switch is needed.
	var m struct {
		Config stageSwitch `json:"config"`
	}
	if json.Unmarshal(b, &m) != nil {
		return r.sw // being written: read it at the next poll
	}
	r.path, r.mod, r.sw = path, fi.ModTime(), m.Config
	return r.sw
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
func (t *metricsTail) next() (recs []runlog.MetricsRecord, reset bool, err error) {
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
	recs, _, err = runlog.ReadMetrics(bytes.NewReader(buf[:end+1]))
	t.off += int64(end + 1)
	return recs, reset, err
}
