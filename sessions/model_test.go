package sessions

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/prior"
	"github.com/ravestation/rave/core/render"
	"github.com/ravestation/rave/sessions/layout"
)

func tinyModel(t *testing.T) *model.Model {
	t.Helper()
	mc, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(mc, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tinyPriorModel(seed uint64) *prior.Prior {
	c := prior.DefaultConfig(4)
	c.Residual, c.Skip, c.Layers, c.LR = 16, 16, 4, 3e-3
	return prior.New(c, rand.New(rand.NewPCG(seed, 1)))
}

// TestOpenModelRefs opens a session's newest model, its best model by
// NAME:best, and reports a missing best model clearly.
func TestOpenModelRefs(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	s, err := Create("piano")
	if err != nil {
		t.Fatal(err)
	}
	newest, best := tinyModel(t), tinyModel(t)
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
	p := tinyPriorModel(2)
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
