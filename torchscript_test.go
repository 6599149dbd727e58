package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tsFixture returns a reference TorchScript export of the parity fixtures
// (../shared/fixtures, or RAVE_FIXTURES), skipping the test without them.
func tsFixture(t *testing.T, set, file string) string {
	t.Helper()
	root := os.Getenv("RAVE_FIXTURES")
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		root = filepath.Join(wd, "..", "shared", "fixtures")
	}
	path := filepath.Join(root, set, "ts", file)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("fixture %s not found", path)
	}
	return path
}

// TestTorchScriptModels imports a v1 TorchScript export, plays one as a
// MODEL argument, and refuses v2 exports and damaged files in words.
func TestTorchScriptModels(t *testing.T) {
	v1 := tsFixture(t, "rave-v1-small", "rave_v1_small.ts")
	v2 := tsFixture(t, "rave-v2-small", "v2_small.ts")
	home(t)
	t.Chdir(t.TempDir())
	writeTone(t, "take.wav")
	os.WriteFile("text.ts", []byte("a text file"), 0o644)

	code, stdout, stderr := runRave(t, "import", "--out", "v1.safetensors", v1)
	if code != 0 || !strings.Contains(stdout, "the export keeps 4 of 16 latent dimensions") {
		t.Errorf("rave import v1.ts: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runRave(t, "reconstruct", v1, "take.wav", "out.wav"); code != 0 {
		t.Errorf("rave reconstruct v1.ts: exit status %d, stderr %q", code, stderr)
	} else if _, err := os.Stat("out.wav"); err != nil {
		t.Error(err)
	}
	const v2Refused = "v2 TorchScript models can be imported but not yet played here"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"import", "--out", "v2.safetensors", v2}, v2Refused},
		{[]string{"reconstruct", v2, "take.wav", "out2.wav"}, v2Refused},
		{[]string{"reconstruct", "text.ts", "take.wav", "out3.wav"}, "rave reconstruct: text.ts: not a RAVE model file (the file is cut short or is not a TorchScript export)"},
	}
	for _, tt := range tests {
		code, _, stderr := runRave(t, tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("rave %s: exit status %d, %q; want 1 and one line saying %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
	}
}
