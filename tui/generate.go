package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/prior"
	"github.com/ravestation/rave/core/render"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/tui/demo"
)

// The generate pane samples new audio from the open session's trained
// prior (prior/prior.safetensors) and model with render.Generate. It
// sets the temperature, the length and the seed; generation runs in a
// command, the result plays through the playback bar (as the working
// clip, track A) and exports as a WAV file. Whether the session has a
// prior comes from the training watcher (trainUpdateMsg.priorMod), so a
// prior trained while the workstation is open shows up by itself.

// Limits of the generate pane's settings.
const (
	genMinSeconds, genMaxSeconds = 1, 60
	genMaxTempTenths             = 20 // temperature 2.0
	genDefaultSeconds            = 4
	genDefaultTempTenths         = 10 // temperature 1.0: the learnt distribution
)

// generateFunc generates seconds of audio for a session (render.Generate
// with the session's model and prior); it returns mono audio at the
// report's SampleRate.
type generateFunc func(s *sessions.Session, seconds float64, o render.GenerateOptions) ([]float32, render.GenerateReport, error)

// genParams are the settings of one generation.
type genParams struct {
	tempTenths int
	seconds    int
	seed       uint64
}

func (g genParams) temperature() float64 { return float64(g.tempTenths) / 10 }

// label names the generation for the playback bar and file names.
func (g genParams) label() string {
	return fmt.Sprintf("generated seed %d t=%.1f %ds", g.seed, g.temperature(), g.seconds)
}

// Messages of the generate pane.
type (
	// generatedMsg delivers a generation (seq drops stale ones).
	generatedMsg struct {
		seq    int
		params genParams
		audio  []float32
		report render.GenerateReport
		err    error
	}
	// genExportedMsg reports a written WAV file.
	genExportedMsg struct {
		path string
		err  error
	}
)

// genResult is the last generation.
type genResult struct {
	params genParams
	audio  []float32
	report render.GenerateReport
}

// generatePane is the Generate pane.
type generatePane struct {
	Common
	s        *sessions.Session
	priorMod time.Time // modification time of the prior (zero: none)
	params   genParams
	seq      int
	busy     bool
	result   *genResult
	err      error
	exported string
	run      generateFunc
	newSeed  func() uint64
	// demo: the open session is the installed demo; noDataset: it has no
	// dataset (from the training watcher), so no prior can be trained.
	demo, noDataset bool
}

func newGeneratePane(c Common, run generateFunc, newSeed func() uint64) generatePane {
	return generatePane{Common: c, run: run, newSeed: newSeed,
		params: genParams{tempTenths: genDefaultTempTenths, seconds: genDefaultSeconds, seed: 1}}
}

// hasPrior reports whether the open session has a trained prior.
func (p generatePane) hasPrior() bool { return p.s != nil && !p.priorMod.IsZero() }

// cannotTrainPrior reports whether the open session has no prior and no
// dataset to train one on (the demo, or a session without audio).
func (p generatePane) cannotTrainPrior() bool { return p.s != nil && !p.hasPrior() && p.noDataset }

// Update handles the pane's messages and keys.
func (p generatePane) Update(msg tea.Msg) (generatePane, tea.Cmd) {
	switch msg := msg.(type) {
	case sessionOpenedMsg:
		p.s, p.priorMod, p.result, p.err, p.exported, p.busy = msg.s, time.Time{}, nil, nil, "", false
		p.demo, p.noDataset = demo.Is(msg.s), false
		p.seq++
	case sessionGoneMsg:
		if p.s != nil && p.s.Manifest.Name == msg.name {
			p.s, p.result, p.busy = nil, nil, false
			p.seq++
		}
	case trainUpdateMsg:
		if p.s != nil {
			p.priorMod, p.noDataset = msg.priorMod, msg.noDataset
		}
	case generatedMsg:
		if msg.seq != p.seq {
			return p, nil
		}
		p.busy = false
		if msg.err != nil {
			p.err = msg.err
			return p, errorCmd(fmt.Errorf("generate: %s", firstLine(msg.err)))
		}
		p.err, p.exported = nil, ""
		p.result = &genResult{params: msg.params, audio: msg.audio, report: msg.report}
		return p, statusCmd(fmt.Sprintf("generated %.1f s in %s: %s plays, %s exports", msg.report.Seconds,
			fmtDuration(msg.report.Elapsed), p.Keys.PlayGenerated.Help().Key, p.Keys.ExportGen.Help().Key))
	case genExportedMsg:
		if msg.err != nil {
			return p, errorCmd(msg.err)
		}
		p.exported = msg.path
		return p, statusCmd("exported " + msg.path)
	case tea.KeyMsg:
		return p.handleKey(msg)
	}
	return p, nil
}

