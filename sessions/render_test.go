package sessions

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/train"
)

// TestRenderFileReport renders a clip at another sample rate through an
// untrained model: the output keeps the input's rate and length, and the
// report carries the spectral distance and the pitch/level comparison
// (none for a clip shorter than one pitch window).
func TestRenderFileReport(t *testing.T) {
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
			r, err := RenderFile(m, in, out, RenderOptions{Deterministic: true})
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
	if err := newest.Save(s.Path(train.ModelFile)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenModel("piano:best"); err == nil || !strings.Contains(err.Error(), "no best model yet") {
		t.Errorf("piano:best without a best model: %v", err)
	}
	if err := best.Save(s.Path(train.BestModelFile)); err != nil {
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
