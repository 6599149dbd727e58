package dsp

import (
	"fmt"
	"math"
	"sync"

	"github.com/ravestation/rave/core/internal/sgemm"
	"gonum.org/v1/gonum/dsp/fourier"
)

// This file holds the DFT engine behind every spectral op of the package:
// the windowed, one-sided DFT of many overlapping frames and its adjoint.
//
// For an FFT size n = n1·n2 the transform of a windowed frame u is the
// "four-step" factorisation, each small DFT done as a GEMM on core's sgemm:
//
//	t = n2·t1 + t2,  k = k1 + n1·k2,
//	Y[t2][k1] = Σ_t1 u[n2·t1 + t2]·e^{−2πi·t1·k1/n1}               (stage 1, real input)
//	X[k1 + n1·k2] = c·Σ_t2 Y[t2][k1]·e^{−2πi·t2·(k1 + n1·k2)/n}     (stage 2)
//
// Stage 1 is one GEMM per chunk of frames and computes only k1 ≤ n1/2;
// stage 2 is one small GEMM per k1, the twiddle e^{−2πi·t2·k1/n} folded
// into its matrix, reading k1 > n1/2 through Y[t2][n1−k1] = conj(Y[t2][k1]).
// (An explicit twiddle pass followed by one wide stage-2 GEMM was tried: the
// wide GEMM is ~1.8× faster, but the extra pass over the data made whole
// transforms 1.2–1.8× slower.) Only k2 < n2/2 is computed, which yields the
// bins 0…n/2−1 exactly once; the real Nyquist bin c·Σ_t (−1)^t·u[t] comes
// from the stage-1 output. n1 = 1 is the plain DFT-basis GEMM.
//
// A chunk's spectrum z is an (n2 × L) matrix, L = n1·cf columns for cf
// frames: row k2 holds Re X and row m2 + k2 holds Im X (m2 = n2/2) of the
// bin k1 + n1·k2 of frame f in column k1·cf + f. The losses only sum over
// bins, so they never undo this "slot" order; the STFT op permutes at the
// end. gonum's real FFT can fill the same layout (n1 = 1); it is kept to
// measure against (BenchmarkDFTMethods).

// chunkSamples is the number of frame samples (frames × n) transformed at
// once: large enough for efficient GEMMs, small enough to stay in cache
// (1 MiB per buffer). 2^16…2^19 measured within noise of each other on the
// 2-core development machine, 2^18 slightly ahead for the full-band loss.
const chunkSamples = 1 << 18

// dftMethod says how one FFT size is computed.
type dftMethod struct {
	n1  int  // stage-1 size (1 = direct DFT-basis GEMM)
	fft bool // gonum real FFT instead of GEMMs
}

// dftMethods is the per-size choice, measured with BenchmarkDFTMethods:
// one forward and one adjoint transform of all frames of 8 × 65 536
// samples (hop n/4, the v1 full-band loss), 2 threads, in ms (ranges over
// several runs on the shared 2-core AMD EPYC development machine, which was
// loaded by other jobs; AVX-512 sgemm):
//
//	n      gonum FFT (f64)   direct DFT GEMM   two-stage GEMM (n1)
//	2048   63–90             80–135            17–20 (64), 20–34 (32), 22–37 (16)
//	1024   52–92             41–92             11–15 (32), 12–19 (16), 14–18 (64)
//	512    46–94             25–47             10–12 (16), 10–16 (8), 13–18 (32)
//	256    59–85             17–27             11–14 (8), 13–18 (4), 13–17 (16)
//	128    38–94             12–21             11–12 (4), 12–15 (8)
//
// The two-stage GEMM wins at every size; gonum's FFT (parallel over frames)
// is 3–5× slower than the best GEMM method. On an Intel Xeon (AVX-512, 2
// threads) the ranking was the same except n = 128, where the direct GEMM
// was ~20% faster. Sizes not listed use defaultMethod.
var dftMethods = map[int]dftMethod{
	4096: {n1: 64},
	2048: {n1: 64},
	1024: {n1: 32},
	512:  {n1: 16},
	256:  {n1: 8},
	128:  {n1: 4},
}