func (p generatePane) handleKey(msg tea.KeyMsg) (generatePane, tea.Cmd) {
	k := p.Keys
	if p.cannotTrainPrior() && key.Matches(msg, k.NewSession) {
		return p, func() tea.Msg { return newSessionMsg{} }
	}
	switch {
	case key.Matches(msg, k.TempDown):
		p.params.tempTenths = max(0, p.params.tempTenths-1)
	case key.Matches(msg, k.TempUp):
		p.params.tempTenths = min(genMaxTempTenths, p.params.tempTenths+1)
	case key.Matches(msg, k.LengthDown):
		p.params.seconds = max(genMinSeconds, p.params.seconds-1)
	case key.Matches(msg, k.LengthUp):
		p.params.seconds = min(genMaxSeconds, p.params.seconds+1)
	case key.Matches(msg, k.NewSeed):
		p.params.seed = p.newSeed() % 1_000_000
	case key.Matches(msg, k.SeedDown):
		if p.params.seed > 0 {
			p.params.seed--
		}
	case key.Matches(msg, k.SeedUp):
		p.params.seed++
	case key.Matches(msg, k.Generate):
		return p.generate()
	case key.Matches(msg, k.PlayGenerated):
		if p.result == nil {
			return p, statusCmd("nothing generated yet: " + p.Keys.Generate.Help().Key + " generates")
		}
		r := p.result
		c := &clip{label: r.params.label(), samples: r.audio, rate: r.report.SampleRate}
		return p, func() tea.Msg { return clipLoadedMsg{clip: c, play: true} }
	case key.Matches(msg, k.ExportGen):
		if p.result == nil || p.s == nil {
			return p, statusCmd("nothing generated yet: " + p.Keys.Generate.Help().Key + " generates")
		}
		return p, exportGeneratedCmd(layout.Exports(p.s.Dir), p.result)
	}
	return p, nil
}

// generate starts a generation in a command.
func (p generatePane) generate() (generatePane, tea.Cmd) {
	switch {
	case p.s == nil:
		return p, statusCmd("open a session first (1, then enter)")
	case p.cannotTrainPrior():
		return p, statusCmd(fmt.Sprintf("%s has no prior and no training audio to train one on: n makes a new session from your audio", p.s.Manifest.Name))
	case !p.hasPrior():
		return p, statusCmd(fmt.Sprintf("%s has no prior yet: train one with `rave prior train --session %s`", p.s.Manifest.Name, p.s.Manifest.Name))
	case p.busy:
		return p, statusCmd("already generating: wait for it")
	}
	p.busy, p.err = true, nil
	p.seq++
	seq, s, params, run := p.seq, p.s, p.params, p.run
	return p, func() tea.Msg {
		opts := render.GenerateOptions{Temperature: params.temperature(), Seed: params.seed}
		y, rep, err := run(s, float64(params.seconds), opts)
		return generatedMsg{seq: seq, params: params, audio: y, report: rep, err: err}
	}
}

// generateAudio is the default generateFunc: it loads the session's model
// and prior and calls render.Generate.
func generateAudio(s *sessions.Session, seconds float64, o render.GenerateOptions) ([]float32, render.GenerateReport, error) {
	path := layout.Model(s.Dir)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, render.GenerateReport{}, errNoModel
	}
	m, err := model.Load(path)
	if err != nil {
		return nil, render.GenerateReport{}, err
	}
	pr, err := prior.Load(layout.PriorModel(s.Dir))
	if err != nil {
		return nil, render.GenerateReport{}, err
	}
	return render.Generate(m, pr, seconds, o)
}

// exportGeneratedCmd writes a generation as a 16-bit WAV file in dir.
func exportGeneratedCmd(dir string, r *genResult) tea.Cmd {
	path := filepath.Join(dir, wavName(r.params.label()))
	x, rate := r.audio, r.report.SampleRate
	return func() tea.Msg {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return genExportedMsg{err: fmt.Errorf("export: %w", err)}
		}
		if err := audio.WriteWAV(path, [][]float32{x}, rate, audio.Int16); err != nil {
			return genExportedMsg{err: err}
		}
		return genExportedMsg{path: path}
	}
}

// noPriorView explains the prior and how to train one, or, for a session
// with no audio to train it on (the demo), what to do instead. The prose
// wraps to the pane's width.
func (p generatePane) noPriorView() string {
	st, w := p.Styles, p.Width
	name := p.s.Manifest.Name
	lines := []string{st.Heading.Render("Generate " + name), ""}
	para := func(style lipgloss.Style, text string) { lines = append(lines, paragraph(style, text, w)) }
	command := func(cmd string) {
		lines = append(lines, "", truncate("    "+st.Accent.Render(cmd), w), "")
	}
	what := "A prior is a small autoregressive model of the latents: with it the model invents new audio in the style of its dataset."
	switch {
	case p.cannotTrainPrior() && p.demo:
		para(st.Text, "The demo has no prior, and no training audio to train one on, so it cannot generate.")
		para(st.Subtle, what+" To generate, make a session of your own: press n and give a folder of your audio, train its model (2, then s), then its prior in a shell:")
		command("rave prior train --session NAME")
	case p.cannotTrainPrior():
		para(st.Text, name+" has no prior yet, and no training audio to train one on.")
		para(st.Subtle, what+" Add audio first (1, then p), train the model (2, then s), then the prior in a shell:")
		command("rave prior train --session " + name)
	default:
		para(st.Text, name+" has no prior yet.")
		para(st.Subtle, what+" Train one in a shell:")
		command("rave prior train --session " + name)
		para(st.Subtle, "It runs in the background (Ctrl-C checkpoints, running it again resumes); its progress shows in Training (2), and this pane picks up "+
			layout.PriorDir+"/"+layout.PriorFile+" as soon as it is written.")
	}
	return strings.Join(lines, "\n")
}

