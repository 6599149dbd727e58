package stream

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/model"
)

// TestReferenceAlignmentLatency checks that Options.ReferenceAlignment
// gives the reference's latency: rave-spec.md §9.4's figures
// (SpecLatency) for v1 and small with the noise head, centred (28,240
// samples: encoder 4 frames + the analysis PQMF's 256, decoder 19,792) and
// causal (1,616), where the default alignment gives 27,904 and 4,224; and,
// for RAVE v2, §9.4's centred figure, 26,720 (encoder 14,208 = 6 frames +
// 1,920, decoder 12,512).
func TestReferenceAlignmentLatency(t *testing.T) {
	for _, c := range []struct {
		preset           string
		causal           bool
		encoder          int // samples
		encoderRemainder int // samples past whole frames
		encoderFrames    int
		defaultLatency   int // without the option
	}{
		{"v1", false, 8448, 256, 4, 27904},
		{"small", false, 8448, 256, 4, 27904},
		{"v1", true, 128, 128, 0, 4224},
	} {
		cfg, err := model.Preset(c.preset)
		if err != nil {
			t.Fatal(err)
		}
		cfg.NoLatency = c.causal
		want, ok := SpecLatency(cfg)
		if !ok {
			t.Fatalf("%s: no rave-spec.md figure", c.preset)
		}
		got, err := LatencyOf(cfg, Options{Noise: true, ReferenceAlignment: true})
		if err != nil {
			t.Fatal(err)
		}
		def, err := LatencyOf(cfg, Options{Noise: true})
		if err != nil {
			t.Fatal(err)
		}
		R := cfg.CompressionRatio()
		if got.Samples != want || got.EncoderSamples != c.encoder || got.EncoderSamples%R != c.encoderRemainder || got.EncoderFrames != c.encoderFrames {
			t.Errorf("%s (causal %v): reference-aligned latency %d (encoder %d samples, %d frames), want %d (encoder %d = %d frames + %d)",
				c.preset, c.causal, got.Samples, got.EncoderSamples, got.EncoderFrames, want, c.encoder, c.encoderFrames, c.encoderRemainder)
		}
		if def.Samples != c.defaultLatency || def.EncoderSamples%R != 0 {
			t.Errorf("%s (causal %v): default latency %d (encoder %d samples), want %d in whole frames", c.preset, c.causal, def.Samples, def.EncoderSamples, c.defaultLatency)
		}
	}
	s, err := NewV2(v2Model(t, 8, false, 1), Options{ReferenceAlignment: true})
	if err != nil {
		t.Fatal(err)
	}
	if l := s.Latencies(); l.Samples != 26720 || l.EncoderSamples != 14208 || l.EncoderFrames != 6 || l.DecoderSamples != 12512 {
		t.Errorf("v2: reference-aligned latency %d (encoder %d samples, %d frames; decoder %d), want 26720 (14208, 6; 12512)",
			l.Samples, l.EncoderSamples, l.EncoderFrames, l.DecoderSamples)
	}
}

// delayed returns x delayed by d samples (zeros first), of x's length.
func delayed(x []float32, d int) []float32 {
	out := make([]float32, len(x))
	copy(out[d:], x)
	return out
}

// TestReferenceAlignmentMatchesOffline checks what a reference-aligned
// stream computes, against the offline model: after the warm-up, its
// latents are the offline encoding of the input delayed by δ =
// EncoderSamples mod the compression ratio (the analysis PQMF's delay that
// the reference does not fold into the encoder's stride alignment), then
// delayed by EncoderFrames; Process is the offline encode→decode of that
// delayed input, delayed by the rest of the latency; DecodeBuffer is the
// offline decoding delayed by DecoderSamples, as without the option.
// tiny (centred: δ = 256 of 512) and v2-small (δ = 1,920 of 2,048), noise
// head off.
func TestReferenceAlignmentMatchesOffline(t *testing.T) {
	t.Run("tiny", func(t *testing.T) {
		m := streamModel(t, "tiny", false, 7)
		s, err := New(m, Options{MaxBuffer: 4096, ReferenceAlignment: true})
		if err != nil {
			t.Fatal(err)
		}
		checkReferenceAligned(t, s, 256, m.Config.SR, m.Config.LatentSize, func(x []float32, zr [][]float32) ([]float32, [][]float32, []float32) {
			return v1Offline(t, m, x, zr)
		})
	})
	t.Run("v2-small", func(t *testing.T) {
		m := v2Model(t, 8, false, 7)
		s, err := NewV2(m, Options{MaxBuffer: 4096, ReferenceAlignment: true})
		if err != nil {
			t.Fatal(err)
		}
		checkReferenceAligned(t, s, 1920, m.Config.SampleRate, m.Config.LatentSize, func(x []float32, zr [][]float32) ([]float32, [][]float32, []float32) {
			return v2Offline(m, x, zr)
		})
	})
}

