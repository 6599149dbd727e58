// Package demo installs RAVE Station's demo session: a small model
// trained on the Salamander Grand Piano V3 recordings and a short clip of
// them, embedded in the binary, so that a newcomer can play, explore the
// latent space and pick a fidelity within a minute of `make run`.
//
// The recordings are by Alexander Holm under CC-BY 3.0; assets/CREDITS.md
// (also copied into the session folder) gives the full credit. Install
// never touches a session it did not create.
package demo

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
)

// Name is the demo session's name.
const Name = "demo"

// Source is the manifest note (first entry of Manifest.Sources) that marks
// a session as the installed demo.
const Source = "rave-station-demo: Salamander Grand Piano V3 by Alexander Holm (CC-BY 3.0), see CREDITS.md"

// Credit is the one-line attribution shown with the demo.
const Credit = "Salamander Grand Piano V3 by Alexander Holm, CC-BY 3.0"

// DefaultFidelity is the fidelity recorded for the demo when its model
// holds a latent analysis.
const DefaultFidelity = 0.95

var (
	//go:embed assets/model.safetensors
	modelBytes []byte
	//go:embed assets/clip.wav
	clipBytes []byte
	// Credits is the text of assets/CREDITS.md.
	//
	//go:embed assets/CREDITS.md
	Credits string
)

// Is reports whether s is the demo session installed by Install.
func Is(s *sessions.Session) bool {
	return s != nil && s.Manifest.Name == Name && slices.ContainsFunc(s.Manifest.Sources, func(src string) bool {
		return strings.HasPrefix(src, "rave-station-demo:")
	})
}

// Install creates the demo session under sessions.Root() when no session
// named Name exists: the embedded model as its model (layout.Model), the
// clip (layout.DemoClip), the credits (layout.Credits), a fidelity choice
// (fidelity.json) and a note in the manifest. It returns the session's
// name and whether it created it.
// When a session of that name exists (the demo or a user's own) it does
// nothing. A failed install removes what it wrote.
func Install() (name string, created bool, err error) {
	dir, err := sessions.Dir(Name)
	if err != nil {
		return "", false, err
	}
	if _, err := os.Stat(dir); err == nil {
		return Name, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("demo: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", false, fmt.Errorf("demo: %w", err)
	}
	s, err := sessions.Create(Name)
	if errors.Is(err, sessions.ErrExists) {
		return Name, false, nil // created meanwhile by another process
	}
	if err != nil {
		return "", false, fmt.Errorf("demo: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if err := populate(s); err != nil {
		return "", false, fmt.Errorf("demo: install: %w", err)
	}
	return Name, true, nil
}

// populate writes the demo's files into the new session s.
func populate(s *sessions.Session) error {
	if err := os.MkdirAll(layout.Exports(s.Dir), 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{
		{layout.Model(s.Dir), modelBytes},
		{layout.DemoClip(s.Dir), clipBytes},
		{layout.Credits(s.Dir), []byte(Credits)},
	} {
		if err := core.WriteFileAtomic(f.path, func(w *os.File) error {
			_, err := w.Write(f.data)
			return err
		}); err != nil {
			return err
		}
	}
	m, err := model.Load(layout.Model(s.Dir))
	if err != nil {
		return err
	}
	if err := s.SaveFidelity(fidelityChoice(m)); err != nil {
		return err
	}
	s.Manifest.Sources = []string{Source}
	s.Manifest.SampleRate = m.Config.SR
	return s.Save()
}

// fidelityBits is the quantisation of the recorded bitrate estimate.
const fidelityBits = 8

// fidelityChoice picks the smallest number of PCA dimensions reaching
// DefaultFidelity when the model holds a latent analysis, else every
// dimension (fidelity 1), with the bitrate at fidelityBits bits a value.
func fidelityChoice(m *model.Model) sessions.Fidelity {
	c := m.Config
	f := sessions.Fidelity{Fidelity: 1, Dims: c.LatentSize, Rule: "exact", Bits: fidelityBits}
	if b := m.Buffer("fidelity"); m.LatentAnalysis.Done && b != nil {
		for i, v := range b.Data() {
			if float64(v) >= DefaultFidelity {
				f.Fidelity, f.Dims = DefaultFidelity, i+1
				break
			}
		}
	}
	if r := c.CompressionRatio(); r > 0 {
		kbps := float64(f.Dims) * float64(c.SR) / float64(r) * fidelityBits / 1000
		f.KbitPerSec = math.Round(kbps*1000) / 1000
	}
	return f
}
