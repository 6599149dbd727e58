package sessions

import (
	"context"
	"math"
	"os"
	"path/filepath"
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
