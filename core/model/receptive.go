package model

import "github.com/ravestation/rave/core"

// Receptive fields of the offline (whole-signal) model, for renders that
// run a long signal chunk by chunk: a chunk that sees enough latent frames
// on each side of the frames it keeps, and starts where the strided layers
// and the PQMF's sign pattern line up with the whole signal's, computes
// them exactly as one pass over the whole signal would (up to float
// rounding: GEMM and Winograd blocking depend on the chunk's length).

// ChunkContext is what a chunk of an offline encode or decode must see
// around the latent frames it keeps, in latent frames.
type ChunkContext struct {
	// EncoderLeft and EncoderRight are the latent frames of audio the
	// encoder needs before the first and after the last frame it keeps.
	EncoderLeft, EncoderRight int
	// DecoderLeft and DecoderRight are the latent frames the decoder needs
	// before the first and after the last frame whose audio it keeps.
	DecoderLeft, DecoderRight int
	// Align is the granularity of chunk starts: a chunk must start at a
	// multiple of Align latent frames so that every strided layer (the
	// loudness head, the noise synthesiser's frames) and the PQMF's
	// odd-band sign flip at even sub-band frames see the same phase as in
	// the whole signal.
	Align int
}

// ChunkContext returns the context of m's layers (see Layers.ChunkContext).
func (m *Model) ChunkContext() ChunkContext { return m.Layers().ChunkContext() }

// ChunkContext derives the context from the layer geometry: every
// convolution's kernel, dilation, stride and padding, the transposed
// up-samplers, the heads (waveform, strided loudness, the noise
// synthesiser's amplitude network and its frames) and the PQMF kernels.
// It follows the dependencies backwards from one latent frame's output to
// the inputs it reads, for every phase of the frame within Align, and
// rounds up to whole frames. Residual blocks read the union of the skip
// and the branch. Element-wise maps (LeakyReLU, eval BatchNorm, tanh, the
// posterior's softplus) read only their own position.
func (l *Layers) ChunkContext() ChunkContext {
	c := l.Config
	R := c.Ratio()
	r := c.CompressionRatio()
	ctx := ChunkContext{Align: chunkAlign(c, l)}
	for p := range ctx.Align {
		// Encoder: latent frame p ← audio.
		s := span{p, p + 1}
		for i := len(l.Encoder) - 1; i >= 0; i-- {
			s = convIn(l.Encoder[i].Geometry(), s)
		}
		if c.DataSize > 1 {
			lft, rgt := core.SamePadding(l.AnalysisTaps, 1)
			s = convIn(ConvGeometry{K: l.AnalysisTaps, Stride: c.DataSize, Dilation: 1, PadLeft: lft, PadRight: rgt}, s)
		}
		ctx.EncoderLeft = max(ctx.EncoderLeft, ceilDivInt(p*r-s.lo, r))
		ctx.EncoderRight = max(ctx.EncoderRight, ceilDivInt(s.hi-(p+1)*r, r))

		// Decoder: audio of frame p ← latent frames.
		y := span{p * R, (p + 1) * R} // sub-band samples
		if c.DataSize > 1 {
			lft, rgt := core.SamePadding(l.SynthesisTaps, 1)
			y = convIn(ConvGeometry{K: l.SynthesisTaps, Stride: 1, Dilation: 1, PadLeft: lft, PadRight: rgt}, y)
		}
		h := convIn(l.Wave.Geometry(), y)
		lg := l.Loud.Geometry()
		h = h.union(convIn(lg, span{floorDivInt(y.lo, lg.Stride), floorDivInt(y.hi-1, lg.Stride) + 1}))
		if len(l.Noise) > 0 {
			ts := c.NoiseRatio()
			n := span{floorDivInt(y.lo, ts), floorDivInt(y.hi-1, ts) + 1}
			for i := len(l.Noise) - 1; i >= 0; i-- {
				n = convIn(l.Noise[i].Geometry(), n)
			}
			h = h.union(n)
		}
		for i := len(l.Stages) - 1; i >= 0; i-- {
			st := l.Stages[i]
			for j := 2; j >= 0; j-- {
				blk := st.Residual[j]
				h = h.union(convIn(blk[0].Geometry(), convIn(blk[1].Geometry(), h)))
			}
			if st.Up.Transposed() {
				h = transposedIn(st.Up.Geometry(), h)
			} else {
				h = convIn(st.Up.Geometry(), h)
			}
		}
		z := convIn(l.DecoderIn.Geometry(), h)
		ctx.DecoderLeft = max(ctx.DecoderLeft, p-z.lo)
		ctx.DecoderRight = max(ctx.DecoderRight, z.hi-(p+1))
	}
	return ctx
}

// chunkAlign returns the smallest number of latent frames q such that
// q·Π ratios sub-band samples is a multiple of 2 (the PQMF's sign flip),
// of the loudness head's stride and of the noise frame length.
func chunkAlign(c Config, l *Layers) int {
	need := 1
	if c.DataSize > 1 {
		need = lcm(need, 2)
	}
	need = lcm(need, max(l.Loud.Geometry().Stride, 1))
	if len(l.Noise) > 0 {
		need = lcm(need, c.NoiseRatio())
	}
	return need / gcdInt(c.Ratio(), need)
}

// span is the half-open range [lo, hi) of sample indices of one signal
// (any integers: indices outside the signal are its zero padding).
type span struct{ lo, hi int }

func (s span) union(t span) span { return span{min(s.lo, t.lo), max(s.hi, t.hi)} }

// convIn returns the inputs a Conv1d reads for the outputs s: output o
// reads o·stride − padLeft + j·dilation for j < K.
func convIn(g ConvGeometry, s span) span {
	d := max(g.Dilation, 1)
	st := max(g.Stride, 1)
	return span{s.lo*st - g.PadLeft, (s.hi-1)*st - g.PadLeft + (g.K-1)*d + 1}
}

// transposedIn returns the inputs a ConvTranspose1d reads for the outputs
// s: input i adds into outputs i·stride − padding + j·dilation for j < K.
func transposedIn(g ConvGeometry, s span) span {
	d := max(g.Dilation, 1)
	st := max(g.Stride, 1)
	p := g.PadLeft
	return span{ceilDivInt(s.lo+p-(g.K-1)*d, st), floorDivInt(s.hi-1+p, st) + 1}
}

// floorDivInt and ceilDivInt divide rounding towards −∞ and +∞ (b > 0).
func floorDivInt(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDivInt(a, b int) int { return -floorDivInt(-a, b) }

func gcdInt(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcdInt(a, b) * b }
