package model

import (
	"fmt"
	"math"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// pqmfBank runs the reference's CachedPQMF (rave/pqmf.py) from its two
// convolution buffers, exactly as the state dict stores them:
//
//   - analysis: conv with pqmf.forward_conv.weight (M, 1, L+1), stride M,
//     centred padding (L/2, L/2), then the "reverse_half" sign fix (odd
//     bands negated at even frames);
//   - synthesis: the same sign fix, conv with pqmf.inverse_conv.weight
//     (M, M, L/M+1) and centred padding, ×M, channel flip and interleave.
//
// Both are linear and differentiable (rave-spec.md §2.4, §2.5).
type pqmfBank struct {
	bands    int
	fwd, inv *core.Tensor
	poly     []float32 // analysis kernel in polyphase form (M, M, L/M+1), for inference
	gen      *cacheGen // the model's: selects bfloat16 inference
	// polyBF and invBF are poly and the synthesis kernel in bfloat16.
	polyBF, invBF *sgemm.BF16Matrix
}

func (m *Model) bank() *pqmfBank {
	if m.Config.DataSize <= 1 {
		return nil
	}
	if m.pqmf == nil {
		m.pqmf = &pqmfBank{bands: m.Config.DataSize, fwd: m.byName[bufPQMFFwd], inv: m.byName[bufPQMFInv], gen: m.gen}
	}
	return m.pqmf
}

// PQMFSizes returns the prototype length N and padded length L of the
// bank for M bands and attenuation A dB (rave-spec.md §2.2 table), designing
// the prototype when the pair is not tabulated.
func PQMFSizes(bands int, att float64) (n, taps int) {
	type key struct {
		m int
		a float64
	}
	known := map[key][2]int{
		{16, 100}: {377, 512}, {16, 70}: {249, 256}, {8, 100}: {189, 256},
		{4, 100}: {95, 128}, {2, 100}: {49, 64},
	}
	if v, ok := known[key{bands, att}]; ok {
		return v[0], v[1]
	}
	h, err := designPQMF(bands, att)
	if err != nil {
		panic(fmt.Sprintf("model: PQMF %d bands %g dB: %v", bands, att, err))
	}
	n = len(h)
	taps = 1
	for taps < n {
		taps *= 2
	}
	return n, taps
}

// Analysis splits audio x (B, 1, T) into bands (B, M, T/M); T must be a
// multiple of M.
func (p *pqmfBank) Analysis(tp *core.Tape, x *core.Tensor) *core.Tensor {
	checkInput("PQMF analysis", x, 1)
	if x.Dim(2)%p.bands != 0 {
		panic(fmt.Sprintf("model: PQMF analysis: length %d is not a multiple of %d bands", x.Dim(2), p.bands))
	}
	k := p.fwd.Dim(2)
	l, r := core.SamePadding(k, 1)
	if tp == nil && fastInference && l%p.bands == 0 {
		return p.analysisInfer(x, l)
	}
	u := tp.Conv1d(x, p.fwd, nil, core.ConvParams{Stride: p.bands, PadLeft: l, PadRight: r})
	return dsp.ReverseHalf(tp, u)
}

// Synthesis merges bands y (B, M, T) back into audio (B, 1, T·M).
func (p *pqmfBank) Synthesis(tp *core.Tape, y *core.Tensor) *core.Tensor {
	checkInput("PQMF synthesis", y, p.bands)
	k := p.inv.Dim(2)
	l, r := core.SamePadding(k, 1)
	if tp == nil && fastInference {
		B, M, T := y.Dim(0), y.Dim(1), y.Dim(2)
		flipped := pooledTensor(B, M, T)
		dsp.ReverseHalfTo(flipped.Data(), y.Data(), M, T)
		u := pooledTensor(B, M, T)
		var bw []*sgemm.BF16Matrix
		if p.gen != nil && p.gen.bf16 {
			if p.invBF == nil {
				p.invBF = sgemm.NewBF16Matrix(false, M, M*k, p.inv.Data(), M*k)
			}
			bw = []*sgemm.BF16Matrix{p.invBF}
		}
		conv1dInfer(u.Data(), flipped.Data(), p.inv.Data(), nil, B, T, convGeom{cin: M, cout: M, k: k, stride: 1, dil: 1, groups: 1, padL: l, padR: r}, act{}, false, bw)
		out := dsp.Interleave(nil, u, float32(p.bands), true)
		release(flipped, u)
		return out
	}
	u := tp.Conv1d(dsp.ReverseHalf(tp, y), p.inv, nil, core.ConvParams{PadLeft: l, PadRight: r})
	return dsp.Interleave(tp, u, float32(p.bands), true)
}

// analysisInfer is the analysis without a tape, as a stride-1 convolution
// over the polyphase components of x: with j = M·q + p and a left padding
// P = M·s, u_k[m] = Σ_{p,q} W[k][Mq+p]·X[p][m+q] where X[p][n] =
// x[M(n−s) + p] (zero outside the signal). The im2col of this form is made
// of contiguous copies instead of a strided gather of L+1 taps.
func (p *pqmfBank) analysisInfer(x *core.Tensor, padL int) *core.Tensor {
	M, K := p.bands, p.fwd.Dim(2)
	Q := (K + M - 1) / M // taps per phase
	if p.poly == nil {
		p.poly = make([]float32, M*M*Q)
		w := p.fwd.Data()
		for k := range M {
			for ph := range M {
				for q := range Q {
					if j := M*q + ph; j < K {
						p.poly[(k*M+ph)*Q+q] = w[k*K+j]
					}
				}
			}
		}
	}
	B, T := x.Dim(0), x.Dim(2)
	Tsub, s := T/M, padL/M
	n := Tsub + Q - 1
	X := pooledTensor(B, M, n)
	xd, Xd := x.Data(), X.Data()
	clear(Xd)
	split.For(B*M, B*T, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, ph := r/M, r%M
			row := Xd[r*n : (r+1)*n]
			for i := range row {
				if t := M*(i-s) + ph; t >= 0 && t < T {
					row[i] = xd[b*T+t]
				}
			}
		}
	})
	u := core.New(nil, B, M, Tsub)
	var bw []*sgemm.BF16Matrix
	if p.gen != nil && p.gen.bf16 {
		if p.polyBF == nil {
			p.polyBF = sgemm.NewBF16Matrix(false, M, M*Q, p.poly, M*Q)
		}
		bw = []*sgemm.BF16Matrix{p.polyBF}
	}
	conv1dInfer(u.Data(), Xd, p.poly, nil, B, n, convGeom{cin: M, cout: M, k: Q, stride: 1, dil: 1, groups: 1}, act{}, false, bw)
	release(X)
	dsp.ReverseHalfTo(u.Data(), u.Data(), M, Tsub)
	return u
}

