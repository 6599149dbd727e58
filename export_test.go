package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/model/tinymodel"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
)

// TestExportCommand exports a model file, a session's model and an
// imported reference export with rave export, reads each archive back,
// and refuses bad requests with one line and a non-zero status.
func TestExportCommand(t *testing.T) {
	home(t)
	piano := newSession(t, "piano")
	t.Chdir(t.TempDir())
	tinymodel.Save(t, "tiny.safetensors")
	if err := piano.SaveFidelity(sessions.Fidelity{Fidelity: 0.9, Dims: 5}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile("text.ts", []byte("a text file"), 0o644)
	for _, tt := range []struct {
		args      []string
		streaming bool
		kept      int
		say       string
	}{
		{[]string{"export", "--out", "a.ts", "tiny.safetensors"}, false, 16, "16 of 16 PCA dims (all: the model has no latent analysis)"},
		{[]string{"export", "--dims", "3", "--streaming", "--out", "b.ts", "piano"}, true, 3, "3 of 16 PCA dims (--dims)"},
		{[]string{"export", "--out", "c.ts", "piano"}, false, 5, "5 of 16 PCA dims (the session's chosen fidelity)"},
	} {
		code, stdout, stderr := runRave(t, tt.args...)
		if code != 0 || !strings.Contains(stdout, tt.say) {
			t.Errorf("rave %s: exit status %d, stdout %q, stderr %q; want 0 and %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.say)
			continue
		}
		ts, err := interop.ImportTorchScript(tt.args[len(tt.args)-2])
		if err != nil {
			t.Fatal(err)
		}
		if ts.Streaming != tt.streaming || ts.LatentSize != tt.kept {
			t.Errorf("rave %s wrote %s, want streaming %v, latent size %d", strings.Join(tt.args, " "), ts, tt.streaming, tt.kept)
		}
	}
	if _, err := os.Stat(layout.Model(piano.Dir)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "tiny.safetensors"}, 2, "rave export: usage: --out is required"},
		{[]string{"export", "--out", "d.ts", "--dims", "2", "--fidelity", "0.9", "tiny.safetensors"}, 2, "give --fidelity or --dims, not both"},
		{[]string{"export", "--out", "d.ts", "--dims", "17", "tiny.safetensors"}, 1, "17 dimensions requested, the model has 16"},
		{[]string{"export", "--out", "d.ts", "--fidelity", "0.9", "tiny.safetensors"}, 1, "the model has no latent analysis"},
		{[]string{"export", "--out", "d.ts", "text.ts"}, 1, "text.ts: not a RAVE model file"},
		{[]string{"export", "--out", "tiny.safetensors", "tiny.safetensors"}, 1, "tiny.safetensors"},
	}
	for _, tt := range tests {
		code, _, stderr := runRave(t, tt.args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != tt.code || !strings.Contains(first, tt.want) || tt.code == 1 && strings.Count(stderr, "\n") != 1 {
			t.Errorf("rave %s: exit status %d, %q; want %d and a line saying %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
		}
	}
	if _, err := os.Stat("d.ts"); err == nil {
		t.Error("a refused export left d.ts")
	}
}

// TestExportReferenceExport exports an imported reference export (a .ts
// MODEL) with the latent size its exporter kept.
func TestExportReferenceExport(t *testing.T) {
	v1 := tsFixture(t, "rave-v1-small", "rave_v1_small.ts")
	home(t)
	t.Chdir(t.TempDir())
	code, stdout, stderr := runRave(t, "export", "--out", "v1.ts", v1)
	if want := "4 of 16 PCA dims (the imported export's)"; code != 0 || !strings.Contains(stdout, want) {
		t.Errorf("rave export %s: exit status %d, stdout %q, stderr %q; want 0 and %q", v1, code, stdout, stderr, want)
	}
}

// TestExportV2Command exports RAVE v2 models, which the workstation
// cannot play yet, with rave export: the reference's v2 exports
// (offline and streaming) and a v2 state dict, read through core/interop;
// each archive is imported back as a v2 export of the latent size asked.
func TestExportV2Command(t *testing.T) {
	offline := tsFixture(t, "rave-v2-small", "v2_small.ts")
	streaming := tsFixture(t, "rave-v2-small", "v2_small_streaming.ts")
	stateDict := filepath.Join(filepath.Dir(filepath.Dir(offline)), "v2_small_state_dict.safetensors")
	home(t)
	t.Chdir(t.TempDir())
	for _, tt := range []struct {
		args      []string
		streaming bool
		kept      int
		say       string
	}{
		{[]string{"export", "--out", "a.ts", offline}, false, 16, "16 of 16 PCA dims (fidelity 0.95, reference rule)"},
		{[]string{"export", "--streaming", "--dims", "4", "--out", "b.ts", streaming}, true, 4, "4 of 16 PCA dims (--dims)"},
		{[]string{"export", "--fidelity", "0.9", "--out", "c.ts", offline}, false, 8, "8 of 16 PCA dims (fidelity 0.9, reference rule)"},
		{[]string{"export", "--out", "d.ts", stateDict}, false, 16, "16 of 16 PCA dims (all: the model has no latent analysis)"},
	} {
		code, stdout, stderr := runRave(t, tt.args...)
		if code != 0 || !strings.Contains(stdout, tt.say) || !strings.Contains(stdout, "RAVE v2") {
			t.Errorf("rave %s: exit status %d, stdout %q, stderr %q; want 0, RAVE v2 and %q", strings.Join(tt.args, " "), code, stdout, stderr, tt.say)
			continue
		}
		ts, err := interop.ImportTorchScript(tt.args[len(tt.args)-2])
		if err != nil {
			t.Fatal(err)
		}
		if ts.Version != 2 || ts.Streaming != tt.streaming || ts.LatentSize != tt.kept {
			t.Errorf("rave %s wrote %s, want a v2 export, streaming %v, latent size %d", strings.Join(tt.args, " "), ts, tt.streaming, tt.kept)
		}
	}
	code, _, stderr := runRave(t, "export", "--out", "e.ts", "--dims", "17", offline)
	if want := "17 dimensions requested, the model has 16"; code != 1 || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("rave export --dims 17 (v2): exit status %d, %q; want 1 and one line saying %q", code, stderr, want)
	}
	if _, err := os.Stat("e.ts"); err == nil {
		t.Error("a refused export left e.ts")
	}
}
