package tui

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/stream"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/tui/demo"
)

// Codec is what the fidelity and latent panes need from a model: whole-
// clip encoding to PCA-space latents and decoding back. The implementation
// for model files wraps core/model's EncodeAudio and DecodeLatentsWith, and
// is a StreamingCodec as well, so that the latent pane can play its edits
// live.
type Codec interface {
	// Info describes the model.
	Info() CodecInfo
	// Encode maps mono audio at Info().SampleRate to latents in PCA space,
	// dims × frames (frames = ⌈len(x)/Hop⌉), deterministic.
	Encode(x []float32) ([][]float32, error)
	// Decode maps PCA latents (the first len(z) dims; the others are zero)
	// back to n samples, deterministic.
	Decode(z [][]float32, n int) ([]float32, error)
}

// LatentEdit changes one latent frame in place: z holds every PCA dim of
// frame t (counted from the start of the clip).
type LatentEdit func(t int, z []float32)

// StreamingCodec is implemented by codecs whose decoder can run buffer by
// buffer (core/stream's Streamer). With a sound device the latent pane then
// plays track B live: the clip's latents, edited, go frame by frame through
// a FrameDecoder while B plays, so an edit is heard within a few buffers
// (see liveTrack). Other codecs get an offline render of the whole clip
// after each edit.
type StreamingCodec interface {
	Codec
	// NewFrameDecoder returns a new decoder, independent of any other, for
	// buffers of block samples (a multiple of Info().Hop), and its delays.
	NewFrameDecoder(block int) (FrameDecoder, StreamDelay, error)
}

// FrameDecoder decodes latent frames buffer by buffer, keeping the state of
// its causal convolutions between calls (*stream.Streamer implements it).
// It is used by one goroutine at a time.
type FrameDecoder interface {
	// DecodeBuffer decodes frames ([frame][dim], PCA space) into
	// len(z)·Hop samples of dst and returns dst: the offline decoding of
	// the same frames delayed by StreamDelay.Latency samples, exact after
	// StreamDelay.Warmup samples from a Reset. It allocates nothing.
	DecodeBuffer(dst []float32, z [][]float32) []float32
	// Reset clears the state, as at the start of a new stream.
	Reset()
}

// StreamDelay gives a FrameDecoder's delays in samples.
type StreamDelay struct {
	// Latency is how far the decoder's output lags the offline decoding.
	Latency int
	// Warmup counts the output samples after a Reset that depend on the
	// state's initial zeros (and so differ from the offline decoding).
	Warmup int
}

// CodecInfo describes a model for the panes.
type CodecInfo struct {
	// SampleRate is the model's rate in Hz.
	SampleRate int
	// Dims is the latent size.
	Dims int
	// Hop is the number of samples per latent frame (compression ratio).
	Hop int
	// Fidelity is the cumulative explained variance per PCA dim (nil when
	// no latent analysis has been run).
	Fidelity []float32
	// Step and Stage are the training step and stage of the weights.
	Step  int64
	Stage int
}

// FramesPerSecond returns the latent frame rate.
func (i CodecInfo) FramesPerSecond() float64 {
	if i.Hop <= 0 {
		return 0
	}
	return float64(i.SampleRate) / float64(i.Hop)
}

// errNoModel reports a session without model.safetensors.
var errNoModel = errors.New("no model yet: it appears with the first checkpoint of a training run")

// modelCodec adapts a *model.Model, which is not safe for concurrent use,
// to Codec by serialising the calls.
type modelCodec struct {
	mu   sync.Mutex
	m    *model.Model
	info CodecInfo
}

var _ StreamingCodec = (*modelCodec)(nil)

func newModelCodec(m *model.Model) *modelCodec {
	c := m.Config
	info := CodecInfo{SampleRate: c.SR, Dims: c.LatentSize, Hop: c.CompressionRatio(), Step: m.Step, Stage: m.Stage}
	if m.LatentAnalysis.Done {
		if b := m.Buffer("fidelity"); b != nil {
			info.Fidelity = append([]float32(nil), b.Data()...)
		}
	}
	return &modelCodec{m: m, info: info}
}

func (c *modelCodec) Info() CodecInfo { return c.info }

func (c *modelCodec) Encode(x []float32) ([][]float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.EncodeAudio(x)
}

