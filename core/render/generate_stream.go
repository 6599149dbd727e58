package render

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/prior"
	"github.com/ravestation/rave/core/stream"
)

// Generator produces audio from a prior live, block by block: it samples
// latent frames one at a time with the prior's cached sampler and decodes
// them with the model's streaming decoder (stream.Streamer), so the cost of
// a block does not grow with what came before and the output can be
// played while it is made. Its frames are those Generate samples with the
// same options; its audio is Generate's offline decoding up to float32
// rounding, except for the first few tens of milliseconds (the streaming
// decoder's warm-up from silence) and the last frames (which the offline
// decoder pads with zeros). A Generator is not safe for concurrent use.
type Generator struct {
	p      *prior.Prior
	st     *stream.Streamer
	s      *prior.Sampler
	rng    *rand.Rand
	temp   float64
	k, Q   int
	R      int
	frame  []int32
	logits []float32
	probs  []float64
	block  [][]float32 // frame-major latents waiting to be decoded
	fill   int         // frames in block
	out    []float32   // decoded samples not yet returned
	skip   int         // decoded samples still to drop
	frames int         // frames sampled
	prompt int         // frames of the prompt

	// Sampling and Decoding accumulate the time spent in each.
	Sampling, Decoding time.Duration
}

// NewGenerator returns a generator for m and p. opts are those of
// Generate; with a prompt, its reconstruction comes first if
// IncludePrompt is set.
func NewGenerator(m *model.Model, p *prior.Prior, opts GenerateOptions) (*Generator, error) {
	c := m.Config
	pc := p.Config()
	k := pc.Dims
	switch {
	case opts.Dims != 0 && opts.Dims != k:
		return nil, fmt.Errorf("render: generate: the prior models %d dimensions, %d were asked", k, opts.Dims)
	case k > c.LatentSize:
		return nil, fmt.Errorf("render: generate: the prior models %d dimensions, the model has only %d (is it this model's prior?)", k, c.LatentSize)
	case opts.Temperature < 0 || math.IsNaN(opts.Temperature):
		return nil, fmt.Errorf("render: generate: temperature %v", opts.Temperature)
	}
	so := stream.Options{Fidelity: latent.Fidelity{Dims: k, Fill: latent.FillZero}, Weights: opts.StreamWeights}
	if !opts.Deterministic {
		so.Fidelity.Fill = latent.FillNoise
		so.RNG = rand.New(rand.NewPCG(opts.Seed, saltDecode))
		so.Noise = useNoise(c)
	}
	st, err := stream.New(m, so)
	if err != nil {
		return nil, err
	}
	R := c.CompressionRatio()
	g := &Generator{p: p, st: st, s: p.NewSampler(), rng: rand.New(rand.NewPCG(opts.Seed, saltSample)),
		temp: opts.Temperature, k: k, Q: pc.Classes, R: R,
		frame: make([]int32, k), probs: make([]float64, pc.Classes), skip: st.Latencies().DecoderSamples}
	g.block = make([][]float32, max(defaultStreamBlock/R, 1))
	for i := range g.block {
		g.block[i] = make([]float32, k)
	}
	var prompt [][]float32
	if opts.Prompt != "" {
		x, _, _, err := LoadAudio(opts.Prompt, c.SR)
		if err != nil {
			return nil, err
		}
		if prompt, err = m.EncodeAudioWith(x, model.CodecOptions{Dims: k}); err != nil {
			return nil, fmt.Errorf("render: generate: prompt %s: %w", opts.Prompt, err)
		}
	}
	t0 := time.Now()
	if len(prompt) == 0 {
		for d := range g.frame {
			g.frame[d] = -1
		}
		g.logits = g.s.Step(g.frame)
		g.Sampling += time.Since(t0)
		return g, nil
	}
	P := len(prompt[0])
	g.prompt = P
	q := p.Quantizer()
	for t := range P {
		for d := range k {
			g.frame[d] = q.Index(prompt[d][t])
		}
		g.logits = g.s.Step(g.frame)
	}
	g.Sampling += time.Since(t0)
	if !opts.IncludePrompt {
		g.skip += P * R
	}
	for t := range P {
		for d := range k {
			g.block[g.fill][d] = prompt[d][t]
		}
		g.push()
	}
	return g, nil
}

// defaultStreamBlock is the number of samples decoded at once (the
// streaming decoder's default internal chunk).
const defaultStreamBlock = 8192

