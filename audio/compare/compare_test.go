package compare

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

const sr = 48000

// tone is a harmonic tone: partials h·f0 with amplitudes amp/h.
func tone(seconds, f0, amp float64, partials int) []float32 {
	x := make([]float32, int(seconds*sr))
	for i := range x {
		t := float64(i) / sr
		var v float64
		for h := 1; h <= partials; h++ {
			v += math.Sin(2*math.Pi*f0*float64(h)*t) / float64(h)
		}
		x[i] = float32(amp * v)
	}
	return x
}

func cents(a, b float64) float64 { return 1200 * math.Log2(a/b) }

func TestTrackPitch(t *testing.T) {
	tests := []struct {
		name     string
		f0       float64
		partials int
	}{
		{"A0 harmonic", 27.5, 8},
		{"A1 sine", 55, 1},
		{"C4 harmonic", 261.63, 6},
		{"A4 sine", 440, 1},
		{"C7 harmonic", 2093, 3},
		{"C8 sine", 4186, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := TrackPitch(tone(0.5, tt.f0, 0.3, tt.partials), sr)
			if err != nil {
				t.Fatal(err)
			}
			if len(p) == 0 {
				t.Fatal("no frames")
			}
			for k, f := range p {
				if c := cents(f, tt.f0); f == 0 || math.Abs(c) > 5 {
					t.Fatalf("frame %d: %.2f Hz (%.1f cents off %.2f)", k, f, c, tt.f0)
				}
			}
		})
	}
}

func TestTrackPitchUnpitched(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]float32, sr/2)
	for i := range noise {
		noise[i] = float32(0.3 * rng.NormFloat64())
	}
	for name, x := range map[string][]float32{"white noise": noise, "silence": make([]float32, sr/2)} {
		p, err := TrackPitch(x, sr)
		if err != nil {
			t.Fatal(err)
		}
		pitched := 0
		for _, f := range p {
			if f > 0 {
				pitched++
			}
		}
		if pitched > len(p)/20 {
			t.Errorf("%s: %d of %d frames pitched", name, pitched, len(p))
		}
	}
	if _, err := TrackPitch(make([]float32, 100), sr); !errors.Is(err, ErrTooShort) {
		t.Errorf("100 samples: %v, want ErrTooShort", err)
	}
	if _, err := TrackPitch(make([]float32, sr), 0); err == nil {
		t.Error("rate 0: no error")
	}
}

func TestCompare(t *testing.T) {
	in := tone(1, 261.63, 0.3, 6)
	half := make([]float32, len(in))
	for i, v := range in {
		half[i] = v / 2
	}
	// The input decays by 80 dB: frames more than FloorDB under the peak
	// are left out.
	decay := make([]float32, len(in))
	for i, v := range in {
		decay[i] = v * float32(math.Pow(10, -4*float64(i)/float64(len(in))))
	}
	tests := []struct {
		name          string
		in, out       []float32
		agree         float64
		levelErr      float64
		bias          float64
		outHz         float64
		countedFrames func(total, counted int) bool
	}{
		{"identical", in, in, 1, 0, 0, 261.63, func(n, c int) bool { return c == n }},
		{"6 dB quieter", in, half, 1, 6.02, -6.02, 261.63, nil},
		{"octave up", in, tone(1, 523.25, 0.3, 6), 0, -1, 0, 523.25, nil},
		{"silent output", in, make([]float32, len(in)), 0, -1, 0, 0, nil},
		{"decaying input", decay, decay, 1, 0, 0, 261.63, func(n, c int) bool { return c < n*3/4 && c > n/2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compare(tt.in, tt.out, sr)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r.PitchAgreement-tt.agree) > 1e-9 {
				t.Errorf("pitch agreement %.3f, want %.3f", r.PitchAgreement, tt.agree)
			}
			if tt.levelErr >= 0 && (math.Abs(r.LevelErrorDB-tt.levelErr) > 0.05 || math.Abs(r.LevelBiasDB-tt.bias) > 0.05) {
				t.Errorf("level error %.3f dB, bias %.3f; want %.2f, %.2f", r.LevelErrorDB, r.LevelBiasDB, tt.levelErr, tt.bias)
			}
			if c := cents(r.InputHz, 261.63); math.Abs(c) > 5 {
				t.Errorf("input pitch %.2f Hz, want 261.63", r.InputHz)
			}
			switch {
			case tt.outHz == 0 && r.OutputHz != 0:
				t.Errorf("output pitch %.2f Hz, want none", r.OutputHz)
			case tt.outHz > 0 && math.Abs(cents(r.OutputHz, tt.outHz)) > 5:
				t.Errorf("output pitch %.2f Hz, want %.2f", r.OutputHz, tt.outHz)
			}
			if r.PitchedFrames == 0 || r.PitchedFrames > r.Frames {
				t.Errorf("%d pitched of %d frames", r.PitchedFrames, r.Frames)
			}
			total := len(levels(tt.in, sr))
			if tt.countedFrames != nil && !tt.countedFrames(total, r.Frames) {
				t.Errorf("%d of %d frames counted", r.Frames, total)
			}
		})
	}
}
