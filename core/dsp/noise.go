package dsp

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
)

// NoiseFilter turns per-frame band amplitudes into filtered noise, the
// synthesis half of RAVE's NoiseGenerator (rave/model.py NoiseGenerator
// with rave/core.py amp_to_impulse_response and fft_convolve; rave-spec
// §4.2). For every frame and band, the nb amplitudes are a real, zero-phase
// spectrum turned into an impulse response:
//
//	ir0 = irfft(a) (length s = 2(nb−1)),  r = roll(ir0, s/2)·hann(s),
//	ir  = roll(pad_or_crop(r, TargetSize), −s/2),
//
// and a block of TargetSize noise samples is filtered by it with the
// reference's fft_convolve, i.e. the first TargetSize samples of their
// linear convolution: out[j] = Σ_{m≤j} noise[m]·ir[j−m]. A NoiseFilter is
// immutable and safe for concurrent use.
type NoiseFilter struct {
	// Bands is the number of PQMF bands (data_size), NoiseBands the number
	// of amplitudes per band and TargetSize the block length (the product
	// of the noise ratios: 64 for v1).
	Bands, NoiseBands, TargetSize int
	phi                           []float64 // (TargetSize × NoiseBands): ir = phi·a
	taps                          []int     // the rows of phi that are not zero
}

// NewNoiseFilter builds the amplitude-to-impulse-response map for the given
// sizes (v1: 16 bands, 5 noise bands, target 64).
func NewNoiseFilter(bands, noiseBands, targetSize int) *NoiseFilter {
	if bands < 1 || noiseBands < 2 || targetSize < 1 {
		panic(fmt.Sprintf("dsp: NewNoiseFilter(%d, %d, %d): sizes must be positive, noise bands ≥ 2", bands, noiseBands, targetSize))
	}
	nf := &NoiseFilter{Bands: bands, NoiseBands: noiseBands, TargetSize: targetSize}
	s := 2 * (noiseBands - 1)
	win := HannWindow(s)
	nf.phi = make([]float64, targetSize*noiseBands)
	for k := range noiseBands {
		// irfft of the unit spectrum e_k: (1/s)·[e_0 + e_last·(−1)^t + 2·Σ_mid cos]
		ir0 := make([]float64, s)
		for t := range s {
			switch k {
			case 0:
				ir0[t] = 1
			case noiseBands - 1:
				ir0[t] = 1 - 2*float64(t%2)
			default:
				ir0[t] = 2 * math.Cos(2*math.Pi*float64((k*t)%s)/float64(s))
			}
			ir0[t] /= float64(s)
		}
		r := make([]float64, targetSize)
		for i := range min(s, targetSize) {
			r[i] = ir0[mod(i-s/2, s)] * float64(win[i])
		}
		for i := range targetSize {
			nf.phi[i*noiseBands+k] = r[mod(i+s/2, targetSize)]
		}
	}
	for i := range targetSize {
		for k := range noiseBands {
			if nf.phi[i*noiseBands+k] != 0 {
				nf.taps = append(nf.taps, i)
				break
			}
		}
	}
	return nf
}

func mod(a, m int) int { return ((a % m) + m) % m }

// check panics unless amp is (B, Bands·NoiseBands, F) and returns B and F.
func (nf *NoiseFilter) check(amp *core.Tensor) (b, f int) {
	s := amp.Shape()
	if len(s) != 3 || s[1] != nf.Bands*nf.NoiseBands {
		panic(fmt.Sprintf("dsp: NoiseFilter: amplitudes %v, want (B, %d, F)", s, nf.Bands*nf.NoiseBands))
	}
	return s[0], s[2]
}

// UniformNoise returns the excitation for amplitudes of shape
// (B, Bands·NoiseBands, F): uniform noise in [−1, 1) of shape
// (B, F, Bands, TargetSize), the layout of torch.rand_like(ir)·2 − 1 in the
// reference, drawn in row-major order from rng.
func (nf *NoiseFilter) UniformNoise(rng *rand.Rand, amp *core.Tensor) *core.Tensor {
	b, f := nf.check(amp)
	n := core.New(nil, b, f, nf.Bands, nf.TargetSize)
	for i := range n.Data() {
		n.Data()[i] = rng.Float32()*2 - 1
	}
	return n
}

