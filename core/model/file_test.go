package model

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
)

// TestSaveLoadRoundTrip saves a model (with discriminator) and loads it
// back: same config, counters, tensors and outputs.
func TestSaveLoadRoundTrip(t *testing.T) {
	cfg, _ := Preset("tiny")
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	m.AddDiscriminator(rng)
	m.Step, m.Stage = 4321, 2
	m.LatentAnalysis = LatentAnalysis{Done: true, Frames: 99, Step: 4000, Source: "test"}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if l.Config.JSON() != m.Config.JSON() || l.Step != 4321 || l.Stage != 2 || l.LatentAnalysis != m.LatentAnalysis {
		t.Errorf("loaded config/counters %s %d %d %+v, want %s %d %d %+v", l.Config.JSON(), l.Step, l.Stage, l.LatentAnalysis, m.Config.JSON(), m.Step, m.Stage, m.LatentAnalysis)
	}
	tm, tl := m.Tensors(), l.Tensors()
	if len(tm) != len(tl) {
		t.Fatalf("loaded %d tensors, saved %d", len(tl), len(tm))
	}
	for i := range tm {
		if tm[i].Name != tl[i].Name || !slices.Equal(tm[i].Data(), tl[i].Data()) {
			t.Errorf("tensor %s differs after the round trip", tm[i].Name)
		}
	}
	x := core.Randn(rng, 1, 1, 4*cfg.CompressionRatio())
	mean1, _ := m.Encode(nil, x)
	mean2, _ := l.Encode(nil, x)
	if !slices.Equal(mean1.Data(), mean2.Data()) {
		t.Error("encodings differ after the round trip")
	}
	y1, y2 := m.Decode(nil, mean1, false, nil), l.Decode(nil, mean2, false, nil)
	if !slices.Equal(y1.Data(), y2.Data()) {
		t.Error("decodings differ after the round trip")
	}
}

// TestLoadRefuses checks the error messages of Load for a foreign format
// version, a missing tensor and a mis-shaped tensor.
func TestLoadRefuses(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{metaFormat: FormatName, metaVersion: "7", metaConfig: cfg.JSON()}
	dir := t.TempDir()
	write := func(name string, ts []*core.Tensor, meta map[string]string) string {
		p := filepath.Join(dir, name)
		if err := core.WriteSafetensors(p, ts, meta); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, err = Load(write("v7.safetensors", m.Tensors(), meta))
	if err == nil || !strings.Contains(err.Error(), `version "7"`) {
		t.Errorf("version 7: err = %v, want it to name the version found", err)
	}
	meta[metaVersion] = FormatVersion
	ts := m.Tensors()
	_, err = Load(write("missing.safetensors", ts[1:], meta))
	if err == nil || !strings.Contains(err.Error(), ts[0].Name) {
		t.Errorf("missing tensor: err = %v, want it to name %s", err, ts[0].Name)
	}
	bad := slices.Clone(ts)
	w := m.Encoder.convs[1].w
	wrong := core.New(nil, w.Dim(1), w.Dim(0), w.Dim(2))
	wrong.Name = w.Name
	bad[slices.Index(bad, w)] = wrong
	_, err = Load(write("shape.safetensors", bad, meta))
	if err == nil || !strings.Contains(err.Error(), w.Name) || !strings.Contains(err.Error(), FormatShape(w.Shape())) || !strings.Contains(err.Error(), FormatShape(wrong.Shape())) {
		t.Errorf("mis-shaped tensor: err = %v, want it to name %s and both shapes", err, w.Name)
	}
	_, err = Load(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors"))
	if err == nil || !strings.Contains(err.Error(), "Import") {
		t.Errorf("reference state dict: err = %v, want a hint to use Import", err)
	}
}
