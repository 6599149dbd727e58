package dsp

import (
	"fmt"
	"math"

	"github.com/ravestation/rave/core"
)

// LoudnessMeter is RAVE v1's A-weighted loudness (rave/core.py Loudness,
// rave-spec §6.1):
//
//	L[f] = mean_k ( log(|STFT(x)|[f][k] + 1e-7) + A[k] ),
//
// with an unnormalised, centred (reflect-padded) STFT of NFFT = 2048 and a
// periodic Hann window, A the A-weighting in dB (LoudnessAWeight: librosa's
// curve at linspace(0, sr/2, NFFT/2+1) + 1e-7, rounded to float32). It adds
// dB to natural-log magnitudes, as the reference does. A LoudnessMeter is
// immutable and safe for concurrent use.
type LoudnessMeter struct {
	nFFT, hop int
	aWeight   []float32 // per natural bin
	meanA     float64   // mean of aWeight: mean_k(log S + A) = mean_k log S + meanA
	pl        *stftPlan
}

// NewLoudnessMeter returns RAVE v1's loudness meter for sample rate sr with
// the given hop (the reference's block_size: 512 for v1) and NFFT 2048.
func NewLoudnessMeter(sr float64, hop int) *LoudnessMeter {
	return newLoudnessMeter(sr, 2048, hop)
}

func newLoudnessMeter(sr float64, nFFT, hop int) *LoudnessMeter {
	if sr <= 0 {
		panic(fmt.Sprintf("dsp: NewLoudnessMeter: sample rate %g", sr))
	}
	pl := getPlan(nFFT, false)
	m := &LoudnessMeter{nFFT: nFFT, hop: hop, aWeight: LoudnessAWeight(sr, nFFT), pl: pl}
	for _, a := range m.aWeight {
		m.meanA += float64(a)
	}
	m.meanA /= float64(len(m.aWeight))
	return m
}

// AWeight returns a copy of the A-weighting buffer (NFFT/2+1, 1), the
// reference's `loudness.a_weight`, named so.
func (m *LoudnessMeter) AWeight() *core.Tensor {
	t := core.New(append([]float32(nil), m.aWeight...), len(m.aWeight), 1)
	t.Name = "loudness.a_weight"
	return t
}

// Window returns the Hann window buffer (NFFT), the reference's
// `loudness.window`, named so.
func (m *LoudnessMeter) Window() *core.Tensor {
	t := core.New(HannWindow(m.nFFT), m.nFFT)
	t.Name = "loudness.window"
	return t
}

// Frames returns the number of loudness frames of a signal of t samples,
// 1 + ⌊t/hop⌋.
func (m *LoudnessMeter) Frames(t int) int { return 1 + t/m.hop }

