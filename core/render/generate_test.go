package render

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/model/tinymodel"
	"github.com/ravestation/rave/core/prior"
)

func tinyModel(t *testing.T) *model.Model { return tinymodel.New(t) }

func tinyPriorModel(seed uint64) *prior.Prior { return tinymodel.Prior(seed) }

// notes is a test signal: harmonic tones with decaying envelopes.
func notes(sr int, seconds float64) []float32 {
	x := make([]float32, int(seconds*float64(sr)))
	noteLen := sr / 4
	for i := range x {
		f0 := 220 * math.Pow(2, float64((i/noteLen)%5)/12)
		tt := float64(i%noteLen) / float64(sr)
		x[i] = float32(0.3 * math.Exp(-6*tt) * (math.Sin(2*math.Pi*f0*tt) + 0.5*math.Sin(4*math.Pi*f0*tt)))
	}
	return x
}

func finiteAll(x []float32) bool {
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

func TestGenerate(t *testing.T) {
	m := tinyModel(t)
	p := tinyPriorModel(2)
	sr := m.Config.SR
	tests := []struct {
		name string
		opts GenerateOptions
	}{
		{"sampled", GenerateOptions{Temperature: 1, Seed: 3}},
		{"greedy deterministic", GenerateOptions{Temperature: 0, Seed: 3, Deterministic: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y, rep, err := Generate(m, p, 0.5, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := sr / 2; len(y) != want || rep.Samples != want {
				t.Errorf("Generate(0.5 s) gave %d samples (report %d), want %d", len(y), rep.Samples, want)
			}
			if want := (sr/2 + m.Config.CompressionRatio() - 1) / m.Config.CompressionRatio(); rep.Frames != want {
				t.Errorf("report frames = %d, want %d", rep.Frames, want)
			}
			if !finiteAll(y) {
				t.Error("output has non-finite samples")
			}
			if rep.Dims != 4 || rep.RTF <= 0 || rep.SamplingRTF <= 0 || rep.DecodingRTF <= 0 {
				t.Errorf("report %+v: want 4 dims and positive real-time factors", rep)
			}
			again, _, err := Generate(m, p, 0.5, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(y, again) {
				t.Error("two runs with the same seed differ")
			}
		})
	}
	a, _, _ := Generate(m, p, 0.5, GenerateOptions{Temperature: 1, Seed: 1, Deterministic: true})
	b, _, _ := Generate(m, p, 0.5, GenerateOptions{Temperature: 1, Seed: 2, Deterministic: true})
	if slices.Equal(a, b) {
		t.Error("different seeds gave the same audio")
	}
	if _, _, err := Generate(m, p, 0.5, GenerateOptions{Dims: 3}); err == nil {
		t.Error("Generate with Dims 3 for a 4-dim prior: no error")
	}
}

func TestGeneratePrompt(t *testing.T) {
	m := tinyModel(t)
	p := tinyPriorModel(2)
	sr, r := m.Config.SR, m.Config.CompressionRatio()
	in := filepath.Join(t.TempDir(), "prompt.wav")
	if err := audio.WriteWAV(in, [][]float32{notes(sr, 0.25)}, sr, audio.Float32); err != nil {
		t.Fatal(err)
	}
	opts := GenerateOptions{Temperature: 1, Seed: 5, Prompt: in, Deterministic: true}
	y, rep, err := Generate(m, p, 0.25, opts)
	if err != nil {
		t.Fatal(err)
	}
	wantP := (sr/4 + r - 1) / r
	if rep.PromptFrames != wantP || len(y) != sr/4 {
		t.Errorf("prompted: %d prompt frames and %d samples, want %d and %d", rep.PromptFrames, len(y), wantP, sr/4)
	}
	opts.IncludePrompt = true
	full, _, err := Generate(m, p, 0.25, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != wantP*r+sr/4 || !slices.Equal(full[wantP*r:], y) {
		t.Errorf("with the prompt: %d samples, want %d ending with the continuation", len(full), wantP*r+sr/4)
	}
}

// TestCompressWithPrior trains a tiny prior on a signal's latents, then
// checks that the prior codes them in fewer than 5 bits per value and that
// the stream decodes to the same audio as the quantised latents.
func TestCompressWithPrior(t *testing.T) {
	m := tinyModel(t)
	p := tinyPriorModel(4)
	x := notes(m.Config.SR, 1.5)
	z, err := m.EncodeAudioWith(x, model.CodecOptions{Dims: 4})
	if err != nil {
		t.Fatal(err)
	}
	T := len(z[0])
	zt := core.Zeros(1, 4, T)
	for d, row := range z {
		copy(zt.Data()[d*T:], row)
	}
	tr := prior.NewTrainer(p)
	for range 60 {
		if _, err := tr.Step(zt); err != nil {
			t.Fatal(err)
		}
	}
	b, rep, err := CompressWithPrior(m, p, x, PriorCompressOptions{Compare: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("prior coding: %.2f bits/value, %.3f kbit/s (fixed 5-bit %.3f, saving %.0f%%), distance %.3f; rvz 5-bit %.3f kbit/s, distance %.3f",
		rep.BitsPerValue, rep.Kbps, rep.FixedKbps, 100*rep.Saving, rep.Distance, rep.RVZKbps, rep.RVZDistance)
	if rep.BitsPerValue >= 5 || rep.Kbps >= rep.FixedKbps {
		t.Errorf("prior coding costs %.2f bits per value, want fewer than 5", rep.BitsPerValue)
	}
	if math.IsNaN(rep.Distance) || rep.Distance <= 0 || rep.RVZKbps != rep.FixedKbps {
		t.Errorf("report %+v: want a positive distance and the rvz bitrate equal to the fixed one", rep)
	}
	y, err := DecompressWithPrior(m, p, b)
	if err != nil {
		t.Fatal(err)
	}
	// The reference round trip: quantise, dequantise, decode with zeros.
	q := p.Quantizer()
	zq := make([][]float32, 4)
	for d, row := range z {
		zq[d] = make([]float32, T)
		for f, v := range row {
			zq[d][f] = q.Centres[q.Index(v)]
		}
	}
	want, err := m.DecodeLatentsWith(zq, len(x), model.CodecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y, want) {
		t.Error("DecompressWithPrior differs from decoding the quantised latents")
	}

	t.Run("errors", func(t *testing.T) {
		if _, err := DecompressWithPrior(m, tinyPriorModel(9), b); !errors.Is(err, ErrPriorMismatch) {
			t.Errorf("another prior: error %v, want ErrPriorMismatch", err)
		}
		bad := slices.Clone(b)
		bad[len(bad)/2] ^= 1
		if _, err := DecompressWithPrior(m, p, bad); err == nil {
			t.Error("corrupt stream: no error")
		}
		if _, err := DecompressWithPrior(m, p, b[:10]); err == nil {
			t.Error("truncated stream: no error")
		}
	})
}

// TestGenerateStreaming checks that the streaming generator makes the same
// audio as the whole-signal decoder, but for the start (the streaming
// decoder's warm-up) and the end (which the latter pads with zeros).
func TestGenerateStreaming(t *testing.T) {
	m := tinyModel(t)
	p := tinyPriorModel(2)
	sr := m.Config.SR
	in := filepath.Join(t.TempDir(), "prompt.wav")
	if err := audio.WriteWAV(in, [][]float32{notes(sr, 0.25)}, sr, audio.Float32); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts GenerateOptions
	}{
		{"plain", GenerateOptions{Temperature: 1, Seed: 3, Deterministic: true}},
		{"prompt", GenerateOptions{Temperature: 0.7, Seed: 4, Deterministic: true, Prompt: in}},
		{"prompt included", GenerateOptions{Temperature: 1, Seed: 5, Deterministic: true, Prompt: in, IncludePrompt: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, _, err := Generate(m, p, 0.75, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			tc.opts.Streaming = true
			got, rep, err := Generate(m, p, 0.75, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("streaming gave %d samples, want %d", len(got), len(want))
			}
			// The streaming decoder warms up over its first tens of
			// milliseconds; the offline one pads the tail with zeros.
			warm, cut := sr/20, len(want)-sr/10
			var peak, diff float64
			for i := warm; i < cut; i++ {
				peak = max(peak, math.Abs(float64(want[i])))
				diff = max(diff, math.Abs(float64(got[i]-want[i])))
			}
			t.Logf("max difference %.3g (peak %.3g), %d frames, real-time factor %.3f", diff, peak, rep.Frames, rep.RTF)
			if peak == 0 || diff > 1e-3*peak {
				t.Errorf("streaming differs from offline by %.3g (peak %.3g)", diff, peak)
			}
			// GenerateFile writes the same audio a block at a time.
			out := filepath.Join(t.TempDir(), "gen.wav")
			frep, err := GenerateFile(m, p, 0.75, out, tc.opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			file := readMono(t, out)
			if frep.Frames != rep.Frames || frep.Samples != rep.Samples {
				t.Errorf("GenerateFile: %d frames, %d samples; Generate %d, %d", frep.Frames, frep.Samples, rep.Frames, rep.Samples)
			}
			if d := maxAbsDiff(t, file, got); d > 1e-6 {
				t.Errorf("GenerateFile differs from Generate by %g", d)
			}
		})
	}
}

func TestCompressFileWithPrior(t *testing.T) {
	m := tinyModel(t)
	p := tinyPriorModel(4)
	dir := t.TempDir()
	in, packed, out := filepath.Join(dir, "in.wav"), filepath.Join(dir, "in.rvzp"), filepath.Join(dir, "out.wav")
	x := notes(m.Config.SR, 1)
	if err := audio.WriteWAV(in, [][]float32{x}, m.Config.SR, audio.Float32); err != nil {
		t.Fatal(err)
	}
	rep, err := CompressFileWithPrior(m, p, in, packed, PriorCompressOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := DecompressFileWithPrior(m, p, packed, out); err != nil {
		t.Fatal(err)
	}
	y, _, n, err := LoadAudio(out, m.Config.SR)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(x) || !finiteAll(y) || rep.FileBytes == 0 {
		t.Errorf("round trip: %d samples from %d, report %+v", n, len(x), rep)
	}
}
