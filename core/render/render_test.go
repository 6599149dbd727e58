package render

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/ravestation/rave/audio"
)

// TestFileReport renders a clip at another sample rate through an
// untrained model: the output keeps the input's rate and length, and the
// report carries the spectral distance and the pitch/level comparison
// (none for a clip shorter than one pitch window).
func TestFileReport(t *testing.T) {
	m := tinyModel(t)
	dir := t.TempDir()
	tests := []struct {
		name      string
		rate      int
		seconds   float64
		wantMatch bool
	}{
		{"one second at 44.1 kHz", 44100, 1, true},
		{"50 ms", 48000, 0.05, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, out := filepath.Join(dir, tt.name+"-in.wav"), filepath.Join(dir, tt.name+"-out.wav")
			x := notes(tt.rate, tt.seconds)
			if err := audio.WriteWAV(in, [][]float32{x}, tt.rate, audio.Float32); err != nil {
				t.Fatal(err)
			}
			r, err := File(m, in, out, Options{Deterministic: true})
			if err != nil {
				t.Fatal(err)
			}
			buf, err := audio.Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			if buf.SampleRate != tt.rate || len(buf.Channels[0]) != len(x) || r.Samples != len(x) {
				t.Errorf("output %d Hz × %d samples (report %d), want %d Hz × %d", buf.SampleRate, len(buf.Channels[0]), r.Samples, tt.rate, len(x))
			}
			if !(r.Distance > 0) || math.IsInf(r.Distance, 0) {
				t.Errorf("distance %v", r.Distance)
			}
			if (r.Match != nil) != tt.wantMatch {
				t.Fatalf("match report %+v, want one: %v", r.Match, tt.wantMatch)
			}
			if r.Match == nil {
				return
			}
			// The input's notes run from 220 to 277 Hz.
			if c := r.Match; c.Frames == 0 || c.PitchedFrames == 0 || c.InputHz < 215 || c.InputHz > 285 {
				t.Errorf("match %+v: want counted, pitched frames at 220–277 Hz", *c)
			}
		})
	}
}
