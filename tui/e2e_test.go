package tui

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ravestation/rave/audio"
)

// TestEndToEndTmux builds the binary and drives it in a detached tmux
// session at 80×24, one key at a time (bubbletea v1 merges keys sent
// together), reading the screen with capture-pane. The ALSA configuration
// names a card that does not exist, so it also proves that a user without
// a sound card gets the WAV export and never a hang, and that alsa-lib's
// complaints stay off the screen.
//
// It builds the module's root command: `rave` with no command opens the
// workstation.
func TestEndToEndTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	home := filepath.Join(tmp, "home")
	audioDir := filepath.Join(tmp, "audio")
	os.MkdirAll(audioDir, 0o755)
	for i, f := range []float64{220, 330} {
		x := make([]float32, 3*48000)
		for n := range x {
			x[n] = float32(0.3 * math.Sin(2*math.Pi*f*float64(n)/48000))
		}
		if err := audio.WriteWAV(filepath.Join(audioDir, fmt.Sprintf("take%d.wav", i+1)), [][]float32{x}, 48000, audio.Int16); err != nil {
			t.Fatal(err)
		}
	}
	alsaConf := filepath.Join(tmp, "alsa.conf")
	os.WriteFile(alsaConf, []byte("pcm.!default {\n  type hw\n  card 99\n}\n"), 0o644)
	env := []string{"RAVE_HOME=" + home, "ALSA_CONFIG_PATH=" + alsaConf, "XDG_CONFIG_HOME=" + tmp, "TERM=xterm-256color", "LANG=C.UTF-8"}

	tm := &tmuxDriver{t: t, socket: fmt.Sprintf("rave-e2e-%d", os.Getpid())}
	t.Cleanup(tm.kill)

	bin := filepath.Join(tmp, "rave")
	build := func(pkg string) error {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		return nil
	}
	if err := build("."); err != nil {
		t.Fatal(err)
	}
	tm.start(env, bin)
	// A fresh home: the demo session is installed and opened.
	tm.mustWait("● demo", 15*time.Second)
	tm.mustWait("demo clip", 15*time.Second)
	tm.keys("1")
	tm.mustWait("★ demo (piano)", 5*time.Second)

	// Create a session from the audio folder; preprocessing shows progress
	// and ends in the list.
	tm.keys("n")
	tm.mustWait("New session name", 5*time.Second)
	tm.literal("e2e")
	tm.keys("Enter")
	tm.mustWait("Audio for e2e", 5*time.Second)
	tm.literal(audioDir)
	tm.keys("Enter")
	tm.mustWait("+ "+audioDir, 5*time.Second)
	tm.keys("Enter")
	tm.mustWait("preprocessed", 30*time.Second)

	// Open it (below the demo): the training pane, and the no-sound-card line.
	tm.keys("Down")
	tm.keys("Enter")
	screen := tm.mustWait("Training e2e", 10*time.Second)
	screen = tm.mustWait("w exports A/B as WAV", 10*time.Second)
	if !strings.Contains(screen, "no sound device") {
		t.Errorf("no-device line missing:\n%s", screen)
	}
	tm.keys("space")
	tm.mustWait("press w to export", 5*time.Second)
	tm.keys("w")
	tm.mustWait("exported", 10*time.Second)
	wavs, _ := filepath.Glob(filepath.Join(home, "sessions", "e2e", "exports", "*.wav"))
	if len(wavs) != 1 {
		t.Fatalf("exports: %v, want the clip", wavs)
	}

	// The other panes and the help.
	tm.keys("3")
	tm.mustWait("no model yet", 5*time.Second)
	tm.keys("4")
	tm.mustWait("Latent", 5*time.Second)
	tm.keys("?")
	tm.mustWait("Latent pane", 5*time.Second)
	tm.keys("Escape")
	tm.keys("2")
	tm.mustWait("Training e2e", 5*time.Second)

	// A resize re-lays the screen out.
	tm.run("resize-window", "-t", "e2e", "-x", "110", "-y", "30")
	screen = tm.mustWait("→/l next loss • ? help • q quit", 5*time.Second) // all of the footer fits
	if lines := strings.Split(screen, "\n"); len(lines) < 30 {
		t.Errorf("after resizing to 30 rows the screen has %d lines", len(lines))
	}
	if strings.Contains(screen, "ALSA lib") {
		t.Errorf("alsa-lib wrote over the screen:\n%s", screen)
	}

	// q quits; the tmux session ends with the program.
	tm.keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for tm.alive() {
		if time.Now().After(deadline) {
			t.Fatalf("still running 5 s after q:\n%s", tm.capture())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tmuxDriver runs one program in a private tmux server.
type tmuxDriver struct {
	t      *testing.T
	socket string
}

func (d *tmuxDriver) run(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-L", d.socket}, args...)...).CombinedOutput()
	return string(out), err
}

func (d *tmuxDriver) start(env []string, bin string) {
	d.t.Helper()
	cmd := append([]string{"new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", "env"}, env...)
	cmd = append(cmd, bin)
	if out, err := d.run(cmd...); err != nil {
		d.t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	time.Sleep(time.Second) // let the program start before the first key
}

func (d *tmuxDriver) kill() { d.run("kill-server") }

func (d *tmuxDriver) alive() bool {
	_, err := d.run("has-session", "-t", "e2e")
	return err == nil
}

// keys sends tmux key names one at a time.
func (d *tmuxDriver) keys(keys ...string) {
	for _, k := range keys {
		d.run("send-keys", "-t", "e2e", k)
		time.Sleep(200 * time.Millisecond)
	}
}

// literal types text in one go (prompts take several runes at once).
func (d *tmuxDriver) literal(s string) {
	d.run("send-keys", "-t", "e2e", "-l", s)
	time.Sleep(300 * time.Millisecond)
}

func (d *tmuxDriver) capture() string {
	out, _ := d.run("capture-pane", "-t", "e2e", "-p")
	return out
}

// waitFor polls the screen until it shows s.
func (d *tmuxDriver) waitFor(s string, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		screen := d.capture()
		if strings.Contains(screen, s) {
			return screen, true
		}
		if time.Now().After(deadline) {
			return screen, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *tmuxDriver) mustWait(s string, timeout time.Duration) string {
	d.t.Helper()
	screen, ok := d.waitFor(s, timeout)
	if !ok {
		d.t.Fatalf("screen never showed %q within %v:\n%s", s, timeout, screen)
	}
	return screen
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[:min(n, len(lines))], " / ")
}
