package tui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/activeterm"
	bm "github.com/charmbracelet/wish/bubbletea"
	"github.com/muesli/termenv"

	"github.com/ravestation/rave/sessions"
)

// sessionRenderer returns a lipgloss renderer for an SSH client: the
// colour profile comes from the client's TERM (and COLORTERM), and a dark
// background is assumed. wish's MakeRenderer asks the client's terminal
// for its background colour instead, and a client that does not answer
// leaves the connection hanging.
func sessionRenderer(s ssh.Session) *lipgloss.Renderer {
	pty, _, ok := s.Pty()
	if !ok || pty.Term == "" || pty.Term == "dumb" {
		return lipgloss.NewRenderer(s, termenv.WithProfile(termenv.Ascii))
	}
	env := sshEnv(append(s.Environ(), "TERM="+pty.Term))
	r := lipgloss.NewRenderer(s, termenv.WithEnvironment(env), termenv.WithUnsafe(), termenv.WithColorCache(true))
	r.SetHasDarkBackground(true)
	return r
}

// sshEnv is a client's environment for termenv.
type sshEnv []string

func (e sshEnv) Environ() []string { return e }

func (e sshEnv) Getenv(k string) string {
	for i := len(e) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(e[i], k+"="); ok {
			return v
		}
	}
	return ""
}

// DefaultListen is the address Serve listens on by default: loopback
// only, so reaching it from elsewhere takes an SSH tunnel or an explicit
// address.
const DefaultListen = "127.0.0.1:2222"

// ServeOptions configures Serve.
type ServeOptions struct {
	// Listen is the address to listen on (DefaultListen).
	Listen string
	// AuthorizedKeys is an authorized_keys file; only its keys may log in
	// (public-key authentication only). Required.
	AuthorizedKeys string
	// HostKeyPath is the server's private key, generated (ed25519) on first
	// use; default sessions.Home()/ssh/host_ed25519.
	HostKeyPath string
	// Options is the base configuration of each connection's workstation.
	// Audio is never played on the server: NoAudio is forced, so clients
	// get WAV export.
	Options Options
	// Ready, if not nil, is called with the listening address.
	Ready func(addr net.Addr)
}

// Serve serves the workstation over SSH until ctx is done: each connection
// gets its own independent TUI (and its own renderer, so colours suit the
// client's terminal). Training jobs started by any client run detached on
// the server and are seen by every client.
func Serve(ctx context.Context, o ServeOptions) error {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.AuthorizedKeys == "" {
		return errors.New("tui: serve: an authorized_keys file is required (public-key auth only)")
	}
	if _, err := os.Stat(o.AuthorizedKeys); err != nil {
		return fmt.Errorf("tui: serve: authorized keys: %w (create it with your public key, e.g. cat ~/.ssh/id_ed25519.pub > %s)", err, o.AuthorizedKeys)
	}
	if o.HostKeyPath == "" {
		home, err := sessions.Home()
		if err != nil {
			return fmt.Errorf("tui: serve: %w", err)
		}
		o.HostKeyPath = filepath.Join(home, "ssh", "host_ed25519")
	}
	if err := os.MkdirAll(filepath.Dir(o.HostKeyPath), 0o700); err != nil {
		return fmt.Errorf("tui: serve: host key folder: %w", err)
	}
	srv, err := wish.NewServer(
		wish.WithAddress(o.Listen),
		wish.WithHostKeyPath(o.HostKeyPath),
		wish.WithAuthorizedKeys(o.AuthorizedKeys),
		wish.WithMiddleware(
			bm.Middleware(func(s ssh.Session) (tea.Model, []tea.ProgramOption) {
				opts := o.Options
				opts.NoAudio = true
				opts.renderer = sessionRenderer(s)
				// The program's final model is out of reach here: the
				// connection's context ends the watcher and preprocessing.
				opts.ctx = s.Context()
				return newModel(opts), []tea.ProgramOption{tea.WithAltScreen()}
			}),
			activeterm.Middleware(),
		),
	)
	if err != nil {
		return fmt.Errorf("tui: serve: %w", err)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("tui: serve: %w", err)
	}
	if o.Ready != nil {
		o.Ready(ln.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		if errors.Is(err, ssh.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("tui: serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("tui: serve: shutdown: %w", err)
		}
		return nil
	}
}