// alignedStreamer is a v1 or v2 streamer with its latencies.
type alignedStreamer interface {
	bufferStreamer
	Latencies() Latency
	CompressionRatio() int
}

// checkReferenceAligned is TestReferenceAlignmentMatchesOffline for the
// reference-aligned stream s of a model of sample rate sr and L latent
// dimensions, whose encoder delay is delta samples past whole frames:
// s streams, in buffers of 2048 samples, what offline (v1Offline,
// v2Offline) computes of the input delayed by delta.
func checkReferenceAligned(t *testing.T, s alignedStreamer, delta, sr, L int, offline func(x []float32, zr [][]float32) (y []float32, pcaMeans [][]float32, decoded []float32)) {
	t.Helper()
	const size = 2048
	lat := s.Latencies()
	R := s.CompressionRatio()
	if d := lat.EncoderSamples % R; d != delta {
		t.Fatalf("encoder delay %d samples: %d past whole frames, want %d (the analysis PQMF's)", lat.EncoderSamples, d, delta)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	nb := oddBuffers(lat.EncoderWarmup+lat.DecoderWarmup+6*R, size)
	n := nb * size
	x := testSignal(n, float64(sr), rng)
	zr := randomLatents(rng, L, n/R)
	want, means, wantD := offline(delayed(x, delta), zr)
	mapped := lat
	mapped.Samples -= delta // Process: the delayed input's encode→decode
	checkBuffers(t, s, mapped, R, nb, size, x, want, means, zr, wantD)
}

// TestReferenceAlignmentNoiseFrames checks the noise head of a
// reference-aligned stream whose noise frames (64 sub-band samples) are
// longer than a latent frame (quick: 32): buffers of whole noise frames
// stream with the same result at every size (the excitation drawn frame
// by frame), and a buffer of one latent frame is refused.
func TestReferenceAlignmentNoiseFrames(t *testing.T) {
	m := streamModel(t, "quick", false, 5)
	run := func(size, n int) []float32 {
		s, err := New(m, Options{Noise: true, RNG: rand.New(rand.NewPCG(1, 1)), MaxBuffer: size, ReferenceAlignment: true})
		if err != nil {
			t.Fatal(err)
		}
		x := testSignal(n, float64(m.Config.SR), rand.New(rand.NewPCG(2, 2)))
		y := make([]float32, n)
		for i := 0; i < n; i += size {
			s.Process(y[i:i+size], x[i:i+size])
		}
		return y
	}
	const n = 8192 * 3
	a, b := run(1024, n), run(8192, n)
	// The same up to float32 rounding (chunked products), the excitation
	// included: other draws give about 60 dB.
	if snr := SNR(a, b); !(snr > 100) {
		t.Errorf("buffers of 1024 and 8192 samples differ: SNR %.1f dB", snr)
	}
	s, err := New(m, Options{Noise: true, RNG: rand.New(rand.NewPCG(1, 1)), MaxBuffer: 512, ReferenceAlignment: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "noise frames") {
			t.Errorf("a 512-sample buffer gave %v, want a panic about noise frames", r)
		}
	}()
	s.DecodeBuffer(nil, [][]float32{make([]float32, s.Dims())})
}

// TestLoadStateRefuses checks that V2.LoadState refuses a stream without
// ReferenceAlignment and a state with a buffer missing or of the wrong
// size, by name (core/interop's TestTorchScriptV2StreamingAsLoaded loads
// a real one).
func TestLoadStateRefuses(t *testing.T) {
	m := v2Model(t, 8, false, 1)
	zeros := func(string) []float32 { return nil }
	for _, c := range []struct {
		name  string
		ref   bool
		state func(string) []float32
		want  string
	}{
		{"offline alignment", false, zeros, "needs ReferenceAlignment"},
		{"missing cache", true, zeros, "no pqmf.forward_conv.cache.pad (512 values)"},
		{"wrong size", true, func(name string) []float32 {
			switch name {
			case "pqmf.forward_conv.cache.pad":
				return make([]float32, 512)
			case "encoder.encoder.net.0.cache.pad":
				return make([]float32, 5)
			}
			return nil
		}, "encoder.encoder.net.0.cache.pad has 5 values, the stream keeps 96"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewV2(m, Options{ReferenceAlignment: c.ref})
			if err != nil {
				t.Fatal(err)
			}
			err = s.LoadState(c.state)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("LoadState: %v, want an error saying %q", err, c.want)
			}
		})
	}
}
