package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/train/runlog"
)

// Messages shared between the root and the panes. Messages private to one
// pane are declared in its file.

// errMsg carries a recoverable error to the status line.
type errMsg struct{ err error }

// errorCmd returns a command that reports err in the status line.
func errorCmd(err error) tea.Cmd {
	return func() tea.Msg { return errMsg{err} }
}

// fatalMsg replaces the screen with an error badge, the error and what to
// do next; any key then quits.
type fatalMsg struct {
	err  error
	hint string
}

// statusMsg shows a note in the status line.
type statusMsg struct{ text string }

// statusCmd returns a command that shows text in the status line.
func statusCmd(format string) tea.Cmd {
	return func() tea.Msg { return statusMsg{format} }
}

// clearStatusMsg clears the status line if it still shows note id.
type clearStatusMsg struct{ id int }

// sessionOpenedMsg opens a session in every pane.
type sessionOpenedMsg struct{ s *sessions.Session }

// sessionGoneMsg reports that the named session was renamed (to newName)
// or deleted (newName empty).
type sessionGoneMsg struct{ name, newName string }

// trainUpdateMsg is one batch from the training watcher: new metrics lines,
// the heartbeat and the job state. gen identifies the watcher.
type trainUpdateMsg struct {
	gen     int
	records []runlog.MetricsRecord
	reset   bool // the metrics file was replaced: drop earlier records
	status  *runlog.Status
	running bool
	pid     int
	// checkpoints counts the files in checkpoints/.
	checkpoints int
	modelMod    time.Time // modification time of model.safetensors (zero: none)
	// priorRecords are new lines of prior/metrics.jsonl (priorReset: the
	// file was replaced); priorMod is the modification time of the
	// trained prior (zero: none).
	priorRecords []runlog.MetricsRecord
	priorReset   bool
	priorMod     time.Time
	// noDataset: the session has no dataset.bin, so it cannot train.
	noDataset bool
	// runSwitch is the stage switch (Config.Stage1Steps and the plateau
	// switch) in the newest run manifest, zero before the first run.
	runSwitch stageSwitch
	// stage2Pending: control.json asks for stage 2.
	stage2Pending bool
}

// modelLoadedMsg delivers the session's model (or why there is none).
type modelLoadedMsg struct {
	session string
	codec   Codec
	mod     time.Time
	err     error
}

// clipLoadedMsg delivers the clip the fidelity and latent panes play;
// play starts playing it as soon as it is loaded.
type clipLoadedMsg struct {
	clip *clip
	play bool
}

// renderedMsg delivers audio rendered from the clip (a reconstruction at k
// dims or a latent edit), to be played as track B. from names the pane
// that asked ("fidelity", "latent").
type renderedMsg struct {
	from  string
	seq   int
	label string
	audio []float32
	rate  int
	play  bool
}

// renderFailedMsg reports a failed render.
type renderFailedMsg struct {
	from string
	err  error
}

// encodedMsg delivers the clip's latents (PCA space, dims × frames).
type encodedMsg struct {
	seq int
	z   [][]float32
	err error
}

// playheadMsg reports the playback position (in samples of the clip).
type playheadMsg struct {
	pos     int
	playing bool
}

// clip is the audio the fidelity and latent panes work on: mono samples at
// the model's rate (or the dataset's before a model exists).
type clip struct {
	label   string
	samples []float32
	rate    int
}