// defaultMethod returns the method used for an FFT size missing from
// dftMethods: two stages of about √n each.
func defaultMethod(n int) dftMethod {
	if m, ok := dftMethods[n]; ok {
		return m
	}
	n1 := 1
	for n1*n1 < n {
		n1 *= 2
	}
	if n1 > 1 && n/n1 < 2 {
		n1 /= 2
	}
	if n < 16 {
		n1 = 1
	}
	return dftMethod{n1: n1}
}

// stftPlan holds the constant matrices of one FFT size. It is immutable and
// shared.
type stftPlan struct {
	n, n1, n2 int
	h1, m2    int // stage-1 bins kept (n1/2+1), stage-2 bins computed (n2/2)
	useFFT    bool
	scale     float32   // c: 1, or 1/√n for normalized transforms
	window    []float32 // periodic Hann, float32 as torch builds it
	w1t       []float32 // (2·h1 × n1): rows cos(2π·t1·k1/n1), then −sin (n1 > 1)
	a, b      []float32 // per k1, (n2 × n2) stage-2 matrices, see newPlan
	ffts      sync.Pool // *fftWork, gonum backend only
}

type fftWork struct {
	f    *fourier.FFT
	seq  []float64
	coef []complex128
}

type planKey struct {
	n          int
	normalized bool
	method     dftMethod
}

var plans sync.Map // planKey → *stftPlan

// getPlan returns the shared plan for an FFT size with the default method.
func getPlan(n int, normalized bool) *stftPlan {
	return getPlanMethod(n, normalized, defaultMethod(n))
}

func getPlanMethod(n int, normalized bool, m dftMethod) *stftPlan {
	k := planKey{n, normalized, m}
	if p, ok := plans.Load(k); ok {
		return p.(*stftPlan)
	}
	p, _ := plans.LoadOrStore(k, newPlan(n, normalized, m))
	return p.(*stftPlan)
}

// cosSin returns cos and sin of 2π·num/den, exact at the quarter turns
// (so that the imaginary parts of real bins are exactly zero).
func cosSin(num, den int) (float64, float64) {
	num %= den
	switch {
	case num == 0:
		return 1, 0
	case 4*num == den:
		return 0, 1
	case 2*num == den:
		return -1, 0
	case 4*num == 3*den:
		return 0, -1
	}
	th := 2 * math.Pi * float64(num) / float64(den)
	return math.Cos(th), math.Sin(th)
}

// newPlan builds the matrices of one FFT size. n must be a power of two ≥ 4.
//
// Stage-2 matrices, rows Re X[k2] then Im X[k2] (k2 < m2), columns t2,
// θ = 2π·t2·(k1 + n1·k2)/n, and s = +1 for k1 ≤ n1/2, −1 above (where Y is
// read conjugated):
//
//	A[k1] = c·[cos θ; −sin θ],   B[k1] = s·c·[sin θ; cos θ],
//
// so that X[:, k1] = A[k1]·Re Y[k1']ᵀ + B[k1]·Im Y[k1']ᵀ, k1' = min(k1, n1−k1).
// For n1 = 1, A is the whole DFT-basis matrix and B is not needed.
func newPlan(n int, normalized bool, m dftMethod) *stftPlan {
	if n < 4 || n&(n-1) != 0 {
		panic(fmt.Sprintf("dsp: FFT size %d is not a power of two ≥ 4", n))
	}
	if m.fft {
		m.n1 = 1
	}
	if m.n1 < 1 || n%m.n1 != 0 || n/m.n1 < 2 {
		panic(fmt.Sprintf("dsp: bad DFT factorisation %d = %d·%d", n, m.n1, n/max(m.n1, 1)))
	}
	p := &stftPlan{n: n, n1: m.n1, n2: n / m.n1, useFFT: m.fft, scale: 1, window: HannWindow(n)}
	p.h1, p.m2 = p.n1/2+1, p.n2/2
	c := 1.0
	if normalized {
		c = 1 / math.Sqrt(float64(n))
		p.scale = float32(c)
	}
	if p.useFFT {
		p.ffts.New = func() any {
			return &fftWork{f: fourier.NewFFT(n), seq: make([]float64, n), coef: make([]complex128, n/2+1)}
		}
		return p
	}
	n1, n2, h1, m2 := p.n1, p.n2, p.h1, p.m2
	if n1 > 1 {
		p.w1t = make([]float32, 2*h1*n1)
		for k1 := range h1 {
			for t1 := range n1 {
				cs, sn := cosSin(t1*k1, n1)
				p.w1t[k1*n1+t1] = float32(cs)
				p.w1t[(h1+k1)*n1+t1] = float32(-sn)
			}
		}
		p.b = make([]float32, n1*n2*n2)
	}
	p.a = make([]float32, n1*n2*n2)
	for k1 := range n1 {
		s := c
		if k1 >= h1 {
			s = -c
		}
		a := p.a[k1*n2*n2:][:n2*n2]
		for k2 := range m2 {
			for t2 := range n2 {
				cs, sn := cosSin(t2*(k1+n1*k2), n)
				a[k2*n2+t2], a[(m2+k2)*n2+t2] = float32(c*cs), float32(-c*sn)
				if n1 > 1 {
					b := p.b[k1*n2*n2:][:n2*n2]
					b[k2*n2+t2], b[(m2+k2)*n2+t2] = float32(s*sn), float32(s*cs)
				}
			}
		}
	}
	return p
}