// deriveFromPrototype fills the PQMF buffers not in keep from the
// prototype low-pass h (rave-spec.md §2.3–§2.5): the cosine-modulated bank
// hk (M, L) centre-padded to L = 2^⌈log2 N⌉, the analysis kernel (hk with
// one zero tap appended) and the polyphase synthesis kernel
// inv[p][c][t] = hk[c][L−1−(M·t+p)] with one zero tap appended.
func deriveFromPrototype(m *Model, h []float64, keep map[string]bool) {
	M := m.Config.DataSize
	N := len(h)
	L := m.byName[bufPQMFHK].Dim(1)
	hk := make([]float64, M*L)
	left := (L - N) / 2
	for k := range M {
		phase := math.Pi / 4
		if k%2 == 1 {
			phase = -phase
		}
		for n := range N {
			tn := float64(n) - float64(N-1)/2
			hk[k*L+left+n] = 2 * h[n] * math.Cos(float64(2*k+1)*math.Pi/float64(2*M)*tn+phase)
		}
	}
	if !keep[bufPQMFH] {
		put(m.byName[bufPQMFH].Data(), h)
	}
	if !keep[bufPQMFHK] {
		put(m.byName[bufPQMFHK].Data(), hk)
	}
	if !keep[bufPQMFFwd] {
		fw := m.byName[bufPQMFFwd].Data()
		clear(fw)
		for k := range M {
			put(fw[k*(L+1):k*(L+1)+L], hk[k*L:(k+1)*L])
		}
	}
	if !keep[bufPQMFInv] {
		inv := m.byName[bufPQMFInv].Data()
		clear(inv)
		tl := L/M + 1
		for p := range M {
			for c := range M {
				for t := range L / M {
					inv[(p*M+c)*tl+t] = float32(hk[c*L+L-1-(M*t+p)])
				}
			}
		}
	}
}

func put(dst []float32, src []float64) {
	for i, v := range src {
		dst[i] = float32(v)
	}
}
