package render

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
)

// Chunked offline rendering. A long signal is encoded and decoded a chunk
// of latent frames at a time; each chunk runs the model's whole-signal
// encoder or decoder over its frames plus the context its receptive field
// needs on either side (model.ChunkContext, derived from the layer
// geometry), starting at a multiple of the context's alignment, and keeps
// only its own frames. What is kept is what a single pass over the whole
// signal computes, up to float32 rounding (GEMM and Winograd blocking
// follow the chunk's length), so memory stays flat however long the
// signal is: a chunk's audio, its context and the model's buffers.
//
// Random draws are keyed by position, not by the order of the chunks: the
// posterior sample ε of latent frame f and the N(0, 1) values of the
// dimensions a fidelity drops at frame f come from a generator seeded by
// (seed, f); the noise synthesiser's excitation of noise frame j (every
// band's samples of that frame, Π noise_ratios sub-band samples) from one
// seeded by (seed, j). A render therefore gives the same audio whatever
// the chunk size, and two renders with the same seed are equal; they are
// not those of the whole-signal codec (model.EncodeAudioWith and
// DecodeLatentsWith draw one stream over the whole signal).

// defaultChunkFrames is the number of latent frames a chunk keeps: 5.5 s
// at 48 kHz with 2048 samples per frame. The context costs v1 and small
// 7 and 20 frames of encoding and decoding per chunk (5 and 16 %), and a
// chunk's largest buffers (the PQMF's im2col, rounded up to a power of
// two by the model's pools) 64 MiB each; twice the frames would cost
// half the context and twice the memory.
const defaultChunkFrames = 128

// Salts of the position-keyed random streams drawn from Options.Seed.
const (
	saltPosterior = 0x72656e2d706f7374 // ε of the posterior sample
	saltFill      = 0x72656e2d66696c6c // dropped PCA dimensions
	saltNoise     = 0x72656e2d6e6f6973 // the noise synthesiser's excitation
)

// plan is the chunking of one signal.
type plan struct {
	ctx    model.ChunkContext
	r      int // samples per latent frame
	frames int // latent frames of the signal
	n      int // samples at the model's rate
	chunk  int // latent frames kept per chunk
}

// newPlan plans chunks of chunk latent frames (0: defaultChunkFrames); a
// signal of at most two chunks is one chunk, a single pass of the model's
// codec as before chunking.
func newPlan(m *model.Model, ctx model.ChunkContext, n, frames, chunk int) plan {
	if chunk <= 0 {
		chunk = defaultChunkFrames
	}
	if frames <= 2*chunk {
		chunk = max(frames, 1)
	}
	return plan{ctx: ctx, r: m.Config.CompressionRatio(), frames: frames, n: n, chunk: chunk}
}

// alignDown rounds a down to a multiple of the alignment.
func (p plan) alignDown(a int) int { return a / p.ctx.Align * p.ctx.Align }

// encodeSpan returns the frames [a, b) of audio that the encoder runs on
// to compute frames [f0, f1).
func (p plan) encodeSpan(f0, f1 int) (a, b int) {
	return p.alignDown(max(0, f0-p.ctx.EncoderLeft)), min(p.frames, f1+p.ctx.EncoderRight)
}

// decodeSpan returns the latent frames [a, b) that the decoder runs on to
// compute the audio of frames [f0, f1).
func (p plan) decodeSpan(f0, f1 int) (a, b int) {
	return p.alignDown(max(0, f0-p.ctx.DecoderLeft)), min(p.frames, f1+p.ctx.DecoderRight)
}

// codec encodes and decodes chunks as the options say.
type codec struct {
	m      *model.Model
	raw    bool
	dims   int  // PCA dimensions kept when encoding (0: all)
	sample bool // draw the posterior sample
	fill   bool // dropped dimensions N(0, 1) rather than zero
	noise  bool // add the noise synthesiser
	seed   uint64
	pcg    *rand.PCG
	rng    *rand.Rand
}

func newCodec(m *model.Model, o Options, k int) *codec {
	c := &codec{m: m, raw: o.Raw, dims: k, seed: o.Seed, pcg: rand.NewPCG(0, 0)}
	c.rng = rand.New(c.pcg)
	if !o.Deterministic {
		c.sample, c.fill, c.noise = true, true, m.Config.UseNoise
	}
	return c
}

// normals fills dst with the N(0, 1) values of latent frame f in the
// stream named by salt.
func (c *codec) normals(dst []float32, salt uint64, f int) {
	c.pcg.Seed(c.seed^salt, uint64(f))
	for i := range dst {
		dst[i] = float32(c.rng.NormFloat64())
	}
}

// minFrames is the shortest window the model's convolutions run on (the
// codec's own minimum): shorter signals are extended with zero frames.
const minFrames = 4

