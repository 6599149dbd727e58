package outpath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ravestation/rave/sessions/layout"
)

// tree makes a working folder with an input take.wav and a data folder
// whose sessions folder holds the session piano, and returns both.
func tree(t *testing.T) (work, root string) {
	t.Helper()
	work = t.TempDir()
	root = filepath.Join(t.TempDir(), layout.SessionsDir)
	piano := filepath.Join(root, "piano")
	for _, d := range []string{layout.Checkpoints(piano), layout.Exports(piano)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(work, "take.wav"), layout.Model(piano)} {
		if err := os.WriteFile(f, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return work, root
}

// link makes a symbolic link, skipping the test where the system refuses
// (Windows without the privilege).
func link(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, work, root string) // optional
		out    string                                // relative to work, or to root with "@"
		inputs []string                              // relative to work
		want   error                                 // nil, ErrInput or ErrSessionFile
	}{
		{name: "new file", out: "out.wav", inputs: []string{"take.wav"}},
		{name: "same name", out: "take.wav", inputs: []string{"take.wav"}, want: ErrInput},
		{name: "dot slash", out: "./take.wav", inputs: []string{"take.wav"}, want: ErrInput},
		{name: "dot dot", out: "sub/../take.wav", inputs: []string{"take.wav"}, want: ErrInput},
		{name: "second input", out: "take.wav", inputs: []string{"model.safetensors", "take.wav"}, want: ErrInput},
		{name: "session name as input", out: "out.wav", inputs: []string{"piano", "take.wav"}},
		{name: "symbolic link to the input", out: "alias.wav", inputs: []string{"take.wav"}, want: ErrInput,
			setup: func(t *testing.T, work, _ string) { link(t, "take.wav", filepath.Join(work, "alias.wav")) }},
		{name: "through a linked folder", out: "here/take.wav", inputs: []string{"take.wav"}, want: ErrInput,
			setup: func(t *testing.T, work, _ string) { link(t, work, filepath.Join(work, "here")) }},
		{name: "new file in a linked folder", out: "here/new.wav", inputs: []string{"take.wav"},
			setup: func(t *testing.T, work, _ string) { link(t, work, filepath.Join(work, "here")) }},
		{name: "hard link to the input", out: "hard.wav", inputs: []string{"take.wav"}, want: ErrInput,
			setup: func(t *testing.T, work, _ string) {
				if err := os.Link(filepath.Join(work, "take.wav"), filepath.Join(work, "hard.wav")); err != nil {
					t.Skipf("no hard links here: %v", err)
				}
			}},
		{name: "session model", out: "@piano/" + layout.ModelFile, want: ErrSessionFile},
		{name: "new file in a session folder", out: "@piano/new.wav", want: ErrSessionFile},
		{name: "inside checkpoints", out: "@piano/" + layout.CheckpointDir + "/x.wav", want: ErrSessionFile},
		{name: "session folder as an output folder", out: "@piano", want: ErrSessionFile},
		{name: "exports", out: "@piano/" + layout.ExportsDir + "/take.wav"},
		{name: "exports subfolder", out: "@piano/" + layout.ExportsDir + "/" + layout.PlotsDir},
		{name: "beside the sessions", out: "@loose.wav"},
		{name: "session model through a link", out: "data/piano/" + layout.ModelFile, want: ErrSessionFile,
			setup: func(t *testing.T, work, root string) { link(t, root, filepath.Join(work, "data")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work, root := tree(t)
			if tt.setup != nil {
				tt.setup(t, work, root)
			}
			t.Chdir(work)
			out := tt.out
			if r, ok := strings.CutPrefix(out, "@"); ok {
				out = filepath.Join(root, filepath.FromSlash(r))
			} else {
				out = filepath.FromSlash(out)
			}
			err := Check(out, tt.inputs, root)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want nil", out, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check(%s) = %v, want %v", out, err, tt.want)
			}
			if msg := err.Error(); !strings.Contains(msg, out) || strings.Contains(msg, "\n") {
				t.Errorf("Check(%s) = %q, want one line naming the output", out, msg)
			}
		})
	}
}

func TestCheckNamesTheInput(t *testing.T) {
	work, root := tree(t)
	t.Chdir(work)
	err := Check("./take.wav", []string{"take.wav"}, root)
	if err == nil || !strings.Contains(err.Error(), "./take.wav") || !strings.Contains(err.Error(), " take.wav;") {
		t.Errorf("Check = %v, want both paths named", err)
	}
}
