package audio

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteWAVRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	random := func(frames int, scale float32) []float32 {
		x := make([]float32, frames)
		for i := range x {
			x[i] = (rng.Float32()*2 - 1) * scale
		}
		return x
	}
	// Values on the quantisation grid survive exactly.
	grid := func(frames int, full float64) []float32 {
		x := make([]float32, frames)
		for i := range x {
			x[i] = float32(math.Round((rng.Float64()*2-1)*full) / full)
		}
		x[0], x[1] = -1, float32((full-1)/full) // both extremes
		return x
	}
	tests := []struct {
		name     string
		channels [][]float32
		format   SampleFormat
		tol      float64 // max |decoded − written|
	}{
		{"int16 mono grid", [][]float32{grid(1001, 1<<15)}, Int16, 0},
		{"int16 stereo random", [][]float32{random(999, 1), random(999, 1)}, Int16, 0.5 / 32768},
		{"int24 mono odd length (pad byte)", [][]float32{grid(1001, 1<<23)}, Int24, 0},
		{"int24 random 3ch", [][]float32{random(500, 1), random(500, 1), random(500, 1)}, Int24, 0.5 / (1 << 23)},
		{"float32 stereo beyond ±1", [][]float32{random(777, 3), random(777, 3)}, Float32, 0},
		{"float32 8ch", [][]float32{random(10, 1), random(10, 1), random(10, 1), random(10, 1), random(10, 1), random(10, 1), random(10, 1), random(10, 1)}, Float32, 0},
		{"empty", [][]float32{{}}, Int16, 0},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".wav")
			if err := WriteWAV(path, tt.channels, 44100, tt.format); err != nil {
				t.Fatal(err)
			}
			b, err := Decode(path)
			if len(tt.channels[0]) == 0 {
				if !errors.Is(err, ErrEmpty) {
					t.Fatalf("Decode(empty wav) = %v, want ErrEmpty", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.SampleRate != 44100 || len(b.Channels) != len(tt.channels) || b.Frames() != len(tt.channels[0]) {
				t.Fatalf("decoded %d Hz × %d ch × %d frames", b.SampleRate, len(b.Channels), b.Frames())
			}
			for c := range tt.channels {
				for i, want := range tt.channels[c] {
					if d := math.Abs(float64(b.Channels[c][i] - want)); d > tt.tol {
						t.Fatalf("channel %d frame %d = %v, want %v (tolerance %g)", c, i, b.Channels[c][i], want, tt.tol)
					}
				}
			}
		})
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteWAVQuantize(t *testing.T) {
	half := float32(0.5 / 32768)
	in := []float32{1.5, -2, 1, -1, 0, half, -half, 1.49 / 32768, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	want := []int16{32767, -32768, 32767, -32768, 0, 1, -1, 1, 0, 32767, -32768}
	var buf bytes.Buffer
	if err := WriteWAVTo(&buf, [][]float32{in}, 8000, Int16); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()[44:]
	for i, w := range want {
		got := int16(uint16(data[2*i]) | uint16(data[2*i+1])<<8)
		if got != w {
			t.Errorf("Int16 sample of %v = %d, want %d", in[i], got, w)
		}
	}
}

func TestWriteWAVHeader(t *testing.T) {
	// A canonical 44-byte header for 16-bit stereo PCM.
	b := wavBytes(t, [][]float32{{0, 0}, {0, 0}}, 44100, Int16)
	want := "RIFF\x2c\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x44\xac\x00\x00\x10\xb1\x02\x00\x04\x00\x10\x00data\x08\x00\x00\x00"
	if string(b[:44]) != want || len(b) != 52 {
		t.Errorf("header = %q (%d bytes), want %q (52 bytes)", b[:44], len(b), want)
	}
}

func TestWriteWAVErrors(t *testing.T) {
	var buf bytes.Buffer
	tests := []struct {
		name string
		err  error
	}{
		{"unequal channels", WriteWAVTo(&buf, [][]float32{{1, 2}, {1}}, 44100, Int16)},
		{"no channels", WriteWAVTo(&buf, nil, 44100, Int16)},
		{"bad rate", WriteWAVTo(&buf, [][]float32{{1}}, 0, Int16)},
		{"bad format", WriteWAVTo(&buf, [][]float32{{1}}, 44100, SampleFormat(9))},
		{"missing folder", WriteWAV(filepath.Join(t.TempDir(), "no", "such", "x.wav"), [][]float32{{1}}, 44100, Int16)},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.HasPrefix(tt.err.Error(), "audio: write") {
			t.Errorf("%s: error = %v, want an \"audio: write\" error", tt.name, tt.err)
		}
	}
}

// requiredToolsEnv, set to "required" by make test (whose .ci/deps.sh
// installs the tools), turns a test's skip for a missing tool into a
// failure, so that make test cannot pass without running it.
const requiredToolsEnv = "RAVE_TEST_TOOLS"

// TestWriteWAVReadBySox checks that SoX reads our WAV files at the level
// written. It is skipped without sox, except under make test.
func TestWriteWAVReadBySox(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		if os.Getenv(requiredToolsEnv) == "required" {
			t.Fatalf("sox not installed, and %s=required (make test): .ci/deps.sh installs it", requiredToolsEnv)
		}
		t.Skip("sox not installed (apt-get install sox)")
	}
	dir := t.TempDir()
	x := sine(4800, 1000, 48000, 0.5)
	for _, f := range []SampleFormat{Int16, Int24, Float32} {
		path := filepath.Join(dir, f.String()+".wav")
		if err := WriteWAV(path, [][]float32{x, x, x}, 48000, f); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sox, path, "-n", "stat").CombinedOutput()
		if err != nil {
			t.Fatalf("sox %s: %v\n%s", f, err, out)
		}
		if !strings.Contains(string(out), "Maximum amplitude:     0.5") {
			t.Errorf("sox stat of our %s file:\n%s\nwant a maximum amplitude of 0.5", f, out)
		}
	}
}

func BenchmarkWriteWAVInt16(b *testing.B) {
	x := sine(480000, 440, 48000, 0.5)
	b.SetBytes(int64(4 * len(x)))
	b.ReportAllocs()
	for range b.N {
		if err := WriteWAVTo(discard{}, [][]float32{x, x}, 48000, Int16); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
