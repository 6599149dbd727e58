package tui

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/tui/demo"
)

// Options configures Run. The zero value runs the workstation on the
// terminal with the session list first.
type Options struct {
	// Session, if set, is opened at start.
	Session string
	// Demo opens the demo session at start (installing it first if it is
	// missing; see package tui/demo). Without Session or Demo the demo
	// session is installed and opened when there is no other session.
	Demo bool
	// Clip, if set, is an audio file used as the working clip instead of
	// a few seconds of the session's dataset.
	Clip string
	// NoAudio never opens the sound device: the playback bar offers WAV
	// export instead (as it does when there is no device).
	NoAudio bool
	// Executable is the rave binary started for training jobs
	// (`Executable train --session NAME`); empty means os.Executable().
	Executable string
	// Input and Output replace the terminal (tests, SSH).
	Input  io.Reader
	Output io.Writer

	// Test seams and per-connection settings; zero values take defaults.
	renderer  *lipgloss.Renderer
	now       func() time.Time
	openAudio func() (Playback, error)
	loadModel func(*sessions.Session) (Codec, error)
	loadClip  func(*sessions.Session) (*clip, error)
	pollEvery time.Duration
	// ctx is the workstation's lifetime: the training watcher and a
	// preprocessing job end when it is done, whether or not the program
	// saw a quit key (Run ends it when the program returns; Serve passes
	// the SSH session's context). Default: never done.
	ctx context.Context
	// installDemo installs the demo session (demo.Install); an empty
	// name means there is none.
	installDemo func() (string, bool, error)
	generate    generateFunc
	newSeed     func() uint64
}

func (o Options) withDefaults() Options {
	if o.now == nil {
		o.now = time.Now
	}
	if o.openAudio == nil {
		o.openAudio = openAudio
	}
	if o.loadModel == nil {
		o.loadModel = loadSessionModel
	}
	if o.loadClip == nil {
		o.loadClip = sessionClip
	}
	if o.installDemo == nil {
		o.installDemo = demo.Install
	}
	if o.generate == nil {
		o.generate = generateAudio
	}
	if o.newSeed == nil {
		o.newSeed = rand.Uint64
	}
	if o.pollEvery == 0 {
		o.pollEvery = time.Second
	}
	if o.ctx == nil {
		o.ctx = context.Background()
	}
	return o
}

// Run runs the workstation until the user quits. A training job started
// from it keeps running afterwards. With DEBUG set, a debug log goes to
// rave-debug.log; the standard logger is otherwise silenced while the
// TUI owns the terminal.
func Run(opts Options) error {
	if os.Getenv("DEBUG") != "" {
		f, err := tea.LogToFile("rave-debug.log", "rave")
		if err != nil {
			return fmt.Errorf("tui: debug log: %w", err)
		}
		defer f.Close()
	} else {
		prev := log.Writer()
		log.SetOutput(io.Discard)
		defer log.SetOutput(prev)
	}
	progOpts := []tea.ProgramOption{tea.WithAltScreen()}
	if opts.Input != nil {
		progOpts = append(progOpts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		progOpts = append(progOpts, tea.WithOutput(opts.Output))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.ctx = ctx
	final, err := tea.NewProgram(newModel(opts), progOpts...).Run()
	m, ok := final.(app)
	if ok {
		m.release() // the program may end without q (a signal)
	}
	if err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	if ok && m.fatal != nil {
		return m.fatal.err
	}
	return nil
}