// bins returns the number of one-sided bins, n/2+1.
func (p *stftPlan) bins() int { return p.n/2 + 1 }

// bin returns the natural bin index of slot (k1, k2).
func (p *stftPlan) bin(k1, k2 int) int { return k1 + p.n1*k2 }

// framing describes `signals` signals of length T cut into frames of n
// samples every hop samples, after optional reflect padding of n/2 on both
// sides (torch.stft center=True, pad_mode="reflect").
type framing struct {
	hop     int
	signals int
	length  int       // T
	padded  int       // length of each padded signal
	pad     int       // left padding
	frames  int       // frames per signal
	src     []float32 // signals × padded
	owned   bool      // src is a pooled padded copy
}

// newFraming frames x (signals × T). With center it builds the reflect
// padded copy; otherwise it frames x in place.
func newFraming(x []float32, signals, t, n, hop int, center bool) *framing {
	if hop <= 0 || n%hop != 0 || hop%2 != 0 {
		panic(fmt.Sprintf("dsp: hop %d must be even and divide the FFT size %d", hop, n))
	}
	fr := &framing{hop: hop, signals: signals, length: t, padded: t, src: x}
	if center {
		fr.pad = n / 2
		if fr.pad >= t {
			panic(fmt.Sprintf("dsp: reflect padding %d needs signals longer than %d samples (got %d)", fr.pad, fr.pad, t))
		}
		fr.padded = t + 2*fr.pad
		fr.src, fr.owned = bufs.GetSlice(signals*fr.padded), true
		split.For(signals, signals*fr.padded, func(lo, hi int) {
			for s := lo; s < hi; s++ {
				reflectPad(fr.src[s*fr.padded:][:fr.padded], x[s*t:][:t], fr.pad)
			}
		})
	}
	if fr.padded < n {
		panic(fmt.Sprintf("dsp: signal of %d samples shorter than the FFT size %d", fr.padded, n))
	}
	fr.frames = 1 + (fr.padded-n)/hop
	return fr
}

// release returns the padded copy to the buffer pool.
func (fr *framing) release() {
	if fr.owned {
		bufs.PutSlice(fr.src)
		fr.src, fr.owned = nil, false
	}
}

// foldInto adds the padded-signal gradient dpad (signals × padded) to g
// (signals × length), undoing the reflect padding.
func (fr *framing) foldInto(g, dpad []float32) {
	split.For(fr.signals, fr.signals*fr.padded, func(lo, hi int) {
		for s := lo; s < hi; s++ {
			gs := g[s*fr.length:][:fr.length]
			ds := dpad[s*fr.padded:][:fr.padded]
			if fr.pad == 0 {
				for i, v := range ds {
					gs[i] += v
				}
				continue
			}
			reflectFold(gs, ds, fr.pad)
		}
	})
}

