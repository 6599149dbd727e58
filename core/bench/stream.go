package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/stream"
)

// StreamResult is the outcome of Stream for one buffer size.
type StreamResult struct {
	// Preset is the configuration's preset name (may be empty).
	Preset string `json:"preset"`
	// BufferSize is the buffer length in samples; BufferMs its duration,
	// the real-time budget of one buffer.
	BufferSize int     `json:"buffer_size"`
	BufferMs   float64 `json:"buffer_ms"`
	// Skipped says why the size was not measured (empty if it was).
	Skipped string `json:"skipped,omitempty"`
	// Buffers is the number of timed buffers per path.
	Buffers int `json:"buffers,omitempty"`
	// ProcessMedianMs and ProcessMaxMs are the median and largest wall
	// time of Process (encode → decode) on one buffer; ProcessRTF is
	// BufferMs / ProcessMedianMs.
	ProcessMedianMs float64 `json:"process_median_ms,omitempty"`
	ProcessMaxMs    float64 `json:"process_max_ms,omitempty"`
	ProcessRTF      float64 `json:"process_rtf,omitempty"`
	// DecodeMedianMs, DecodeMaxMs and DecodeRTF are the same for
	// DecodeBuffer alone (latents in, audio out).
	DecodeMedianMs float64 `json:"decode_median_ms,omitempty"`
	DecodeMaxMs    float64 `json:"decode_max_ms,omitempty"`
	DecodeRTF      float64 `json:"decode_rtf,omitempty"`
	// LatencySamples and LatencyMs are Process's latency (stream.Latency;
	// add one buffer for the host's buffering); DecoderLatencySamples is
	// DecodeBuffer's.
	LatencySamples        int     `json:"latency_samples"`
	LatencyMs             float64 `json:"latency_ms"`
	DecoderLatencySamples int     `json:"decoder_latency_samples"`
	// Threads is GOMAXPROCS during the run.
	Threads int `json:"threads"`
	// Weights is stream.Options.Weights: the storage of the streamed
	// weights.
	Weights stream.WeightPrecision `json:"weights"`
	// WeightBytes is the size of the weights the layers read per chunk
	// (packed panels in Weights, the others in float32).
	WeightBytes int `json:"weight_bytes,omitempty"`
	// SNRdB is the signal-to-noise ratio, in dB, of Process's output
	// against a float32-weight Streamer's on the same input (the timed
	// buffers after the latency): 10·log10(Σ ref² / Σ (out − ref)²). It is
	// 0 (omitted from JSON) for float32 weights, which are the reference.
	SNRdB float64 `json:"snr_db_vs_float32,omitempty"`
}

// Stream builds a randomly initialised model for cfg and times
// streaming inference (deterministic: posterior means, every latent
// dimension, no noise head, float32 weights) buffer by buffer, for each
// buffer size, over about seconds of audio per path after a short
// warm-up. Sizes that are not a positive multiple of the compression ratio
// are reported as skipped.
func Stream(cfg model.Config, bufferSizes []int, seconds float64) ([]StreamResult, error) {
	return StreamWith(cfg, bufferSizes, seconds, stream.Options{})
}

// StreamWith is Stream with streaming options (Weights, Noise,
// Fidelity, …; MaxBuffer is set to each buffer size). Random features
// draw from a fixed seed when opts.RNG is nil.
func StreamWith(cfg model.Config, bufferSizes []int, seconds float64, opts stream.Options) ([]StreamResult, error) {
	m, err := model.New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return nil, err
	}
	return StreamModel(m, bufferSizes, seconds, opts)
}

// StreamModel is StreamWith on the model m (its weights matter
// only to SNRdB; the input is Gaussian noise of standard deviation 0.3).
func StreamModel(m *model.Model, bufferSizes []int, seconds float64, opts stream.Options) ([]StreamResult, error) {
	cfg := m.Config
	return streamSizes(cfg.Preset, cfg.SR, cfg.CompressionRatio(), bufferSizes, seconds, opts, asStreamer(func(o stream.Options) (*stream.Streamer, error) {
		return stream.New(m, o)
	}))
}

