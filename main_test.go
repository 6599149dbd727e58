package main

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model/tinymodel"
	"github.com/ravestation/rave/core/prior"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// runRave runs rave with args, capturing what it prints on stdout and
// stderr (the commands print on os.Stdout and os.Stderr too).
func runRave(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outF, errF
	func() {
		defer func() { os.Stdout, os.Stderr = oldOut, oldErr }()
		code = run(args, outF, errF)
	}()
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return code, string(o), string(e)
}

// home points RAVE_HOME at a fresh folder for the test.
func home(t *testing.T) {
	t.Helper()
	t.Setenv(sessions.HomeEnv, t.TempDir())
}

// writeTone writes a quarter second of a 440 Hz tone at 48 kHz.
func writeTone(t *testing.T, path string) {
	t.Helper()
	x := make([]float32, 12000)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(2*math.Pi*440*float64(i)/48000))
	}
	if err := audio.WriteWAV(path, [][]float32{x}, 48000, audio.Int16); err != nil {
		t.Fatal(err)
	}
}

// newSession creates a session holding a tiny model and returns it.
func newSession(t *testing.T, name string) *sessions.Session {
	t.Helper()
	s, err := sessions.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	tinymodel.Save(t, layout.Model(s.Dir))
	return s
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOutputNeverDestroysAnInput runs every command that writes a file
// with an output that is one of its inputs, or a session's own file: each
// must fail with one line naming both, leaving the file as it was.
func TestOutputNeverDestroysAnInput(t *testing.T) {
	home(t)
	piano := newSession(t, "piano")
	work := t.TempDir()
	t.Chdir(work)
	tinymodel.Save(t, "tiny.safetensors")
	writeTone(t, "take.wav")
	for _, f := range []string{"z.npy", "take.rvz"} {
		if err := os.WriteFile(f, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	haveLinks := os.Symlink("take.wav", "alias.wav") == nil
	sessionModel := layout.Model(piano.Dir)
	tests := []struct {
		name   string
		args   []string
		victim string // the file that must stay as it was
	}{
		{"reconstruct onto its input", []string{"reconstruct", "tiny.safetensors", "take.wav", "take.wav"}, "take.wav"},
		{"reconstruct onto ./input", []string{"reconstruct", "tiny.safetensors", "take.wav", "./take.wav"}, "take.wav"},
		{"reconstruct onto a link to its input", []string{"reconstruct", "tiny.safetensors", "alias.wav", "take.wav"}, "take.wav"},
		{"reconstruct onto the model file", []string{"reconstruct", "tiny.safetensors", "take.wav", "tiny.safetensors"}, "tiny.safetensors"},
		{"reconstruct onto a session's model", []string{"reconstruct", "tiny.safetensors", "take.wav", sessionModel}, sessionModel},
		{"reconstruct by session onto its model", []string{"reconstruct", "piano", "take.wav", sessionModel}, sessionModel},
		{"transfer onto its input", []string{"transfer", "tiny.safetensors", "take.wav", "take.wav"}, "take.wav"},
		{"encode onto its input", []string{"encode", "--out", "take.wav", "tiny.safetensors", "take.wav"}, "take.wav"},
		{"decode onto its input", []string{"decode", "tiny.safetensors", "z.npy", "z.npy"}, "z.npy"},
		{"compress onto its input", []string{"compress", "tiny.safetensors", "take.wav", "take.wav"}, "take.wav"},
		{"compress --sweep onto its input", []string{"compress", "--sweep", "--out", "take.wav", "tiny.safetensors", "take.wav"}, "take.wav"},
		{"decompress onto its input", []string{"decompress", "tiny.safetensors", "take.rvz", "take.rvz"}, "take.rvz"},
		{"import onto its source", []string{"import", "--out", "tiny.safetensors", "tiny.safetensors"}, "tiny.safetensors"},
		{"import into a session", []string{"import", "--out", sessionModel, "tiny.safetensors"}, sessionModel},
		{"generate onto its prompt", []string{"generate", "--session", "piano", "--prompt", "take.wav", "take.wav"}, "take.wav"},
		{"generate onto the session's model", []string{"generate", "--session", "piano", sessionModel}, sessionModel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if slices.Contains(tt.args, "alias.wav") && !haveLinks {
				t.Skip("no symbolic links here")
			}
			before := readFile(t, tt.victim)
			code, _, stderr := runRave(t, tt.args...)
			if code == 0 {
				t.Errorf("rave %s: exit status 0, want an error", strings.Join(tt.args, " "))
			}
			if after := readFile(t, tt.victim); after != before {
				t.Errorf("rave %s changed %s", strings.Join(tt.args, " "), tt.victim)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			out := tt.args[len(tt.args)-1]
			if i := slices.Index(tt.args, "--out"); i >= 0 {
				out = tt.args[i+1]
			}
			if len(lines) != 1 || !strings.Contains(lines[0], out) || !strings.Contains(lines[0], filepath.Base(tt.victim)) {
				t.Errorf("rave %s printed %q, want one line naming %s and %s", strings.Join(tt.args, " "), stderr, out, tt.victim)
			}
		})
	}
	t.Run("exports and new files are fine", func(t *testing.T) {
		exports := layout.Exports(piano.Dir)
		if err := os.MkdirAll(exports, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, out := range []string{"out.wav", filepath.Join(exports, "out.wav")} {
			if code, _, stderr := runRave(t, "reconstruct", "piano", "take.wav", out); code != 0 {
				t.Errorf("rave reconstruct piano take.wav %s: exit status %d: %s", out, code, stderr)
			}
			if _, err := os.Stat(out); err != nil {
				t.Error(err)
			}
		}
	})
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		want    []string
		yes     bool
		outFlag string
	}{
		{[]string{"delete", "X", "--yes"}, []string{"delete", "X"}, true, ""},
		{[]string{"delete", "--yes", "X"}, []string{"delete", "X"}, true, ""},
		{[]string{"--yes", "delete", "X"}, []string{"delete", "X"}, true, ""},
		{[]string{"a", "--out", "f", "b"}, []string{"a", "b"}, false, "f"},
		{[]string{"a", "--out=f", "b", "-yes"}, []string{"a", "b"}, true, "f"},
		{[]string{"delete", "--", "--yes"}, []string{"delete", "--yes"}, false, ""},
		{[]string{"--", "-"}, []string{"-"}, false, ""},
		{[]string{"-", "--yes"}, []string{"-"}, true, ""},
		{nil, nil, false, ""},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		yes := fs.Bool("yes", false, "")
		out := fs.String("out", "", "")
		got, err := parseInterspersed(fs, tt.args)
		if err != nil {
			t.Errorf("parseInterspersed(%q): %v", tt.args, err)
			continue
		}
		if !slices.Equal(got, tt.want) || *yes != tt.yes || *out != tt.outFlag {
			t.Errorf("parseInterspersed(%q) = %q, --yes %v, --out %q; want %q, %v, %q", tt.args, got, *yes, *out, tt.want, tt.yes, tt.outFlag)
		}
	}
}

// TestFlagsAfterArguments runs `rave sessions delete` with --yes in every
// place, and a command with a flag after its arguments.
func TestFlagsAfterArguments(t *testing.T) {
	home(t)
	for _, args := range [][]string{
		{"sessions", "delete", "a", "--yes"},
		{"sessions", "delete", "--yes", "a"},
		{"sessions", "--yes", "delete", "a"},
	} {
		if _, err := sessions.Create("a"); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runRave(t, args...); code != 0 {
			t.Errorf("rave %s: exit status %d: %s", strings.Join(args, " "), code, stderr)
		}
		if _, err := sessions.Open("a"); err == nil {
			t.Errorf("rave %s left the session", strings.Join(args, " "))
		}
	}
	if code, stdout, stderr := runRave(t, "sessions", "list", "--json"); code != 0 || !strings.HasPrefix(stdout, "null") && !strings.HasPrefix(stdout, "[") {
		t.Errorf("rave sessions list --json: exit status %d, %q, %q", code, stdout, stderr)
	}
}

// TestErrorsPrintedOnce checks that a failing command prints its error
// once, without the command's name twice.
func TestErrorsPrintedOnce(t *testing.T) {
	home(t)
	if _, err := sessions.Create("nodata"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runRave(t, "train", "--session", "nodata", "--quiet")
	if code != 1 {
		t.Fatalf("rave train on a session without a dataset: exit status %d, want 1 (%s)", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "rave train: ") || strings.Contains(lines[0], "train: train:") {
		t.Errorf("rave train printed %q, want the error once on one line", stderr)
	}
}

// TestSessionsListSaysStopped checks that `rave sessions list` calls a
// session whose trainer is not running stopped (or failed), as the
// workstation's Training pane does, whatever status.json last said.
func TestSessionsListSaysStopped(t *testing.T) {
	tests := []struct {
		heartbeat string // "" for none
		want      string
	}{
		{"", "stopped"},
		{"running", "stopped"}, // the trainer was killed
		{"stopped", "stopped"},
		{"failed", "failed"},
		{"done", "trained"},
	}
	for _, tt := range tests {
		t.Run("heartbeat "+tt.heartbeat, func(t *testing.T) {
			home(t)
			s := newSession(t, "piano")
			if tt.heartbeat != "" {
				if err := runlog.WriteStatus(layout.Status(s.Dir), runlog.Status{PID: 1 << 22, State: tt.heartbeat, Step: 40, Stage: runlog.StageVAE}); err != nil {
					t.Fatal(err)
				}
			}
			code, stdout, stderr := runRave(t, "sessions", "list")
			if code != 0 {
				t.Fatalf("rave sessions list: exit status %d: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			if len(lines) != 2 || strings.Fields(lines[1])[1] != tt.want {
				t.Errorf("rave sessions list = %q, want piano %s", stdout, tt.want)
			}
		})
	}
}

// TestPreprocessRefusesMissingSource checks that a source that does not
// exist is refused before a session is created or records it.
func TestPreprocessRefusesMissingSource(t *testing.T) {
	home(t)
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	code, _, stderr := runRave(t, "preprocess", "--session", "fresh", missing)
	if code == 0 || !strings.Contains(stderr, missing) {
		t.Errorf("rave preprocess of a missing folder: exit status %d, %q; want an error naming it", code, stderr)
	}
	if names, _ := sessions.List(); len(names) != 0 {
		t.Errorf("rave preprocess of a missing folder left sessions %v", names)
	}
}

// TestModelErrorsInPlainWords checks the messages of unreadable or missing
// model files.
func TestModelErrorsInPlainWords(t *testing.T) {
	home(t)
	t.Chdir(t.TempDir())
	writeTone(t, "take.wav")
	os.WriteFile("bad.safetensors", []byte("not a model, just some text that is long enough"), 0o644)
	os.WriteFile("text.ckpt", []byte("a text file"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"reconstruct", "bad.safetensors", "take.wav", "out.wav"}, "rave reconstruct: bad.safetensors: not a RAVE model file (the file is cut short or is not a safetensors file)"},
		{[]string{"reconstruct", "take.wav", "take.wav", "out.wav"}, "rave reconstruct: take.wav: not a RAVE model file (it is an audio file)"},
		{[]string{"reconstruct", "missing.safetensors", "take.wav", "out.wav"}, "rave reconstruct: model file missing.safetensors not found"},
		{[]string{"import", "--out", "m.safetensors", "text.ckpt"}, "rave import: text.ckpt: not a RAVE model file (the file is cut short or is not a PyTorch checkpoint)"},
		{[]string{"import", "--out", "m.safetensors", "--discriminator", "take.wav", "bad.safetensors"}, "rave import: bad.safetensors: not a RAVE model file (the file is cut short or is not a safetensors file)"},
	}
	for _, tt := range tests {
		code, _, stderr := runRave(t, tt.args...)
		if code != 1 || strings.TrimSpace(stderr) != tt.want {
			t.Errorf("rave %s: exit status %d, %q; want 1, %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
	}
}

func TestServeWarnsWhenExposed(t *testing.T) {
	tests := []struct {
		addr string
		warn bool
	}{
		{"127.0.0.1:2222", false},
		{"localhost:2222", false},
		{"[::1]:2222", false},
		{"127.0.0.2:2222", false},
		{"0.0.0.0:2222", true},
		{":2222", true},
		{"[::]:2222", true},
		{"192.168.1.20:2222", true},
		{"studio.example.org:2222", true},
	}
	for _, tt := range tests {
		if got := exposureWarning(tt.addr); (got != "") != tt.warn {
			t.Errorf("exposureWarning(%q) = %q, want a warning: %v", tt.addr, got, tt.warn)
		}
	}
	keys := filepath.Join(t.TempDir(), "missing_authorized_keys")
	_, _, stderr := runRave(t, "serve", "--listen", "0.0.0.0:0", "--authorized-keys", keys)
	if !strings.Contains(stderr, "warning: --listen 0.0.0.0:0 is not a loopback address") {
		t.Errorf("rave serve --listen 0.0.0.0:0 printed %q, want a warning", stderr)
	}
	_, _, stderr = runRave(t, "serve", "--listen", "127.0.0.1:0", "--authorized-keys", keys)
	if strings.Contains(stderr, "warning") {
		t.Errorf("rave serve --listen 127.0.0.1:0 printed %q, want no warning", stderr)
	}
}

// TestCompressPriorNamesItsQuantiser checks that `rave compress --prior`
// names the prior's quantiser, not a fixed 5 bits.
func TestCompressPriorNamesItsQuantiser(t *testing.T) {
	for _, tt := range []struct {
		classes int
		want    string
	}{{32, "5-bit (32 classes)"}, {16, "4-bit (16 classes)"}, {48, "5.58-bit (48 classes)"}} {
		if got := quantiserLabel(tt.classes); got != tt.want {
			t.Errorf("quantiserLabel(%d) = %q, want %q", tt.classes, got, tt.want)
		}
	}
	home(t)
	s := newSession(t, "piano")
	c := prior.DefaultConfig(4)
	c.Classes, c.Residual, c.Skip, c.Layers = 16, 16, 16, 4
	if err := os.MkdirAll(layout.Prior(s.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := prior.New(c, rand.New(rand.NewPCG(1, 1))).Save(layout.PriorModel(s.Dir)); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	writeTone(t, "take.wav")
	code, stdout, stderr := runRave(t, "compress", "--prior", "piano", "take.wav", "take.rvzp")
	if code != 0 {
		t.Fatalf("rave compress --prior: exit status %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "fixed 4-bit (16 classes) quantiser") || !strings.Contains(stdout, "at 4 bits") {
		t.Errorf("rave compress --prior printed %q, want the 16-class quantiser named", stdout)
	}
}

// TestTrainShortStage1Run checks that `rave train --steps N` below the
// preset's stage-1 steps runs a short stage-1 run and says when stage 2
// would start.
func TestTrainShortStage1Run(t *testing.T) {
	home(t)
	src := filepath.Join(t.TempDir(), "notes.wav")
	x := make([]float32, 48000*8)
	for i := range x {
		f := 220 + 37*float64(i/12000)
		x[i] = float32(0.3 * math.Sin(2*math.Pi*f*float64(i)/48000))
	}
	if err := audio.WriteWAV(src, [][]float32{x}, 48000, audio.Int16); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runRave(t, "preprocess", "--quiet", "--session", "short", src); code != 0 {
		t.Fatalf("rave preprocess: exit status %d: %s", code, stderr)
	}
	code, _, stderr := runRave(t, "train", "--session", "short", "--preset", "tiny", "--steps", "2", "--batch", "2", "--quiet")
	if code != 0 {
		t.Fatalf("rave train --steps 2: exit status %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "this run ends at step 2, in stage 1; stage 2 (adversarial) starts at step 20000") {
		t.Errorf("rave train --steps 2 printed %q, want a note on stage 2", stderr)
	}
}