// total returns the number of frames over all signals.
func (fr *framing) total() int { return fr.signals * fr.frames }

// reflectPad writes x with pad samples mirrored on both sides (the edge
// sample not repeated) into dst (len(x) + 2·pad).
func reflectPad(dst, x []float32, pad int) {
	t := len(x)
	copy(dst[pad:], x)
	for i := range pad {
		dst[pad-1-i] = x[i+1]
		dst[pad+t+i] = x[t-2-i]
	}
}

// reflectFold adds the adjoint of reflectPad: the padded gradient dpad
// folded back onto dx.
func reflectFold(dx, dpad []float32, pad int) {
	t := len(dx)
	for i, v := range dpad[pad:][:t] {
		dx[i] += v
	}
	for i := range pad {
		dx[i+1] += dpad[pad-1-i]
		dx[t-2-i] += dpad[pad+t+i]
	}
}

// adjointFrames is the number of frames of one work item of the adjoint's
// stage 2.
const adjointFrames = 256

// chunkFrames returns how many frames are transformed together.
func (p *stftPlan) chunkFrames(total int) int {
	return max(1, min(total, chunkSamples/p.n))
}

// cols returns the number of spectrum columns of a chunk of cf frames.
func (p *stftPlan) cols(cf int) int { return p.n1 * cf }

// needsImag reports whether stage 2 must read the imaginary part of
// Y[·][k1]; it is identically zero for k1' = 0 and k1' = n1/2.
func (p *stftPlan) needsImag(k1 int) bool {
	k := min(k1, p.n1-k1)
	return p.n1 > 1 && k != 0 && 2*k != p.n1
}

// forward transforms frames [g0, g0+cf) of fr into z (n2 × n1·cf, the slot
// layout described at the top of this file) and nyq (cf real Nyquist
// bins).
func (p *stftPlan) forward(z, nyq []float32, fr *framing, g0, cf int) {
	n, n1, n2 := p.n, p.n1, p.n2
	u := bufs.GetSlice(cf * n)
	defer bufs.PutSlice(u)
	p.gather(u, fr, g0, cf)
	switch {
	case p.useFFT:
		p.nyquist(nyq, u, cf)
		p.fftForward(z, u, cf)
	case n1 == 1:
		p.nyquist(nyq, u, cf)
		// z (n × cf) = A (n × n) · uᵀ, u holding one frame per row
		sgemm.Sgemm(false, true, n, cf, n, 1, p.a, n, u, n, 0, z, cf)
	default:
		w := cf * n2
		q := bufs.GetSlice(2 * p.h1 * w)
		defer bufs.PutSlice(q)
		sgemm.Sgemm(false, false, 2*p.h1, w, n1, 1, p.w1t, n1, u, w, 0, q, w)
		p.nyquist(nyq, q, cf)
		l := p.cols(cf)
		split.For(n1, cf*n*n2, func(lo, hi int) {
			for k1 := lo; k1 < hi; k1++ {
				kk := min(k1, n1-k1)
				zk := z[k1*cf:]
				sgemm.Sgemm(false, true, n2, cf, n2, 1, p.a[k1*n2*n2:], n2, q[kk*w:], n2, 0, zk, l)
				if p.needsImag(k1) {
					sgemm.Sgemm(false, true, n2, cf, n2, 1, p.b[k1*n2*n2:], n2, q[(p.h1+kk)*w:], n2, 1, zk, l)
				}
			}
		})
	}
}

