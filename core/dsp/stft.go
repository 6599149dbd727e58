package dsp

import (
	"fmt"
	"math"

	"github.com/ravestation/rave/core"
)

// STFTConfig configures STFTMagnitude. The window is always the periodic
// Hann window of length NFFT (torch.hann_window(NFFT), win_length = NFFT).
type STFTConfig struct {
	// NFFT is the FFT size, a power of two ≥ 4.
	NFFT int
	// Hop is the frame advance; it must be even and divide NFFT.
	Hop int
	// Center reflect-pads NFFT/2 samples on both sides first
	// (torch.stft center=True, pad_mode="reflect").
	Center bool
	// Normalized scales the transform by 1/√NFFT (torch.stft
	// normalized=True).
	Normalized bool
	// method overrides the DFT method (tests and benchmarks).
	method *dftMethod
}

// Frames returns the number of frames of a signal of t samples:
// 1 + ⌊(t + NFFT·[Center] − NFFT)/Hop⌋.
func (c STFTConfig) Frames(t int) int {
	if c.Center {
		t += c.NFFT
	}
	return 1 + (t-c.NFFT)/c.Hop
}

func (c STFTConfig) plan() *stftPlan {
	if c.method != nil {
		return getPlanMethod(c.NFFT, c.Normalized, *c.method)
	}
	return getPlan(c.NFFT, c.Normalized)
}

// signalShape checks x (…, T) and returns the number of signals and T.
func signalShape(name string, x *core.Tensor) (signals, t int) {
	s := x.Shape()
	if len(s) == 0 || s[len(s)-1] == 0 {
		panic(fmt.Sprintf("dsp: %s: input %v has no time axis", name, s))
	}
	t = s[len(s)-1]
	return x.Len() / t, t
}

// STFTMagnitude returns the magnitude of the short-time Fourier transform of
// every signal of x (…, T) as (…, frames, NFFT/2+1), frame-major:
//
//	S[f][k] = |c·Σ_{t<NFFT} w[t]·x_pad[f·Hop + t]·e^{−2πi·k·t/NFFT}|,
//
// w the periodic Hann window, c = 1/√NFFT if Normalized else 1. It matches
// torch.stft(x, NFFT, Hop, NFFT, hann_window, center, "reflect",
// normalized, onesided=True, return_complex=True).abs() transposed to put
// frames before bins. The backward passes through the magnitude as PyTorch
// does, ∂|X|/∂X = X/|X|, with gradient 0 where |X| = 0.
func STFTMagnitude(tp *core.Tape, x *core.Tensor, cfg STFTConfig) *core.Tensor {
	signals, t := signalShape("STFTMagnitude", x)
	pl := cfg.plan()
	fr := newFraming(x.Data(), signals, t, cfg.NFFT, cfg.Hop, cfg.Center)
	nb := pl.bins()
	shape := append(append([]int(nil), x.Shape()[:len(x.Shape())-1]...), fr.frames, nb)
	out := core.New(nil, shape...)
	op := &stftOp{x: x, out: out, pl: pl, fr: fr}
	total := fr.total()
	cf := pl.chunkFrames(total)
	keep := tp != nil && x.RequiresGrad()
	var z, nyq []float32
	if keep {
		op.spec, op.nyq = bufs.GetSlice(total*pl.n), bufs.GetSlice(total)
	} else {
		z, nyq = bufs.GetSlice(cf*pl.n), bufs.GetSlice(cf)
		defer bufs.PutSlice(z)
		defer bufs.PutSlice(nyq)
	}
	od := out.Data()
	for g0 := 0; g0 < total; g0 += cf {
		c := min(cf, total-g0)
		if keep {
			z, nyq = op.spec[g0*pl.n:], op.nyq[g0:]
		}
		pl.forward(z, nyq, fr, g0, c)
		pl.eachBinRow(z, c, func(k2 int, re, im []float32) {
			for col, r := range re {
				k1, f := col/c, col%c
				i := im[col]
				od[(g0+f)*nb+pl.bin(k1, k2)] = float32(math.Sqrt(float64(r)*float64(r) + float64(i)*float64(i)))
			}
		})
		for f := range c {
			od[(g0+f)*nb+nb-1] = float32(math.Abs(float64(nyq[f])))
		}
	}
	fr.release() // the backward needs only the framing geometry
	tp.Record(op, out, x)
	return out
}

// eachBinRow calls fn, in parallel, for every stage-2 bin k2 < m2 of the
// chunk spectrum z (cf frames, slot layout) with its real and imaginary
// rows (n1·cf columns: column k1·cf + f is bin k1 + n1·k2 of frame f).
// Rows are disjoint, so fn may write per-row outputs freely.
func (p *stftPlan) eachBinRow(z []float32, cf int, fn func(k2 int, re, im []float32)) {
	l := p.cols(cf)
	split.For(p.m2, p.m2*l*8, func(lo, hi int) {
		for k2 := lo; k2 < hi; k2++ {
			fn(k2, z[k2*l:][:l], z[(p.m2+k2)*l:][:l])
		}
	})
}

type stftOp struct {
	x, out    *core.Tensor
	pl        *stftPlan
	fr        *framing
	spec, nyq []float32
}

// Backward propagates the gradient and then returns the kept spectrum to the
// buffer pool, so it may run only once per recording.
func (o *stftOp) Backward() {
	if o.spec == nil {
		panic("dsp: STFTMagnitude: backward ran twice on one recording (its spectrum is released after the first)")
	}
	defer func() {
		bufs.PutSlice(o.spec)
		bufs.PutSlice(o.nyq)
		o.spec, o.nyq = nil, nil
	}()
	g := o.out.Grad()
	if g == nil || !o.x.RequiresGrad() {
		return
	}
	pl, fr := o.pl, o.fr
	nb := pl.bins()
	total := fr.total()
	cf := pl.chunkFrames(total)
	dz, dnyq := bufs.GetSlice(cf*pl.n), bufs.GetSlice(cf)
	defer bufs.PutSlice(dz)
	defer bufs.PutSlice(dnyq)
	dpad := o.x.EnsureGrad()
	if fr.pad > 0 {
		dpad = getZeroed(fr.signals * fr.padded)
		defer bufs.PutSlice(dpad)
	}
	for g0 := 0; g0 < total; g0 += cf {
		c := min(cf, total-g0)
		z, nyq := o.spec[g0*pl.n:], o.nyq[g0:]
		l := pl.cols(c)
		pl.eachBinRow(z, c, func(k2 int, re, im []float32) {
			dre, dim := dz[k2*l:][:l], dz[(pl.m2+k2)*l:][:l]
			for col, r := range re {
				k1, f := col/c, col%c
				gm := float64(g[(g0+f)*nb+pl.bin(k1, k2)])
				i := float64(im[col])
				m := math.Sqrt(float64(r)*float64(r) + i*i)
				if m == 0 {
					dre[col], dim[col] = 0, 0
					continue
				}
				dre[col], dim[col] = float32(gm*float64(r)/m), float32(gm*i/m)
			}
		})
		for f := range c {
			dnyq[f] = g[(g0+f)*nb+nb-1] * sign32(nyq[f])
		}
		pl.adjoint(dpad, dz, dnyq, fr, g0, c)
	}
	if fr.pad > 0 {
		fr.foldInto(o.x.EnsureGrad(), dpad)
	}
}

// sign32 returns x/|x|, and 0 for x = 0 (torch.sgn).
func sign32(x float32) float32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