// Loudness returns the loudness curve of every signal of x (…, T) as
// (…, frames); for the reference's input (B, 1, T) that is (B, 1, frames),
// what Loudness.forward returns. Where |X| = 0 the gradient through the
// magnitude is 0, as in PyTorch.
func (m *LoudnessMeter) Loudness(tp *core.Tape, x *core.Tensor) *core.Tensor {
	signals, t := signalShape("LoudnessMeter.Loudness", x)
	pl := m.pl
	fr := newFraming(x.Data(), signals, t, m.nFFT, m.hop, true)
	shape := append(append([]int(nil), x.Shape()[:len(x.Shape())-1]...), fr.frames)
	out := core.New(nil, shape...)
	total := fr.total()
	cf := pl.chunkFrames(total)
	op := &loudnessOp{m: m, x: x, out: out, fr: fr}
	keep := tp != nil && x.RequiresGrad()
	var z, nyq []float32
	if keep {
		op.spec, op.nyq = bufs.GetSlice(total*pl.n), bufs.GetSlice(total)
	} else {
		z, nyq = bufs.GetSlice(cf*pl.n), bufs.GetSlice(cf)
		defer bufs.PutSlice(z)
		defer bufs.PutSlice(nyq)
	}
	colSum := make([]float32, pl.cols(cf))
	nb := float64(pl.bins())
	od := out.Data()
	for g0 := 0; g0 < total; g0 += cf {
		c := min(cf, total-g0)
		if keep {
			z, nyq = op.spec[g0*pl.n:], op.nyq[g0:]
		}
		pl.forward(z, nyq, fr, g0, c)
		// Σ_k2 log(S + 1e-7) per column, in parallel over column ranges.
		l := pl.cols(c)
		split.For(l, l*pl.n2*4, func(lo, hi int) {
			cs := colSum[lo:hi]
			clear(cs)
			for k2 := range pl.m2 {
				re, im := z[k2*l+lo:][:hi-lo], z[(pl.m2+k2)*l+lo:][:hi-lo]
				for j, r := range re {
					i := im[j]
					cs[j] += log32(float32(math.Sqrt(float64(r*r+i*i))) + 1e-7)
				}
			}
		})
		for f := range c {
			s := math.Log(math.Abs(float64(nyq[f])) + 1e-7)
			for k1 := range pl.n1 {
				s += float64(colSum[k1*c+f])
			}
			od[g0+f] = float32(s/nb + m.meanA)
		}
	}
	fr.release() // the backward needs only the framing geometry
	tp.Record(op, out, x)
	return out
}

// Distance returns RAVE v1's loudness distance mean((L(x) − L(y))²)
// (rave/model.py training_step, rave-spec §6.1) as a differentiable scalar.
func (m *LoudnessMeter) Distance(tp *core.Tape, x, y *core.Tensor) *core.Tensor {
	return LoudnessDistance(tp, m.Loudness(tp, x), m.Loudness(tp, y))
}

// LoudnessDistance returns mean((lx − ly)²) for two loudness curves.
func LoudnessDistance(tp *core.Tape, lx, ly *core.Tensor) *core.Tensor {
	return tp.Mean(tp.Square(tp.Sub(lx, ly)), false)
}

type loudnessOp struct {
	m         *LoudnessMeter
	x, out    *core.Tensor
	fr        *framing
	spec, nyq []float32
}

// Backward: ∂L[f]/∂X[f][k] = X/(|X|·(|X| + 1e-7)·(NFFT/2+1)).
// It then returns the kept spectrum to the buffer pool, so it may run only
// once per recording.
func (o *loudnessOp) Backward() {
	if o.spec == nil {
		panic("dsp: LoudnessMeter: backward ran twice on one recording (its spectrum is released after the first)")
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
	pl, fr := o.m.pl, o.fr
	total := fr.total()
	cf := pl.chunkFrames(total)
	nb := float64(pl.bins())
	dpad, dz, dnyq := adjointScratch(fr, cf, pl.n)
	defer putSlices(dpad, dz, dnyq)
	for g0 := 0; g0 < total; g0 += cf {
		c := min(cf, total-g0)
		z, nyq := o.spec[g0*pl.n:], o.nyq[g0:]
		l := pl.cols(c)
		pl.eachBinRow(z, c, func(k2 int, re, im []float32) {
			dre, dim := dz[k2*l:][:l], dz[(pl.m2+k2)*l:][:l]
			for col, r := range re {
				gf := float64(g[g0+col%c]) / nb
				i := float64(im[col])
				s := math.Sqrt(float64(r)*float64(r) + i*i)
				if s == 0 {
					dre[col], dim[col] = 0, 0
					continue
				}
				q := gf / ((s + 1e-7) * s)
				dre[col], dim[col] = float32(q*float64(r)), float32(q*i)
			}
		})
		for fl := range c {
			v := float64(nyq[fl])
			dnyq[fl] = float32(float64(g[g0+fl]) / nb / (math.Abs(v) + 1e-7) * float64(sign32(nyq[fl])))
		}
		pl.adjoint(dpad, dz, dnyq, fr, g0, c)
	}
	fr.foldInto(o.x.EnsureGrad(), dpad)
}