// adjoint adds to dpad (signals × padded) the gradient of a loss whose
// gradient with respect to the chunk's spectrum is dz (slot layout, as
// forward writes it) and dnyq.
func (p *stftPlan) adjoint(dpad, dz, dnyq []float32, fr *framing, g0, cf int) {
	n, n1, n2 := p.n, p.n1, p.n2
	du := bufs.GetSlice(cf * n)
	defer bufs.PutSlice(du)
	switch {
	case p.useFFT:
		p.fftAdjoint(du, dz, cf)
	case n1 == 1:
		// du (cf × n) = dzᵀ (cf × n) · A (n × n)
		sgemm.Sgemm(true, false, cf, n, n, 1, dz, cf, p.a, n, 0, du, n)
	default:
		w, l := cf*n2, p.cols(cf)
		dq := bufs.GetSlice(2 * p.h1 * w)
		defer bufs.PutSlice(dq)
		// Work items are (stage-1 bin kk, block of frames): each owns the
		// block's rows of dq for bin kk and adds the contributions of
		// k1 = kk and of its conjugate mirror n1 − kk, in that order. With
		// whole bins as items the few bins of the small sizes (3 for
		// n = 128, the middle one doing four products and the ends one)
		// left one thread with most of the work. The blocks depend on the
		// chunk only, so the result does not depend on the thread count.
		nfb := (cf + adjointFrames - 1) / adjointFrames
		split.For(p.h1*nfb, cf*n*n2, func(lo, hi int) {
			for it := lo; it < hi; it++ {
				kk, f0 := it/nfb, it%nfb*adjointFrames
				nf := min(adjointFrames, cf-f0)
				dr, di := dq[kk*w+f0*n2:][:nf*n2], dq[(p.h1+kk)*w+f0*n2:][:nf*n2]
				clear(dr)
				clear(di)
				for i, k1 := range [2]int{kk, n1 - kk} {
					if i == 1 && (k1 >= n1 || k1 == kk) {
						continue
					}
					dzk := dz[k1*cf+f0:]
					sgemm.Sgemm(true, false, nf, n2, n2, 1, dzk, l, p.a[k1*n2*n2:], n2, 1, dr, n2)
					if p.needsImag(k1) {
						sgemm.Sgemm(true, false, nf, n2, n2, 1, dzk, l, p.b[k1*n2*n2:], n2, 1, di, n2)
					}
				}
			}
		})
		sgemm.Sgemm(true, false, n1, w, 2*p.h1, 1, p.w1t, n1, dq, w, 0, du, w)
	}
	p.scatter(dpad, du, dnyq, fr, g0, cf)
}

// gather fills u (n1 rows of cf·n2: u[t1][frame·n2 + t2] = w[t]·x[t] for
// t = n2·t1 + t2) with the windowed frames.
func (p *stftPlan) gather(u []float32, fr *framing, g0, cf int) {
	n, n1, n2 := p.n, p.n1, p.n2
	split.For(cf, cf*n, func(lo, hi int) {
		for fl := lo; fl < hi; fl++ {
			g := g0 + fl
			s, f := g/fr.frames, g%fr.frames
			src := fr.src[s*fr.padded+f*fr.hop:][:n]
			for t1 := range n1 {
				dst := u[t1*cf*n2+fl*n2:][:n2]
				seg := src[t1*n2:][:n2]
				w := p.window[t1*n2:][:n2]
				for t2, v := range seg {
					dst[t2] = w[t2] * v
				}
			}
		}
	})
}

// nyquist fills nyq with the real Nyquist bins c·Σ_t (−1)^t·u[t] of the
// chunk's frames from y0 (cf rows of n2: the stage-1 bin k1 = 0,
// Σ_t1 u[n2·t1 + t2], or the windowed frame itself when n1 = 1); n2 is
// even, so (−1)^t = (−1)^t2.
func (p *stftPlan) nyquist(nyq, y0 []float32, cf int) {
	c := float64(p.scale)
	split.For(cf, cf*p.n2, func(lo, hi int) {
		for fl := lo; fl < hi; fl++ {
			row := y0[fl*p.n2:][:p.n2]
			var even, odd float64
			for t := 0; t < len(row); t += 2 {
				even += float64(row[t])
				odd += float64(row[t+1])
			}
			nyq[fl] = float32(c * (even - odd))
		}
	})
}