func (c *modelCodec) Decode(z [][]float32, n int) ([]float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.DecodeLatentsWith(z, n, model.CodecOptions{})
}

// NewFrameDecoder implements StreamingCodec with a stream.Streamer built
// from the current weights (posterior means, every PCA dimension, no noise
// head: what Decode renders). It fails for models that cannot stream
// (no PQMF).
func (c *modelCodec) NewFrameDecoder(block int) (FrameDecoder, StreamDelay, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := stream.New(c.m, stream.Options{MaxBuffer: block})
	if err != nil {
		return nil, StreamDelay{}, fmt.Errorf("streaming decoder: %w", err)
	}
	lat := s.Latencies()
	return s, StreamDelay{Latency: lat.DecoderSamples, Warmup: lat.DecoderWarmup}, nil
}

// loadSessionModel reads <session>/model.safetensors. When the model holds
// no latent analysis, the fidelity curve comes from analysis.json if the
// session has one.
func loadSessionModel(s *sessions.Session) (Codec, error) {
	path := layout.Model(s.Dir)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, errNoModel
	}
	m, err := model.Load(path)
	if err != nil {
		return nil, err
	}
	c := newModelCodec(m)
	if c.info.Fidelity == nil {
		if b, err := os.ReadFile(layout.Analysis(s.Dir)); err == nil {
			var a latent.Analysis
			if json.Unmarshal(b, &a) == nil && len(a.Fidelity) == c.info.Dims {
				c.info.Fidelity = a.Fidelity
			}
		}
	}
	return c, nil
}

// clipSeconds bounds the length of the working clip.
const clipSeconds = 8.0

// sessionClip is the working clip of a session: the demo's clip for the
// demo session, else a few seconds of the dataset.
func sessionClip(s *sessions.Session) (*clip, error) {
	if demo.Is(s) {
		if path := layout.DemoClip(s.Dir); fileExists(path) {
			c, err := fileClip(path, 0)
			if err == nil {
				c.label = "demo clip (" + demo.Credit + ")"
			}
			return c, err
		}
	}
	return datasetClip(s)
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// datasetClip takes consecutive chunks (up to clipSeconds) from near the
// end of the session's dataset, where a trainer's validation split lies.
func datasetClip(s *sessions.Session) (*clip, error) {
	ds, err := audio.OpenDataset(s.Dir)
	if err != nil {
		return nil, err
	}
	defer ds.Close()
	n, chunk, rate := ds.Len(), ds.ChunkLen(), ds.SampleRate()
	if n == 0 || chunk == 0 {
		return nil, errors.New("the dataset is empty")
	}
	want := max(1, min(n, int(math.Ceil(clipSeconds*float64(rate)/float64(chunk)))))
	first := max(0, min(n-want, n*9/10))
	x := make([]float32, 0, want*chunk)
	buf := make([]float32, chunk)
	for i := first; i < first+want; i++ {
		x = append(x, ds.ChunkFloat(buf, i)...)
	}
	x = x[:min(len(x), int(clipSeconds*float64(rate)))]
	label := fmt.Sprintf("dataset chunk %d", first)
	if want > 1 {
		label = fmt.Sprintf("dataset chunks %d–%d", first, first+want-1)
	}
	return &clip{label: label, samples: x, rate: rate}, nil
}

// fileClip decodes an audio file into a mono clip at rate (its own rate if
// rate is 0), cut to clipSeconds.
func fileClip(path string, rate int) (*clip, error) {
	b, err := audio.Decode(path)
	if err != nil {
		return nil, err
	}
	x := b.Mono()
	if rate > 0 && rate != b.SampleRate {
		if x, err = audio.Resample(x, b.SampleRate, rate); err != nil {
			return nil, err
		}
	} else {
		rate = b.SampleRate
	}
	x = x[:min(len(x), int(clipSeconds*float64(rate)))]
	return &clip{label: filepath.Base(path), samples: x, rate: rate}, nil
}

// resampled returns x at rate to (x itself if from == to).
func resampled(x []float32, from, to int) ([]float32, error) {
	if from == to || from <= 0 || to <= 0 {
		return x, nil
	}
	return audio.Resample(x, from, to)
}

// fitLen returns x cut or zero-padded to n samples.
func fitLen(x []float32, n int) []float32 {
	if len(x) == n {
		return x
	}
	out := make([]float32, n)
	copy(out, x)
	return out
}
