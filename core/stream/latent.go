package stream

import (
	"fmt"
	"math"
	"sync"

	"github.com/ravestation/rave/core/latent"
)

// latentState is what a streamer keeps of the latent space, whatever the
// model: the PCA, the kept dimensions and their fill, the edit and hook,
// and the buffering of audio into chunks of whole frames. Streamer (v1)
// and V2 embed it and supply the chunk codec.
type latentState struct {
	R    int // audio samples per latent frame
	maxN int // audio samples per internal step
	D, L int // latent size, encoder latent size
	k    int // kept PCA dimensions
	rng  Rand
	c    chunkCodec // the streamer that embeds this state
	lat  Latency

	sample, raw bool        // Options.Sample, Options.Raw
	fill        latent.Fill // Options.Fidelity.Fill

	pca, mu []float32
	zp      []float32   // maxF × D, PCA-space (or raw) frames
	frames  [][]float32 // views of zp: the frames handed out (k wide)
	vec     []float32   // D, one frame being decoded
	zdec    []float32   // D × maxF, the decoder's input

	mu2    sync.Mutex // guards pending
	pend   editState
	edit   editState
	held   []float32 // D, values of frozen dimensions
	frozen []bool    // D, frozen at the previous frame
}

// chunkCodec runs a model's encoder and decoder on one chunk of at most
// maxN samples: encodeChunk returns the chunk's frames (toFrames),
// decodeChunk decodes zdec (D × nF) into dst (nF·R samples).
type chunkCodec interface {
	encodeChunk(x []float32) [][]float32
	decodeChunk(dst []float32, nF int)
}

// Latency returns the delay, in samples, of Process's output with respect
// to the model's offline encode→decode of the same signal.
func (l *latentState) Latency() int { return l.lat.Samples }

// Latencies returns the latency of each path with its per-layer breakdown.
func (l *latentState) Latencies() Latency { return l.lat }

// CompressionRatio returns the audio samples per latent frame; buffer
// lengths must be multiples of it.
func (l *latentState) CompressionRatio() int { return l.R }

// Dims returns the number of latent dimensions per frame that EncodeBuffer
// and Process hand out.
func (l *latentState) Dims() int { return l.k }

// setOptions copies the options the latent space follows and keeps c,
// the chunk codec of the streamer that embeds l.
func (l *latentState) setOptions(opts Options, c chunkCodec) {
	l.c = c
	l.rng = opts.RNG
	l.sample, l.raw, l.fill = opts.Sample, opts.Raw, opts.Fidelity.Fill
	reservePacking()
}

// allocLatent allocates the latent buffers for the PCA pca (D × D) and
// mean mu (D), which it keeps.
func (l *latentState) allocLatent(pca, mu []float32) {
	D := l.D
	maxF := l.maxN / l.R
	l.pca, l.mu = pca, mu
	l.zp = make([]float32, maxF*D)
	l.frames = make([][]float32, maxF)
	l.vec = make([]float32, D)
	l.zdec = make([]float32, D*maxF)
	for _, e := range []*editState{&l.pend, &l.edit} {
		e.bias = make([]float32, D)
		e.scale = make([]float32, D)
		e.freeze = make([]bool, D)
		for d := range e.scale {
			e.scale[d] = 1
		}
	}
	l.held = make([]float32, D)
	l.frozen = make([]bool, D)
}

// SetEdit replaces the latent edit applied by Process. It may be called
// from any goroutine; the change applies from the next buffer.
func (l *latentState) SetEdit(e LatentEdit) {
	l.mu2.Lock()
	defer l.mu2.Unlock()
	p := &l.pend
	for d := range p.bias {
		p.bias[d], p.scale[d], p.freeze[d] = 0, 1, false
		if d < len(e.Bias) {
			p.bias[d] = e.Bias[d]
		}
		if d < len(e.Scale) {
			p.scale[d] = e.Scale[d]
		}
		if d < len(e.Freeze) {
			p.freeze[d] = e.Freeze[d]
		}
	}
	p.changed = true
}

// SetHook installs a function Process calls on every buffer's latent
// frames ([frame][dim], PCA space, after the edit) before decoding them; it
// may modify them in place and must not keep them. nil removes it. It may
// be called from any goroutine.
func (l *latentState) SetHook(h func(z [][]float32)) {
	l.mu2.Lock()
	defer l.mu2.Unlock()
	l.pend.hook = h
	l.pend.changed = true
}

// EncodeBuffer encodes x (a multiple of the compression ratio) into
// len(x)/ratio latent frames of Dims values each and returns dst. If dst is
// nil it is allocated; otherwise its shape must match. The frames are the
// offline encoding's frames delayed by Latencies().EncoderFrames.
func (l *latentState) EncodeBuffer(dst [][]float32, x []float32) [][]float32 {
	nF := l.checkAudio("EncodeBuffer", len(x))
	if dst == nil {
		dst = make([][]float32, nF)
		for f := range dst {
			dst[f] = make([]float32, l.k)
		}
	}
	if len(dst) != nF {
		panic(fmt.Sprintf("stream: EncodeBuffer: %d frames for %d samples (want %d)", len(dst), len(x), nF))
	}
	step := l.maxN / l.R
	for f0 := 0; f0 < nF; f0 += step {
		f1 := min(nF, f0+step)
		z := l.c.encodeChunk(x[f0*l.R : f1*l.R])
		for f := f0; f < f1; f++ {
			if len(dst[f]) != l.k {
				panic(fmt.Sprintf("stream: EncodeBuffer: frame %d has %d values, want %d", f, len(dst[f]), l.k))
			}
			copy(dst[f], z[f-f0])
		}
	}
	return dst
}