// useNoise reports whether the noise head can be used: it synthesises
// whole noise frames, and core/model cannot yet crop them to a sub-band
// length that is not a multiple (odd latent frame counts of the tiny
// preset), so it is used only where every latent frame holds whole noise
// frames.
func useNoise(c model.Config) bool {
	return c.UseNoise && c.Ratio()%max(c.NoiseRatio(), 1) == 0
}

// push counts the frame just written to the block and decodes the block
// when it is full.
func (g *Generator) push() {
	g.fill++
	if g.fill == len(g.block) {
		g.flush()
	}
}

// flush decodes the frames waiting in the block.
func (g *Generator) flush() {
	if g.fill == 0 {
		return
	}
	t0 := time.Now()
	n := len(g.out)
	g.out = append(g.out, make([]float32, g.fill*g.R)...)
	g.st.DecodeBuffer(g.out[n:], g.block[:g.fill])
	g.fill = 0
	if g.skip > 0 {
		d := min(g.skip, len(g.out))
		g.out = g.out[:copy(g.out, g.out[d:])]
		g.skip -= d
	}
	g.Decoding += time.Since(t0)
}

// sample draws the next frame's classes into g.frame and feeds them to the
// sampler, as prior.Generate does.
func (g *Generator) sample() {
	t0 := time.Now()
	Q := g.Q
	for d := range g.k {
		l := g.logits[d*Q : (d+1)*Q]
		cls := 0
		if g.temp == 0 {
			for q, v := range l {
				if v > l[cls] {
					cls = q
				}
			}
		} else {
			m := math.Inf(-1)
			for _, v := range l {
				m = max(m, float64(v))
			}
			var sum float64
			for q, v := range l {
				g.probs[q] = math.Exp((float64(v) - m) / g.temp)
				sum += g.probs[q]
			}
			u := g.rng.Float64()
			cls = Q - 1
			for q, pq := range g.probs {
				pq /= sum
				if u < pq {
					cls = q
					break
				}
				u -= pq
			}
		}
		g.frame[d] = int32(cls)
		g.block[g.fill][d] = g.p.Quantizer().Centres[cls]
	}
	g.logits = g.s.Step(g.frame)
	g.frames++
	g.Sampling += time.Since(t0)
}

// PromptFrames returns the number of frames of the prompt.
func (g *Generator) PromptFrames() int { return g.prompt }

// Frames returns the number of frames sampled so far.
func (g *Generator) Frames() int { return g.frames }

// Read fills dst with the next len(dst) samples of audio at the model's
// rate, sampling and decoding as many frames as that takes.
func (g *Generator) Read(dst []float32) {
	for len(g.out) < len(dst) {
		g.sample()
		g.push()
	}
	copy(dst, g.out)
	g.out = g.out[:copy(g.out, g.out[len(dst):])]
}

// GenerateFile is Generate with opts.Streaming, written to a 32-bit float
// WAV file at out (atomically) a block at a time as a Generator makes it,
// so its memory does not grow with seconds. The audio equals Generate's
// with opts.Streaming set.
func GenerateFile(m *model.Model, p *prior.Prior, seconds float64, out string, opts GenerateOptions, progress *Progress) (GenerateReport, error) {
	start := time.Now()
	var rep GenerateReport
	c := m.Config
	if !(seconds > 0) || math.IsInf(seconds, 0) {
		return rep, fmt.Errorf("render: generate: %v seconds", seconds)
	}
	n := int(math.Round(seconds * float64(c.SR)))
	g, err := NewGenerator(m, p, opts)
	if err != nil {
		return rep, err
	}
	total := n
	if opts.IncludePrompt {
		total += g.PromptFrames() * c.CompressionRatio()
	}
	sink, err := newWAVSink(out, c.SR, c.SR, total, total)
	if err != nil {
		return rep, err
	}
	progress.begin("generate", int64(total), c.SR)
	buf := make([]float32, generateBlock)
	for done := 0; done < total; {
		y := buf[:min(len(buf), total-done)]
		g.Read(y)
		if err := sink.write(y); err != nil {
			sink.abort()
			progress.abandon()
			return rep, err
		}
		done += len(y)
		progress.update(int64(done))
	}
	if err := sink.close(); err != nil {
		progress.abandon()
		return rep, err
	}
	progress.finish()
	rep.Sampling, rep.Decoding = g.Sampling, g.Decoding
	rep.Frames, rep.PromptFrames = g.Frames(), g.PromptFrames()
	rep.finish(c, p.Config().Dims, n, total, start)
	return rep, nil
}

// generateBlock is the number of samples GenerateFile makes and writes at
// a time.
const generateBlock = 1 << 15
