package dsp

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/ravestation/rave/core"
)

// PQMF is RAVE's pseudo-quadrature mirror filter bank (rave/pqmf.py
// CachedPQMF, rave-spec §2): a Kaiser prototype optimised with Nelder–Mead,
// cosine-modulated into M bands, used as one strided convolution for the
// analysis and one polyphase convolution for the synthesis (centred
// padding). Its buffers are exactly the reference's `pqmf.h`, `pqmf.hk`,
// `pqmf.forward_conv.weight` and `pqmf.inverse_conv.weight`. A PQMF is
// immutable and safe for concurrent use.
type PQMF struct {
	bands  int
	taps   int     // N, prototype length
	length int     // L = 2^⌈log2 N⌉, padded filter length
	cutoff float64 // optimised ω_c (radians per sample)
	delay  int

	h   *core.Tensor // (N)
	hk  *core.Tensor // (M, L)
	fwd *core.Tensor // (M, 1, L+1)
	inv *core.Tensor // (M, M, L/M+1)
	// synth is inv with its output channels reversed and scaled by M, so that
	// the synthesis is one convolution and an interleave.
	synth *core.Tensor
}

// NewPQMF designs an M-band PQMF with the given stop-band attenuation in dB
// (RAVE: 16 bands, 100 dB; 70 dB for v1 no_latency). bands must be a power
// of two ≥ 2.
func NewPQMF(bands int, attenuationDB float64) (*PQMF, error) {
	if bands < 2 || bands&(bands-1) != 0 {
		return nil, fmt.Errorf("dsp: NewPQMF: %d bands, want a power of two ≥ 2", bands)
	}
	if !(attenuationDB > 21) || attenuationDB > 300 {
		return nil, fmt.Errorf("dsp: NewPQMF: attenuation %g dB outside (21, 300]", attenuationDB)
	}
	h64, wc := designPrototype(attenuationDB, bands)
	n := len(h64)
	l := 1 << bits.Len(uint(n-1)) // next power of two ≥ n
	if l%bands != 0 || l < 2*bands {
		return nil, fmt.Errorf("dsp: NewPQMF: %d-tap prototype too short for %d bands", n, bands)
	}
	p := &PQMF{bands: bands, taps: n, length: l, cutoff: wc}
	h := make([]float32, n)
	for i, v := range h64 {
		h[i] = float32(v)
	}
	p.h = core.New(h, n)
	p.hk = core.New(qmfBank(h, bands, l), bands, l)
	p.fwd, p.inv, p.synth = polyphaseWeights(p.hk.Data(), bands, l)
	p.h.Name, p.hk.Name = "pqmf.h", "pqmf.hk"
	p.fwd.Name, p.inv.Name = "pqmf.forward_conv.weight", "pqmf.inverse_conv.weight"
	p.delay = p.measureDelay()
	return p, nil
}

// qmfBank is get_qmf_bank + center_pad_next_pow_2 (rave/pqmf.py) computed
// with torch's float32 rounding at every step:
//
//	hk[k][n] = 2·h[n]·cos((2k+1)·π/(2M)·t_n + (−1)^k·π/4),  t_n = n − (N−1)/2,
//
// each row zero-padded to l taps, ⌊(l−N)/2⌋ on the left.
func qmfBank(h []float32, bands, l int) []float32 {
	n := len(h)
	left := (l - n) / 2
	pi32 := float32(math.Pi)
	hk := make([]float32, bands*l)
	for k := range bands {
		phase := pi32 / 4
		if k%2 == 1 {
			phase = -pi32 / 4
		}
		freq := float32(2*k+1) * pi32 / float32(2*bands)
		for i := range n {
			t := float32(i - n/2)
			arg := freq*t + phase
			mod := float32(math.Cos(float64(arg)))
			hk[k*l+left+i] = (2 * h[i]) * mod
		}
	}
	return hk
}

// polyphaseWeights builds CachedPQMF's convolution weights from hk (M, L):
// the analysis kernel hk with one zero tap appended, (M, 1, L+1), and the
// synthesis kernel G[p][c][t] = hk[c][L−1−(M·t+p)] with one zero tap
// appended, (M, M, L/M+1) (rave-spec §2.4–2.5).
func polyphaseWeights(hk []float32, m, l int) (fwd, inv, synth *core.Tensor) {
	fwd = core.Zeros(m, 1, l+1)
	fd := fwd.Data()
	for k := range m {
		copy(fd[k*(l+1):][:l], hk[k*l:][:l])
	}
	kt := l / m
	inv = core.Zeros(m, m, kt+1)
	synth = core.Zeros(m, m, kt+1)
	id, sd := inv.Data(), synth.Data()
	for p := range m {
		for c := range m {
			for t := range kt {
				v := hk[c*l+l-1-(m*t+p)]
				id[(p*m+c)*(kt+1)+t] = v
				sd[((m-1-p)*m+c)*(kt+1)+t] = v * float32(m)
			}
		}
	}
	return fwd, inv, synth
}