// DecodeBuffer decodes latent frames z ([frame][dim], at most latent_size
// values each, PCA space unless Raw) into len(z)·ratio samples and returns
// dst (allocated if nil). Dimensions beyond the kept ones are replaced per
// Options.Fidelity.Fill. The output is the offline decoding delayed by
// Latencies().DecoderSamples.
func (l *latentState) DecodeBuffer(dst []float32, z [][]float32) []float32 {
	n := len(z) * l.R
	if dst == nil {
		dst = make([]float32, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("stream: DecodeBuffer: %d samples for %d frames (want %d)", len(dst), len(z), n))
	}
	step := l.maxN / l.R
	for f0 := 0; f0 < len(z); f0 += step {
		f1 := min(len(z), f0+step)
		l.prepareDecode(z[f0:f1])
		l.c.decodeChunk(dst[f0*l.R:f1*l.R], f1-f0)
	}
	return dst
}

// Process encodes x, applies the latent edit and hook, and decodes, into
// dst (allocated if nil; it may be x itself). len(x) must be a multiple of
// the compression ratio. The output is the offline encode→decode delayed by
// Latency samples.
func (l *latentState) Process(dst, x []float32) []float32 {
	nF := l.checkAudio("Process", len(x))
	if dst == nil {
		dst = make([]float32, len(x))
	}
	if len(dst) != len(x) {
		panic(fmt.Sprintf("stream: Process: %d output samples for %d input samples", len(dst), len(x)))
	}
	l.syncEdit()
	step := l.maxN / l.R
	for f0 := 0; f0 < nF; f0 += step {
		f1 := min(nF, f0+step)
		z := l.c.encodeChunk(x[f0*l.R : f1*l.R])
		l.applyEdit(z)
		if l.edit.hook != nil {
			l.edit.hook(z)
		}
		l.prepareDecode(z)
		l.c.decodeChunk(dst[f0*l.R:f1*l.R], f1-f0)
	}
	return dst
}

func (l *latentState) checkAudio(what string, n int) int {
	if n%l.R != 0 {
		panic(fmt.Sprintf("stream: %s: %d samples is not a multiple of the compression ratio %d", what, n, l.R))
	}
	return n / l.R
}

// syncEdit copies a pending edit (SetEdit, SetHook) into the one in use.
func (l *latentState) syncEdit() {
	l.mu2.Lock()
	defer l.mu2.Unlock()
	if !l.pend.changed {
		return
	}
	copy(l.edit.bias, l.pend.bias)
	copy(l.edit.scale, l.pend.scale)
	copy(l.edit.freeze, l.pend.freeze)
	l.edit.hook = l.pend.hook
	l.pend.changed = false
}

// applyEdit edits frames in place (bias, scale, freeze).
func (l *latentState) applyEdit(z [][]float32) {
	e := &l.edit
	for _, fr := range z {
		for d, v := range fr {
			v = v*e.scale[d] + e.bias[d]
			if e.freeze[d] {
				if !l.frozen[d] {
					l.held[d], l.frozen[d] = v, true
				}
				v = l.held[d]
			} else {
				l.frozen[d] = false
			}
			fr[d] = v
		}
	}
}

// toFrames turns the posterior post ((2L) × nF: means, then scales) into
// frames in PCA space (views of zp, k wide): the means, or with Sample a
// draw mean + (softplus(scale) + 1e-4)·ε, then latent_pca·(z − latent_mean)
// unless Raw.
func (l *latentState) toFrames(post []float32, nF int) [][]float32 {
	L, D := l.L, l.D
	z := l.frames[:nF]
	for f := range nF {
		z[f] = l.zp[f*D : f*D+l.k]
		v := l.vec[:L]
		for d := range L {
			v[d] = post[d*nF+f]
			if l.sample {
				sc := float64(post[(L+d)*nF+f])
				std := sc
				if sc <= 20 { // softplus threshold, as core's Softplus
					std = math.Log1p(math.Exp(sc))
				}
				v[d] += float32((std + 1e-4) * l.rng.NormFloat64())
			}
		}
		if l.raw {
			copy(z[f], v[:l.k])
			continue
		}
		// z_p = latent_pca · (z − latent_mean), first k rows.
		for j := range L {
			v[j] -= l.mu[j]
		}
		for d := range l.k {
			row := l.pca[d*D : d*D+L]
			var acc float32
			for j, w := range row {
				acc += w * v[j]
			}
			z[f][d] = acc
		}
	}
	return z
}

// prepareDecode fills the decoder's input zdec (D × nF) from frames z:
// kept dimensions, the fill, then the inverse PCA.
func (l *latentState) prepareDecode(z [][]float32) {
	nF, D := len(z), l.D
	v := l.vec
	for f, fr := range z {
		if len(fr) > D {
			panic(fmt.Sprintf("stream: decode: frame %d has %d values, the model has %d dimensions", f, len(fr), D))
		}
		k := min(len(fr), l.k)
		copy(v, fr[:k])
		for d := k; d < D; d++ {
			v[d] = 0
			if l.fill == latent.FillNoise {
				v[d] = float32(l.rng.NormFloat64())
			}
		}
		if l.raw {
			for d := range D {
				l.zdec[d*nF+f] = v[d]
			}
			continue
		}
		// z = latent_pcaᵀ · z_p + latent_mean.
		for j := range D {
			l.zdec[j*nF+f] = l.mu[j]
		}
		for d, a := range v {
			if a == 0 {
				continue
			}
			row := l.pca[d*D : (d+1)*D]
			for j, w := range row {
				l.zdec[j*nF+f] += w * a
			}
		}
	}
}