// encode returns the latents (dims × frames) of the frames [a, a+frames)
// whose audio x is (up to frames·ratio samples; the rest is zero).
func (c *codec) encode(x []float32, a, frames int) ([][]float32, error) {
	if !c.sample {
		return c.m.EncodeAudioWith(x, model.CodecOptions{Raw: c.raw, Dims: c.dims, ChunkFrames: frames})
	}
	r := c.m.Config.CompressionRatio()
	T := max(frames, minFrames)
	buf := make([]float32, T*r)
	copy(buf, x)
	mu, sd := c.m.Encode(nil, core.New(buf, 1, 1, len(buf)))
	L := mu.Dim(1)
	md, sdd := mu.Data(), sd.Data()
	eps := make([]float32, L)
	z := make([]float32, L*frames)
	for f := range frames {
		c.normals(eps, saltPosterior, a+f)
		for d := range L {
			// z = mean + std·ε, as model.CodecOptions.Sample draws it.
			z[d*frames+f] = md[d*T+f] + sdd[d*T+f]*eps[d]
		}
	}
	dims := L
	if c.dims > 0 {
		dims = c.dims
	}
	out := make([][]float32, dims)
	if c.raw {
		for d := range dims {
			out[d] = z[d*frames : (d+1)*frames]
		}
		return out, nil
	}
	// z_p = latent_pca · (z − latent_mean), as the model's codec rotates.
	pca, mean := c.m.Buffer("latent_pca").Data(), c.m.Buffer("latent_mean").Data()
	D := c.m.Config.LatentSize
	for d := range dims {
		row := make([]float32, frames)
		for k := range L {
			w := pca[d*D+k]
			if w == 0 {
				continue
			}
			for f, v := range z[k*frames : (k+1)*frames] {
				row[f] += w * (v - mean[k])
			}
		}
		out[d] = row
	}
	return out, nil
}

// decode returns the audio (frames·ratio samples) of the latents z
// (dims × frames) of the frames from a on.
func (c *codec) decode(z [][]float32, a int) ([]float32, error) {
	cfg := c.m.Config
	frames := len(z[0])
	o := model.CodecOptions{Raw: c.raw, ChunkFrames: frames}
	if D := cfg.LatentSize; c.fill && len(z) < D {
		full := make([][]float32, D)
		copy(full, z)
		vals := make([]float32, D-len(z))
		for d := len(z); d < D; d++ {
			full[d] = make([]float32, frames)
		}
		for f := range frames {
			c.normals(vals, saltFill, a+f)
			for i, v := range vals {
				full[len(z)+i][f] = v
			}
		}
		z = full
	}
	if c.noise {
		ts := cfg.NoiseRatio()
		if (a*cfg.Ratio())%ts != 0 {
			panic(fmt.Sprintf("render: decode chunk at frame %d does not start a noise frame", a))
		}
		o.Noise = true
		o.RNG = rand.New(&noiseSource{seed: c.seed ^ saltNoise, per: cfg.DataSize * ts, frame: int64(a*cfg.Ratio()/ts) - 1, i: cfg.DataSize * ts})
	}
	return c.m.DecodeLatentsWith(z, 0, o)
}

// noiseSource is the random source of the noise synthesiser for one
// chunk: its draws come in noise frames of per values each (every band's
// excitation of the frame, as dsp.NoiseFilter.UniformNoise draws them,
// one Uint64 per value), and the draws of noise frame j are those of a
// PCG seeded by (seed, j), so they do not depend on where the chunk
// starts.
type noiseSource struct {
	seed  uint64
	per   int
	frame int64
	i     int
	pcg   rand.PCG
}

func (s *noiseSource) Uint64() uint64 {
	if s.i == s.per {
		s.frame++
		s.i = 0
		s.pcg.Seed(s.seed, uint64(s.frame))
	}
	s.i++
	return s.pcg.Uint64()
}

// latents is a window of latent frames (dims × frames, from frame base on).
type latents struct {
	base int
	rows [][]float32
}

// push appends frames (dims × k) at the end of the window.
func (l *latents) push(z [][]float32) {
	if l.rows == nil {
		l.rows = make([][]float32, len(z))
	}
	for d := range z {
		l.rows[d] = append(l.rows[d], z[d]...)
	}
}

// end returns the frame after the last one held.
func (l *latents) end() int {
	if len(l.rows) == 0 {
		return l.base
	}
	return l.base + len(l.rows[0])
}

// span returns frames [a, b) (a ≥ base, b ≤ end), aliasing the window.
func (l *latents) span(a, b int) [][]float32 {
	out := make([][]float32, len(l.rows))
	for d, row := range l.rows {
		out[d] = row[a-l.base : b-l.base]
	}
	return out
}

// drop forgets the frames before a.
func (l *latents) drop(a int) {
	if a <= l.base {
		return
	}
	k := min(a, l.end()) - l.base
	for d, row := range l.rows {
		l.rows[d] = append(row[:0], row[k:]...)
	}
	l.base += k
}

// samples is a window of a signal read from a stream (from sample base
// on); the signal is n samples long.
type samples struct {
	src  func([]float32) (int, error)
	n    int
	base int
	buf  []float32
}

// fill reads until the window holds the signal up to min(end, n).
func (s *samples) fill(end int) error {
	end = min(end, s.n)
	for have := s.base + len(s.buf); have < end; have = s.base + len(s.buf) {
		k := min(end-have, 1<<16)
		n := len(s.buf)
		s.buf = slices.Grow(s.buf, k)[:n+k]
		got, err := s.src(s.buf[n:])
		s.buf = s.buf[:n+got]
		if got < k {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("render: the input ended after %d of %d samples", s.base+len(s.buf), s.n)
			}
			return err
		}
	}
	return nil
}

// span returns samples [a, b) of the signal (a ≥ base, b ≤ what fill
// reached), aliasing the window.
func (s *samples) span(a, b int) []float32 { return s.buf[a-s.base : b-s.base] }

// drop forgets the samples before a.
func (s *samples) drop(a int) {
	if a <= s.base {
		return
	}
	k := min(a-s.base, len(s.buf))
	s.buf = append(s.buf[:0], s.buf[k:]...)
	s.base += k
}