// scatter is the adjoint of gather: dpad[t] += w[t]·(du[…] + c·(−1)^t·dnyq)
// over every frame of the chunk. It runs in parallel over blocks of hop
// samples, adding the (at most n/hop) frames covering a block in increasing
// order, so the result does not depend on the thread count.
func (p *stftPlan) scatter(dpad, du, dnyq []float32, fr *framing, g0, cf int) {
	n, n2, hop := p.n, p.n2, fr.hop
	r := n / hop
	run := min(n2, hop)
	c := p.scale
	type span struct{ s, fa, fb, first int }
	var spans []span
	blocks := 0
	for s := g0 / fr.frames; s*fr.frames < g0+cf; s++ {
		fa := max(g0, s*fr.frames) - s*fr.frames
		fb := min(g0+cf, (s+1)*fr.frames) - s*fr.frames
		spans = append(spans, span{s, fa, fb, blocks})
		blocks += fb - fa + r - 1
	}
	split.For(blocks, cf*n, func(lo, hi int) {
		si := 0
		for bi := lo; bi < hi; bi++ {
			for si+1 < len(spans) && spans[si+1].first <= bi {
				si++
			}
			sp := spans[si]
			j := sp.fa + bi - sp.first
			out := dpad[sp.s*fr.padded+j*hop:][:hop]
			for f := max(sp.fa, j-r+1); f <= min(sp.fb-1, j); f++ {
				fl := sp.s*fr.frames + f - g0
				t0 := (j - f) * hop
				cn := c * dnyq[fl]
				for k := 0; k < hop; k += run {
					t := t0 + k
					src := du[(t/n2)*cf*n2+fl*n2+t%n2:][:run]
					w := p.window[t:][:run]
					o := out[k:][:run]
					for i := 0; i < run; i += 2 {
						o[i] += w[i] * (src[i] + cn)
						o[i+1] += w[i+1] * (src[i+1] - cn)
					}
				}
			}
		}
	})
}

// fftForward fills z (n1 = 1 slot layout: rows Re X[k], then Im X[k],
// k < n/2, one column per frame) from the windowed frames u (cf × n) with
// gonum's real FFT.
func (p *stftPlan) fftForward(z, u []float32, cf int) {
	n, m2 := p.n, p.m2
	c := float64(p.scale)
	p.forFrames(cf, func(w *fftWork, fl int) {
		for t, v := range u[fl*n:][:n] {
			w.seq[t] = float64(v)
		}
		w.f.Coefficients(w.coef, w.seq)
		for k := range m2 {
			z[k*cf+fl] = float32(c * real(w.coef[k]))
			z[(m2+k)*cf+fl] = float32(c * imag(w.coef[k]))
		}
	})
}

// fftAdjoint computes du (cf × n) = the adjoint of fftForward applied to dz:
// du[t] = c·Re Σ_{k<n/2} (dzRe_k + i·dzIm_k)·e^{2πikt/n}, through gonum's
// unnormalised inverse (which doubles the bins 1…n/2−1).
func (p *stftPlan) fftAdjoint(du, dz []float32, cf int) {
	n, m2 := p.n, p.m2
	c := float64(p.scale)
	p.forFrames(cf, func(w *fftWork, fl int) {
		w.coef[0] = complex(c*float64(dz[fl]), 0)
		for k := 1; k < m2; k++ {
			w.coef[k] = complex(c*float64(dz[k*cf+fl])/2, c*float64(dz[(m2+k)*cf+fl])/2)
		}
		w.coef[m2] = 0
		w.f.Sequence(w.seq, w.coef)
		for t, v := range w.seq {
			du[fl*n+t] = float32(v)
		}
	})
}

// forFrames calls fn for every frame fl < cf, frames split over
// goroutines (disjoint outputs), each goroutine with an FFT workspace of
// its own.
func (p *stftPlan) forFrames(cf int, fn func(w *fftWork, fl int)) {
	split.For(cf, cf*p.n*8, func(lo, hi int) {
		w := p.ffts.Get().(*fftWork)
		defer p.ffts.Put(w)
		for fl := lo; fl < hi; fl++ {
			fn(w, fl)
		}
	})
}
