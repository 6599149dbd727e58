package model

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ravestation/rave/core/latent"
)

// TestLatentPCA reads back the identity from a model without an analysis,
// and what SetLatentAnalysis stored from one with.
func TestLatentPCA(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := New(cfg, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	D := cfg.LatentSize
	id := latent.Identity(D)
	if got := m.LatentPCA(); !slices.Equal(got.PCA, id.PCA) || !slices.Equal(got.Mean, id.Mean) || got.Frames != 0 {
		t.Errorf("no analysis: got %+v, want the identity", got)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	frames := make([][]float32, 3*D)
	for f := range frames {
		frames[f] = make([]float32, D)
		for d := range D {
			frames[f][d] = float32(rng.NormFloat64()) * float32(d+1)
		}
	}
	a, err := latent.Fit(frames)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetLatentAnalysis(a, 5, "test"); err != nil {
		t.Fatal(err)
	}
	got := m.LatentPCA()
	if !slices.Equal(got.PCA, a.PCA) || !slices.Equal(got.Mean, a.Mean) || !slices.Equal(got.Fidelity, a.Fidelity) || got.Frames != a.Frames {
		t.Errorf("after SetLatentAnalysis: got %+v, want %+v", got, a)
	}
}
