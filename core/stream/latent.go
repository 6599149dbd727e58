package stream

import (
	"fmt"
	"math"
	"math/rand/v2"
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
	rng  *rand.Rand

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

// setOptions copies the options the latent space follows.
func (l *latentState) setOptions(opts Options) {
	l.rng = opts.RNG
	l.sample, l.raw, l.fill = opts.Sample, opts.Raw, opts.Fidelity.Fill
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

// setEdit is SetEdit.
func (l *latentState) setEdit(e LatentEdit) {
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

// setHook is SetHook.
func (l *latentState) setHook(h func(z [][]float32)) {
	l.mu2.Lock()
	defer l.mu2.Unlock()
	l.pend.hook = h
	l.pend.changed = true
}

// encodeBuffer is EncodeBuffer on the codec c.
func (l *latentState) encodeBuffer(c chunkCodec, dst [][]float32, x []float32) [][]float32 {
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
		z := c.encodeChunk(x[f0*l.R : f1*l.R])
		for f := f0; f < f1; f++ {
			if len(dst[f]) != l.k {
				panic(fmt.Sprintf("stream: EncodeBuffer: frame %d has %d values, want %d", f, len(dst[f]), l.k))
			}
			copy(dst[f], z[f-f0])
		}
	}
	return dst
}

// decodeBuffer is DecodeBuffer on the codec c.
func (l *latentState) decodeBuffer(c chunkCodec, dst []float32, z [][]float32) []float32 {
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
		c.decodeChunk(dst[f0*l.R:f1*l.R], f1-f0)
	}
	return dst
}

// process is Process on the codec c.
func (l *latentState) process(c chunkCodec, dst, x []float32) []float32 {
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
		z := c.encodeChunk(x[f0*l.R : f1*l.R])
		l.applyEdit(z)
		if l.edit.hook != nil {
			l.edit.hook(z)
		}
		l.prepareDecode(z)
		c.decodeChunk(dst[f0*l.R:f1*l.R], f1-f0)
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
