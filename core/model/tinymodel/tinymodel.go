// Package tinymodel gives tests outside core/model a freshly initialised
// model of the "tiny" preset and a tiny latent prior: the same model
// (seed 1, 1) wherever a test needs one that is quick to build and run.
// It is for tests only.
package tinymodel

import (
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/prior"
)

// New returns a model of the "tiny" preset initialised from
// rand.NewPCG(1, 1), failing the test if it cannot be built.
func New(t testing.TB) *model.Model {
	t.Helper()
	cfg, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Save writes New's model to path and returns it.
func Save(t testing.TB, path string) *model.Model {
	t.Helper()
	m := New(t)
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return m
}

// Prior returns an untrained prior over 4 latent dimensions (16 residual
// and skip channels, 4 layers, learning rate 3e-3) initialised from
// rand.NewPCG(seed, 1).
func Prior(seed uint64) *prior.Prior {
	c := prior.DefaultConfig(4)
	c.Residual, c.Skip, c.Layers, c.LR = 16, 16, 4, 3e-3
	return prior.New(c, rand.New(rand.NewPCG(seed, 1)))
}
