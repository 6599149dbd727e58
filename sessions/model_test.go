package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/model/tinymodel"
	"github.com/ravestation/rave/core/modelfile"
	"github.com/ravestation/rave/core/render"
	"github.com/ravestation/rave/sessions/layout"
)

// TestOpenModelRefs opens a session's newest model, its best model by
// NAME:best, and reports a missing best model clearly.
func TestOpenModelRefs(t *testing.T) {
	s := newSession(t, "piano")
	newest, best := tinymodel.New(t), tinymodel.New(t)
	newest.Step, best.Step = 20, 10
	if err := newest.Save(layout.Model(s.Dir)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenModel("piano:best"); err == nil || !strings.Contains(err.Error(), "no best model yet") {
		t.Errorf("piano:best without a best model: %v", err)
	}
	if err := best.Save(layout.BestModel(s.Dir)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref  string
		step int64
		err  string
	}{
		{"piano", 20, ""},
		{"piano:best", 10, ""},
		{"absent:best", 0, "not found"},
	}
	for _, tt := range tests {
		m, _, err := OpenModel(tt.ref)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want %q", tt.ref, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.ref, err)
		case m.Step != tt.step:
			t.Errorf("%s: model of step %d, want %d", tt.ref, m.Step, tt.step)
		}
	}
}

func TestOpenPrior(t *testing.T) {
	p := tinymodel.Prior(2)
	path := filepath.Join(t.TempDir(), "prior.safetensors")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	got, from, err := OpenPrior(path)
	if err != nil {
		t.Fatal(err)
	}
	if from != path || render.PriorHash(got) != render.PriorHash(p) {
		t.Errorf("OpenPrior(%s) = a prior from %s with another hash", path, from)
	}
	if _, _, err := OpenPrior(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil {
		t.Error("OpenPrior of a missing file: no error")
	}
}

// TestOpenModelMissingGivesTheRightAdvice checks that a model argument
// naming neither a file nor a session says so, without advising to
// create a session with that name.
func TestOpenModelMissingGivesTheRightAdvice(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	tests := []struct {
		ref  string
		want string
	}{
		{"missing.safetensors", "model file missing.safetensors not found"},
		{"missing.ckpt", "model file missing.ckpt not found"},
		{filepath.Join("some", "where", "model"), "model file " + filepath.Join("some", "where", "model") + " not found"},
		{"pianno", `model "pianno" not found: no file or session of that name`},
		{"pianno:best", `model "pianno" not found: no file or session of that name`},
	}
	for _, tt := range tests {
		_, _, err := OpenModel(tt.ref)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "preprocess") {
			t.Errorf("OpenModel(%q) = %v, want %q and no advice to preprocess", tt.ref, err, tt.want)
		}
	}
	if _, _, err := OpenPrior("missing.safetensors"); err == nil || !strings.Contains(err.Error(), "prior file missing.safetensors not found") {
		t.Errorf("OpenPrior(missing.safetensors) = %v", err)
	}
}

// TestOpenModelChecksTheFile checks that OpenModel looks at a file before
// reading it (modelfile.Check): an empty one is refused in words.
func TestOpenModelChecksTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.safetensors")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := OpenModel(path)
	var fe *modelfile.Error
	if !errors.As(err, &fe) || fe.Problem != "the file is empty" {
		t.Errorf("OpenModel(%s) = %v, want a modelfile.Error saying the file is empty", path, err)
	}
}