// Bands returns the number of bands M.
func (p *PQMF) Bands() int { return p.bands }

// Taps returns the prototype length N (377 for 16 bands at 100 dB).
func (p *PQMF) Taps() int { return p.taps }

// FilterLength returns the padded filter length L (512 for 16 bands at
// 100 dB).
func (p *PQMF) FilterLength() int { return p.length }

// Cutoff returns the optimised prototype cutoff ω_c in radians per sample.
func (p *PQMF) Cutoff() float64 { return p.cutoff }

// H returns the prototype low-pass, the reference buffer `pqmf.h` (N),
// named so. The caller must not modify it.
func (p *PQMF) H() *core.Tensor { return p.h }

// HK returns the cosine-modulated bank padded to L taps, the reference
// buffer `pqmf.hk` (M, L), named so. The caller must not modify it.
func (p *PQMF) HK() *core.Tensor { return p.hk }

// AnalysisWeight returns the analysis kernel, the reference
// `pqmf.forward_conv.weight` (M, 1, L+1), named so. The caller must not
// modify it.
func (p *PQMF) AnalysisWeight() *core.Tensor { return p.fwd }

// SynthesisWeight returns the polyphase synthesis kernel, the reference
// `pqmf.inverse_conv.weight` (M, M, L/M+1), named so. The caller must not
// modify it.
func (p *PQMF) SynthesisWeight() *core.Tensor { return p.inv }

// Delay returns the offline delay of Synthesis(Analysis(x)) in samples:
// x̂[n] ≈ x[n − Delay()] (16 for 16 bands at 100 dB, rave-spec §2.6). It is
// measured at construction from the impulse response of the pair.
func (p *PQMF) Delay() int { return p.delay }

// Analysis splits x (B, 1, T) into M bands (B, M, T/M), as CachedPQMF.forward:
// u = conv1d(x, AnalysisWeight, stride M, zero padding (L/2, L/2)), then the
// "reverse_half" sign flip ũ_k[m] = −u_k[m] for odd k and even m
// (rave-spec §2.4). T must be a multiple of M.
func (p *PQMF) Analysis(tp *core.Tape, x *core.Tensor) *core.Tensor {
	s := x.Shape()
	if len(s) != 3 || s[1] != 1 || s[2]%p.bands != 0 || s[2] == 0 {
		panic(fmt.Sprintf("dsp: PQMF.Analysis: input %v, want (B, 1, T) with T a positive multiple of %d", s, p.bands))
	}
	pad := (p.length + 1) / 2 // cached_conv get_padding(L+1): ⌊p/2⌋ both sides
	u := tp.Conv1d(x, p.fwd, nil, core.ConvParams{Stride: p.bands, PadLeft: pad, PadRight: pad})
	return ReverseHalf(tp, u)
}

// Synthesis recombines bands y (B, M, T/M) into a signal (B, 1, T), as
// CachedPQMF.inverse: the reverse_half sign flip, conv1d with
// SynthesisWeight and zero padding (L/2M, L/2M), ×M, channel flip, and the
// interleave x̂[M·m + q] = y_{M−1−q}[m] (rave-spec §2.5). The ×M and the
// flip are folded into a private copy of the weight (exact: M is a power of
// two).
func (p *PQMF) Synthesis(tp *core.Tape, y *core.Tensor) *core.Tensor {
	s := y.Shape()
	if len(s) != 3 || s[1] != p.bands || s[2] == 0 {
		panic(fmt.Sprintf("dsp: PQMF.Synthesis: input %v, want (B, %d, T/%d)", s, p.bands, p.bands))
	}
	pad := (p.length/p.bands + 1) / 2
	c := tp.Conv1d(ReverseHalf(tp, y), p.synth, nil, core.ConvParams{PadLeft: pad, PadRight: pad})
	return Interleave(tp, c, 1, false)
}

// measureDelay runs an impulse through the float64 reference pair and
// returns the lag of the largest output sample.
func (p *PQMF) measureDelay() int {
	t := 8 * p.length
	x := make([]float64, t)
	at := t / 2
	x[at] = 1
	y := referenceSynthesis(p, referenceAnalysis(p, x))
	best := 0
	for i := range y {
		if math.Abs(y[i]) > math.Abs(y[best]) {
			best = i
		}
	}
	return best - at
}

// referenceAnalysis is the textbook float64 form of Analysis for one
// signal: ũ_k[m] = s_k[m]·Σ_j hk[k][j]·x[M·m + j − L/2] (rave-spec §2.4),
// returned band-major (M × T/M).
func referenceAnalysis(p *PQMF, x []float64) []float64 {
	m, l := p.bands, p.length
	hk := p.hk.Data()
	frames := len(x) / m
	u := make([]float64, m*frames)
	for k := range m {
		for f := range frames {
			var s float64
			for j := range l {
				if i := m*f + j - l/2; i >= 0 && i < len(x) {
					s += float64(hk[k*l+j]) * x[i]
				}
			}
			if k%2 == 1 && f%2 == 0 {
				s = -s
			}
			u[k*frames+f] = s
		}
	}
	return u
}

