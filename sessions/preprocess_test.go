package sessions

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ravestation/rave/audio"
)

func TestPreprocessRecordsSourcesAndRejects(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	in := t.TempDir()
	x := make([]float32, 48000)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(2*math.Pi*440*float64(i)/48000))
	}
	if err := audio.WriteWAV(filepath.Join(in, "tone.wav"), [][]float32{x}, 48000, audio.Int16); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "notes.wav"), []byte("not audio at all"), 0o644)
	s, err := Create("p")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Preprocess(context.Background(), []string{in}, audio.DatasetOptions{ChunkLen: 16384}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 1 || len(rep.Rejected) != 1 {
		t.Fatalf("added %d, rejected %d; want 1 and 1", len(rep.Added), len(rep.Rejected))
	}
	again, err := Open("p")
	if err != nil {
		t.Fatal(err)
	}
	if again.Manifest.SampleRate != 48000 || len(again.Manifest.Sources) != 1 {
		t.Errorf("manifest after preprocess: %+v", again.Manifest)
	}
}

func TestPreprocessRefusesMissingSource(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	in := t.TempDir()
	if err := audio.WriteWAV(filepath.Join(in, "tone.wav"), [][]float32{make([]float32, 4800)}, 48000, audio.Int16); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(in, "no-such-folder")
	tests := []struct {
		name   string
		inputs []string
	}{
		{"only a missing folder", []string{missing}},
		{"a missing folder beside a file", []string{filepath.Join(in, "tone.wav"), missing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenOrCreate("p")
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Preprocess(context.Background(), tt.inputs, audio.DatasetOptions{ChunkLen: 16384}, nil)
			if !errors.Is(err, ErrNoSource) || !strings.Contains(err.Error(), missing) {
				t.Fatalf("Preprocess(%v) = %v, want ErrNoSource naming %s", tt.inputs, err, missing)
			}
			again, err := Open("p")
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Manifest.Sources) != 0 {
				t.Errorf("manifest sources after a refused preprocess = %v, want none", again.Manifest.Sources)
			}
		})
	}
}