// asStreamer turns a constructor of a concrete streamer into the one
// streamSizes takes, so that a failed construction yields a nil
// interface rather than one holding a nil pointer.
func asStreamer[S streamer](newS func(stream.Options) (S, error)) func(stream.Options) (streamer, error) {
	return func(o stream.Options) (streamer, error) {
		s, err := newS(o)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// streamer is what streamSizes times: stream.Streamer or stream.V2.
type streamer interface {
	Process(dst, x []float32) []float32
	EncodeBuffer(dst [][]float32, x []float32) [][]float32
	DecodeBuffer(dst []float32, z [][]float32) []float32
	Reset()
	WeightBytes() int
	Latencies() stream.Latency
}

// streamSizes times the streamers that build makes for each buffer size
// (StreamModel's measurement) for a model of the given preset, sample
// rate sr and compression ratio R.
func streamSizes(preset string, sr, R int, bufferSizes []int, seconds float64, opts stream.Options, build func(stream.Options) (streamer, error)) ([]StreamResult, error) {
	if seconds <= 0 {
		return nil, fmt.Errorf("bench: stream: %g seconds", seconds)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	var out []StreamResult
	for _, size := range bufferSizes {
		res := StreamResult{Preset: preset, BufferSize: size, Threads: runtime.GOMAXPROCS(0), Weights: opts.Weights}
		res.BufferMs = 1000 * float64(size) / float64(sr)
		if size <= 0 || size%R != 0 {
			res.Skipped = fmt.Sprintf("not a multiple of the compression ratio %d", R)
			out = append(out, res)
			continue
		}
		o := opts
		o.MaxBuffer = size
		if o.RNG == nil {
			o.RNG = rand.New(rand.NewPCG(2, 2))
		}
		s, err := build(o)
		if err != nil {
			return nil, fmt.Errorf("bench: stream: %w", err)
		}
		res.WeightBytes = s.WeightBytes()
		lat := s.Latencies()
		res.LatencySamples, res.LatencyMs, res.DecoderLatencySamples = lat.Samples, lat.Ms, lat.DecoderSamples
		n := max(10, int(seconds*float64(sr))/size)
		const warm = 3
		x := make([]float32, (n+warm)*size)
		for i := range x {
			x[i] = float32(0.3 * rng.NormFloat64())
		}
		y := make([]float32, len(x))
		z := make([][][]float32, n+warm)
		runtime.GC()
		times := make([]time.Duration, 0, n)
		for i := range n + warm {
			buf := x[i*size : (i+1)*size]
			t0 := time.Now()
			s.Process(y[i*size:(i+1)*size], buf)
			if d := time.Since(t0); i >= warm {
				times = append(times, d)
			}
		}
		res.Buffers = n
		res.ProcessMedianMs, res.ProcessMaxMs = medianMax(times)
		res.ProcessRTF = res.BufferMs / res.ProcessMedianMs
		if o.Weights != stream.WeightsFloat32 {
			o.Weights = stream.WeightsFloat32
			o.RNG = rand.New(rand.NewPCG(2, 2))
			ref, err := build(o)
			if err != nil {
				return nil, fmt.Errorf("bench: stream: %w", err)
			}
			want := make([]float32, len(x))
			for i := range n + warm {
				ref.Process(want[i*size:(i+1)*size], x[i*size:(i+1)*size])
			}
			from := min(len(x), max(warm*size, lat.Samples))
			res.SNRdB = stream.SNR(y[from:], want[from:])
		}

		s.Reset()
		for i := range z {
			z[i] = s.EncodeBuffer(nil, x[i*size:(i+1)*size])
		}
		s.Reset()
		runtime.GC()
		times = times[:0]
		for i := range n + warm {
			t0 := time.Now()
			s.DecodeBuffer(y[:size], z[i])
			if d := time.Since(t0); i >= warm {
				times = append(times, d)
			}
		}
		res.DecodeMedianMs, res.DecodeMaxMs = medianMax(times)
		res.DecodeRTF = res.BufferMs / res.DecodeMedianMs
		out = append(out, res)
	}
	return out, nil
}

// medianMax returns the median and the largest duration in milliseconds.
func medianMax(d []time.Duration) (median, largest float64) {
	s := slices.Clone(d)
	slices.Sort(s)
	mid := s[len(s)/2]
	if len(s)%2 == 0 {
		mid = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return ms(mid), ms(s[len(s)-1])
}