// referenceSynthesis is the textbook float64 form of Synthesis for one
// signal given band-major u (M × F): x̂[M·m + q] = M·Σ_c Σ_t
// G[M−1−q][c][t]·ũ_c[m + t − L/2M] (rave-spec §2.5).
func referenceSynthesis(p *PQMF, u []float64) []float64 {
	m, l := p.bands, p.length
	kt := l / m
	g := p.inv.Data()
	frames := len(u) / m
	sign := func(c, f int) float64 {
		if c%2 == 1 && f%2 == 0 {
			return -1
		}
		return 1
	}
	out := make([]float64, m*frames)
	for q := range m {
		ph := m - 1 - q
		for f := range frames {
			var s float64
			for c := range m {
				for t := range kt {
					if i := f + t - kt/2; i >= 0 && i < frames {
						s += float64(g[(ph*m+c)*(kt+1)+t]) * sign(c, i) * u[c*frames+i]
					}
				}
			}
			out[m*f+q] = float64(m) * s
		}
	}
	return out
}

// reverseHalfOp is the reverse_half sign flip; it is its own adjoint.
type reverseHalfOp struct{ x, y *core.Tensor }

// ReverseHalf returns x (B, C, T) with the odd channels negated at even
// times (rave/pqmf.py reverse_half: mask[..., 1::2, ::2] = −1), the sign
// fix of both halves of the PQMF. It is its own adjoint.
func ReverseHalf(tp *core.Tape, x *core.Tensor) *core.Tensor {
	s := x.Shape()
	y := core.New(nil, s...)
	flipSigns(y.Data(), x.Data(), s[0]*s[1], s[1], s[2], false)
	tp.Record(&reverseHalfOp{x, y}, y, x)
	return y
}

func (o *reverseHalfOp) Backward() {
	g := o.y.Grad()
	if g == nil || !o.x.RequiresGrad() {
		return
	}
	s := o.x.Shape()
	flipSigns(o.x.EnsureGrad(), g, s[0]*s[1], s[1], s[2], true)
}

// ReverseHalfTo writes src, rows of t samples whose channel is the row
// index mod c (a flattened (B, c, t) tensor), with the reverse_half mask
// into dst, which may be src: ReverseHalf without a tape.
func ReverseHalfTo(dst, src []float32, c, t int) {
	flipSigns(dst, src, len(src)/t, c, t, false)
}

// flipSigns writes (or adds, if accumulate) src with the reverse_half mask
// into dst; rows = B·C rows of length t, channel = row mod c.
func flipSigns(dst, src []float32, rows, c, t int, accumulate bool) {
	for r := range rows {
		d, s := dst[r*t:][:t], src[r*t:][:t]
		odd := (r%c)%2 == 1
		for i, v := range s {
			if odd && i%2 == 0 {
				v = -v
			}
			if accumulate {
				d[i] += v
			} else {
				d[i] = v
			}
		}
	}
}

// interleaveOp maps (B, M, F) to (B, 1, F·M) (Interleave).
type interleaveOp struct {
	x, y *core.Tensor
	gain float32
	flip bool
}

// Interleave maps bands x (B, M, F) to a signal (B, 1, F·M):
// out[M·f + q] = gain·x[q][f], or gain·x[M−1−q][f] with flip (the channel
// flip and ×M of CachedPQMF.inverse, when they are not folded into the
// synthesis weight).
func Interleave(tp *core.Tape, x *core.Tensor, gain float32, flip bool) *core.Tensor {
	s := x.Shape()
	b, m, f := s[0], s[1], s[2]
	y := core.New(nil, b, 1, m*f)
	xd, yd := x.Data(), y.Data()
	for i := range b {
		for q := range m {
			row := xd[(i*m+band(q, m, flip))*f:][:f]
			out := yd[i*m*f+q:]
			for j, v := range row {
				out[j*m] = gain * v
			}
		}
	}
	tp.Record(&interleaveOp{x, y, gain, flip}, y, x)
	return y
}

// band returns the input band of output phase q.
func band(q, m int, flip bool) int {
	if flip {
		return m - 1 - q
	}
	return q
}

func (o *interleaveOp) Backward() {
	g := o.y.Grad()
	if g == nil || !o.x.RequiresGrad() {
		return
	}
	s := o.x.Shape()
	b, m, f := s[0], s[1], s[2]
	gx := o.x.EnsureGrad()
	for i := range b {
		for q := range m {
			row := gx[(i*m+band(q, m, o.flip))*f:][:f]
			in := g[i*m*f+q:]
			for j := range row {
				row[j] += o.gain * in[j*m]
			}
		}
	}
}
