package main

import (
	"archive/zip"
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
	other, err := filepath.Abs(filepath.Join("core", "interop", "torchscript", "testdata", "tiny_conv.ts"))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(v1)
	if err != nil {
		t.Fatal(err)
	}
	// Three folders deep, so that no config.gin above the temporary
	// folder is found.
	v2sd := filepath.Join(t.TempDir(), "a", "b", "v2_small_state_dict.safetensors")
	os.MkdirAll(filepath.Dir(v2sd), 0o755)
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(v2)), "v2_small_state_dict.safetensors")); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(v2sd, b, 0o644); err != nil {
		t.Fatal(err)
	}
	home(t)
	t.Chdir(t.TempDir())
	writeTone(t, "take.wav")
	os.WriteFile("text.ts", []byte("a text file"), 0o644)
	os.WriteFile("cut.ts", whole[:len(whole)/2], 0o644)
	writePlainZip(t, "plain.ts")

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
		{[]string{"reconstruct", "cut.ts", "take.wav", "out4.wav"}, "rave reconstruct: cut.ts: not a RAVE model file (the file is cut short)"},
		{[]string{"import", "--out", "cut.safetensors", "cut.ts"}, "rave import: cut.ts: not a RAVE model file (the file is cut short)"},
		{[]string{"reconstruct", "plain.ts", "take.wav", "out5.wav"}, "plain.ts: not a TorchScript archive: no data.pkl in the zip"},
		{[]string{"import", "--out", "other.safetensors", other}, "not a RAVE export: its top module is __torch__.Tiny"},
		// A v2 state dict (a checkpoint reads the same way, see
		// core/interop's TestImportV2Refused): read, said, not imported.
		{[]string{"import", "--out", "v2sd.safetensors", v2sd}, "a RAVE v2 state dict: capacity 8, latent 16, 44100 Hz, 16 bands, ratios 4·4·4·2, no noise generator, with discriminator; configuration inferred from tensor shapes (assumed: sampling rate 44100 Hz; dilations 1, 3, 9, … per stage; centred (non-causal) padding; discriminator periods 2, 3, 5, 7, 11; discriminator stride 4; configs/v2.gin's training schedule): v2 checkpoints and state dicts can be imported but not yet played here"},
	}
	for _, tt := range tests {
		code, _, stderr := runRave(t, tt.args...)
		if code != 1 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("rave %s: exit status %d, %q; want 1 and one line saying %q", strings.Join(tt.args, " "), code, stderr, tt.want)
		}
	}
}

// TestSessionsNewAroundModel makes a session around a reference v1
// TorchScript export and plays it by the session's name; a v2 export and a
// missing --model are refused in one line and leave no session.
func TestSessionsNewAroundModel(t *testing.T) {
	v1 := tsFixture(t, "rave-v1-small", "rave_v1_small.ts")
	v2 := tsFixture(t, "rave-v2-small", "v2_small.ts")
	home(t)
	t.Chdir(t.TempDir())
	writeTone(t, "take.wav")
	code, stdout, stderr := runRave(t, "sessions", "new", "--model", v1, "shared")
	if code != 0 || !strings.Contains(stdout, "made session shared around") {
		t.Fatalf("rave sessions new --model v1.ts: exit status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if code, _, stderr := runRave(t, "reconstruct", "shared", "take.wav", "out.wav"); code != 0 {
		t.Errorf("rave reconstruct shared: exit status %d, stderr %q", code, stderr)
	}
	if code, stdout, stderr := runRave(t, "export", "--out", "again.ts", "shared"); code != 0 || !strings.Contains(stdout, "4 of 16 PCA dims") {
		t.Errorf("rave export shared: exit status %d, stdout %q, stderr %q; want the export's 4 of 16 dims kept", code, stdout, stderr)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"sessions", "new", "--model", v2, "v2"}, 1, "v2 TorchScript models can be imported but not yet played here"},
		{[]string{"sessions", "new", "nomodel"}, 2, "new needs --model MODEL"},
		{[]string{"sessions", "new", "--model", v1, "shared"}, 1, "session shared exists already"},
		{[]string{"sessions", "rename", "--model", v1, "shared", "other"}, 2, "--model belongs to new"},
	} {
		code, _, stderr := runRave(t, tt.args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != tt.code || !strings.Contains(first, tt.want) {
			t.Errorf("rave %s: exit status %d, %q; want %d and a line saying %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
		}
	}
	_, stdout, _ = runRave(t, "sessions", "list")
	if strings.Contains(stdout, "v2") || strings.Contains(stdout, "nomodel") || !strings.Contains(stdout, "shared") {
		t.Errorf("rave sessions list after the refusals:\n%s\nwant only shared", stdout)
	}
}

// writePlainZip writes a zip archive that holds a text file and no
// TorchScript module.
func writePlainZip(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create("hello.txt")
	if err == nil {
		_, err = w.Write([]byte("hello"))
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}