// Synthesize filters fresh uniform noise from rng with the amplitudes amp
// (B, Bands·NoiseBands, F) (channel = band·NoiseBands + bin, already
// through mod_sigmoid) and returns the noise signal (B, Bands, F·TargetSize).
func (nf *NoiseFilter) Synthesize(tp *core.Tape, amp *core.Tensor, rng *rand.Rand) *core.Tensor {
	return nf.Filter(tp, amp, nf.UniformNoise(rng, amp))
}

// Filter is Synthesize with an explicit excitation noise (B, F, Bands,
// TargetSize); it is differentiable with respect to amp (the noise is a
// constant).
func (nf *NoiseFilter) Filter(tp *core.Tape, amp, noise *core.Tensor) *core.Tensor {
	b, f := nf.check(amp)
	ns := noise.Shape()
	if len(ns) != 4 || ns[0] != b || ns[1] != f || ns[2] != nf.Bands || ns[3] != nf.TargetSize {
		panic(fmt.Sprintf("dsp: NoiseFilter.Filter: noise %v, want (%d, %d, %d, %d)", ns, b, f, nf.Bands, nf.TargetSize))
	}
	m, ts := nf.Bands, nf.TargetSize
	out := core.New(nil, b, m, f*ts)
	ad, nd, od := amp.Data(), noise.Data(), out.Data()
	split.For(b*m, b*m*f*ts*len(nf.taps), func(lo, hi int) {
		ir := make([]float64, ts)
		a := make([]float64, nf.NoiseBands)
		for bm := lo; bm < hi; bm++ {
			bi, band := bm/m, bm%m
			for fr := range f {
				nf.impulse(ir, a, ad, bi, band, fr, f)
				blk := nd[((bi*f+fr)*m+band)*ts:][:ts]
				dst := od[(bi*m+band)*f*ts+fr*ts:][:ts]
				for j := range ts {
					var s float64
					for _, i := range nf.taps {
						if i > j {
							break
						}
						s += float64(blk[j-i]) * ir[i]
					}
					dst[j] = float32(s)
				}
			}
		}
	})
	tp.Record(&noiseOp{nf: nf, amp: amp, noise: noise, out: out}, out, amp)
	return out
}

// impulse fills ir with the impulse response of frame fr of one band; a is
// scratch of NoiseBands values.
func (nf *NoiseFilter) impulse(ir, a []float64, ad []float32, bi, band, fr, f int) {
	nb := nf.NoiseBands
	for k := range a {
		a[k] = float64(ad[(bi*nf.Bands*nb+band*nb+k)*f+fr])
	}
	clear(ir)
	for _, i := range nf.taps {
		var s float64
		for k, v := range a {
			s += nf.phi[i*nb+k] * v
		}
		ir[i] = s
	}
}

type noiseOp struct {
	nf              *NoiseFilter
	amp, noise, out *core.Tensor
}

// Backward: ∂/∂ir[i] = Σ_{j≥i} g[j]·noise[j−i], then ∂/∂a = phiᵀ·∂/∂ir.
func (o *noiseOp) Backward() {
	g := o.out.Grad()
	if g == nil || !o.amp.RequiresGrad() {
		return
	}
	nf := o.nf
	b, f := nf.check(o.amp)
	m, nb, ts := nf.Bands, nf.NoiseBands, nf.TargetSize
	ga, nd := o.amp.EnsureGrad(), o.noise.Data()
	split.For(b*m, b*m*f*ts*len(nf.taps), func(lo, hi int) {
		gk := make([]float64, nb)
		for bm := lo; bm < hi; bm++ {
			bi, band := bm/m, bm%m
			for fr := range f {
				blk := nd[((bi*f+fr)*m+band)*ts:][:ts]
				gb := g[(bi*m+band)*f*ts+fr*ts:][:ts]
				clear(gk)
				for _, i := range nf.taps {
					var gi float64
					for j := i; j < ts; j++ {
						gi += float64(gb[j]) * float64(blk[j-i])
					}
					for k := range nb {
						gk[k] += nf.phi[i*nb+k] * gi
					}
				}
				for k, v := range gk {
					ga[(bi*m*nb+band*nb+k)*f+fr] += float32(v)
				}
			}
		}
	})
}