// fmtDuration formats a short wall time: "850 ms", "2.3 s", else fmtSpan.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmtSpan(d)
}

// ShortHelp implements help.KeyMap.
func (p generatePane) ShortHelp() []key.Binding {
	k := p.Keys
	if p.cannotTrainPrior() {
		return []key.Binding{k.NewSession}
	}
	if !p.hasPrior() {
		return nil
	}
	return []key.Binding{k.Generate, k.PlayGenerated, k.ExportGen, k.TempUp, k.LengthUp, k.NewSeed}
}

// FullHelp implements help.KeyMap.
func (p generatePane) FullHelp() [][]key.Binding {
	k := p.Keys
	return [][]key.Binding{{k.Generate, k.PlayGenerated, k.ExportGen, k.TempDown, k.TempUp, k.LengthDown, k.LengthUp, k.NewSeed, k.SeedDown, k.SeedUp}}
}

// View draws the prior, the settings and the last generation, or how to
// train a prior.
func (p generatePane) View() string {
	st := p.Styles
	if p.s == nil {
		return st.Heading.Render("Generate") + "\n\n" + st.Subtle.Render("No session open. Pick one in Sessions (press 1, then enter).")
	}
	name := p.s.Manifest.Name
	priorFile := layout.PriorDir + "/" + layout.PriorFile
	if !p.hasPrior() {
		return p.noPriorView()
	}
	par, k := p.params, p.Keys
	row := func(label, value, hint string) string {
		return st.Text.Render(fmt.Sprintf("  %-12s ", label)) + st.Selected.Render(fmt.Sprintf("%-8s", value)) + " " + st.Subtle.Render(hint)
	}
	pair := func(a, b key.Binding) string { return a.Help().Key + " " + b.Help().Key }
	lines := joinFit([]string{
		st.Heading.Render("Generate "+name) + "  " + st.Subtle.Render("prior "+priorFile),
		st.Subtle.Render("trained " + fmtAgo(p.Now(), p.priorMod)),
	}, st.Subtle.Render(" · "), p.Width)
	lines = append(lines,
		"",
		row("temperature", fmt.Sprintf("%.1f", par.temperature()), pair(k.TempDown, k.TempUp)+" ±0.1 · 0 most probable, 1 as learnt, >1 wilder"),
		row("length", fmt.Sprintf("%d s", par.seconds), pair(k.LengthDown, k.LengthUp)+" ±1 s"),
		row("seed", fmt.Sprint(par.seed), k.NewSeed.Help().Key+" new random · "+pair(k.SeedDown, k.SeedUp)+" ±1 · the same seed, the same audio"),
		"",
	)
	switch {
	case p.busy:
		lines = append(lines, st.Warn.Render(fmt.Sprintf("… generating %d s (seed %d, temperature %.1f)", par.seconds, par.seed, par.temperature())))
	case p.err != nil:
		lines = append(lines, paragraph(st.Error, "✗ "+p.err.Error(), p.Width))
	case p.result == nil:
		lines = append(lines, st.Subtle.Render(k.Generate.Help().Key+" generates · "+k.PlayGenerated.Help().Key+" plays the result · "+k.ExportGen.Help().Key+" exports it as WAV"))
	}
	if r := p.result; r != nil {
		rep := r.report
		speed := "slower than real time"
		if rep.FasterThanRealTime() {
			speed = "faster than real time"
		}
		sep := st.Subtle.Render(" · ")
		lines = append(lines, joinFit([]string{
			st.OK.Render("✓ " + r.params.label()),
			st.Subtle.Render(fmt.Sprintf("%.1f s at %d Hz, %d frames × %d prior dims", rep.Seconds, rep.SampleRate, rep.Frames, rep.Dims)),
		}, sep, p.Width)...)
		lines = append(lines, joinFit([]string{
			st.Subtle.Render(fmt.Sprintf("  took %s (%.2f× real time, %s)", fmtDuration(rep.Elapsed), rep.RTF, speed)),
			st.Subtle.Render(k.PlayGenerated.Help().Key + " plays it as track A · " + k.ExportGen.Help().Key + " exports"),
		}, sep, p.Width)...)
	}
	if p.exported != "" {
		lines = append(lines, st.Subtle.Render("  exported "+p.exported))
	}
	return strings.Join(lines, "\n")
}
