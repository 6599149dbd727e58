package modelv2

// Tape-free inference. Without a tape, Encoder.Forward, Generator.Forward,
// Model.Analysis and Model.Synthesis (and so Model.Encode and
// Model.Decode) run through the kernels of this file instead of the
// generic core ops:
//
//   - every layer keeps its effective weight g·v/‖v‖ (and the transformed
//     weights below) until the parameters of its slab change: a pass on a
//     tape bumps the slab's generation, as do Init, LoadStateDict and
//     ParamsChanged;
//   - the LeakyReLU before a convolution is applied while its input is
//     copied into the zero-padded, stride-phase-split buffer the im2col
//     matrix is read from, and long layers build and multiply the matrix
//     in blocks that stay in a core's cache (sgemm.SgemmSerial);
//   - kernel-3 stride-1 convolutions of 128 channels or more go through
//     Winograd F(4, 3) (half the multiply-adds; Lavin & Gray, "Fast
//     Algorithms for Convolutional Neural Networks", CVPR 2016);
//   - the strided down-sampling convolutions (kernel 2r, stride r) and the
//     up-sampling ConvTranspose1d (kernel 2r, stride r, its r output phases
//     stacked) are two-tap correlations, run through Winograd F(2, 2)
//     (three quarters of the multiply-adds, no overlap-add);
//   - a residual unit's inner LeakyReLU is applied as its dilated
//     convolution writes its output, and its 1×1 convolution adds straight
//     into the trunk (GEMM with β = 1); the amplitude modulation and tanh
//     run on the waveform convolution's output in one pass;
//   - the PQMF analysis is a stride-1 convolution of the input's phases,
//     the synthesis a convolution and an interleave;
//   - intermediate buffers are recycled (par.Classes).
//
// The arithmetic is float32 throughout, so results agree with the tape
// path to rounding (TestFastMatchesTape: ≲ 1e-6 relative, tested to 1e-5).
//
// core/model's fast path (fast.go, winograd*.go) has kernels of the same
// kind, with AVX assembly for the F(4, 3) transforms (which would make
// Winograd pay at 64 and 96 channels here too), but unexported; this file
// goes through core/internal/sgemm directly until they are shared.

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/convinfer"
	"github.com/ravestation/rave/core/internal/par"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// fastInference selects this file's kernels for tape-free passes (a
// variable so that tests and benchmarks can compare with the generic core
// ops).
var fastInference = true

// useWinograd selects Winograd F(4, 3) for the kernel-3 convolutions of
// tape-free passes, and useTwoTap Winograd F(2, 2) for the strided and
// transposed ones (variables for tests and benchmarks).
var (
	useWinograd = true
	useTwoTap   = true
)

// split is the threshold of this file's parallel loops; bufs recycles
// their float32 buffers by power-of-two size class.
var (
	split = par.Split{MinWork: 1 << 15}
	bufs  par.Classes
)

// cacheGen is the parameter generation of one slab (Enc, Dec or Disc): a
// layer's inference cache is valid while it was built at the current one.
type cacheGen struct{ n uint64 }

// bump marks the slab's parameters as (about to be) changed.
func (g *cacheGen) bump() {
	if g != nil {
		g.n++
	}
}

// setGen attaches the layers to their slab's generation.
func setGen(ls []*layer, g *cacheGen) {
	for _, l := range ls {
		l.gen = g
	}
}

// ParamsChanged must be called after parameters were modified other than
// through a pass on a tape followed by an update (for instance by writing
// into Enc.Data() or a parameter tensor): it drops the effective weights
// that tape-free passes cache. Init and LoadStateDict call it, and passes
// on a tape do the equivalent for the slabs they run.
func (m *Model) ParamsChanged() {
	for _, g := range m.gens {
		g.bump()
	}
}

// inferCache is a layer's state for tape-free passes.
type inferCache struct {
	valid bool
	gen   uint64
	w     *core.Tensor // effective weight (the plain weight itself if not weight-normed)
	wino  []float32    // Winograd U: (6, Cout, Cin) for kernel 3, two-tap for strided ones; built on first use
	up    []float32    // ConvTranspose1d: the two-tap weights of its phases (runUp)
}

// effective returns the layer's effective weight, recomputing it (and
// dropping the transformed weights) when the slab's parameters changed.
func (l *layer) effective() *core.Tensor {
	c := &l.inf
	if c.valid && l.gen != nil && c.gen == l.gen.n {
		return c.w
	}
	if l.w != nil {
		c.w = l.w
	} else {
		if c.w == nil {
			c.w = core.Zeros(l.shape...)
		}
		weightNormTo(c.w.Data(), l.g, l.v)
	}
	c.wino, c.up = nil, nil
	c.valid = true
	if l.gen != nil {
		c.gen = l.gen.n
	}
	return c.w
}

// geom is a Conv1d's geometry.
type geom struct {
	cin, cout, k, stride, dil, padL, padR int
}

func (g geom) outLen(t int) int {
	return (t+g.padL+g.padR-g.dil*(g.k-1)-1)/g.stride + 1
}

// geom returns the geometry of a plain Conv1d layer.
func (l *layer) geom() geom {
	return geom{
		cin: l.shape[1], cout: l.shape[0], k: l.shape[2],
		stride: max(l.conv.Stride, 1), dil: max(l.conv.Dilation, 1),
		padL: l.conv.PadLeft, padR: l.conv.PadRight,
	}
}

// biasData returns the bias values, nil without a bias.
func (l *layer) biasData() []float32 {
	if l.bias == nil {
		return nil
	}
	return l.bias.Data()
}

// outMode says how a kernel writes its result y into the destination:
// outSet stores y, outAdd adds it, outLeaky stores LeakyReLU(y, 0.2).
type outMode uint8

const (
	outSet outMode = iota
	outAdd
	outLeaky
)

// run returns the output of the Conv1d layer on a(x), x (B, Cin, T) and a
// LeakyReLU when leaky is set, in a pooled buffer (hand it back with
// bufs.Put), and the output length.
func (l *layer) run(x []float32, B, T int, leaky bool) ([]float32, int) {
	g := l.geom()
	Tout := g.outLen(T)
	y := bufs.Get(B * g.cout * Tout)
	l.runInto(y, x, B, T, leaky, outSet)
	return y, Tout
}

// runInto computes conv(a(x)) for the Conv1d layer into y (B, Cout, Tout)
// as mode says.
func (l *layer) runInto(y, x []float32, B, T int, leaky bool, mode outMode) {
	w := l.effective().Data()
	g := l.geom()
	if stridedUsable(g) && l.bias == nil && mode == outSet {
		l.convStrided(y, x, B, T, g, leaky)
		return
	}
	if useWinograd && winoUsable(g) {
		if l.inf.wino == nil {
			l.inf.wino = winoWeights(w, g.cout, g.cin)
		}
		for b := range B {
			conv3Winograd(y[b*g.cout*T:(b+1)*g.cout*T], x[b*g.cin*T:(b+1)*g.cin*T], l.inf.wino, l.biasData(), g.cin, g.cout, T, g.dil, g.padL, leaky, mode)
		}
		return
	}
	convPhased(y, x, w, l.biasData(), B, T, g, leaky, mode)
}

// activate writes src, through LeakyReLU(0.2) when leaky is set, into dst.
func activate(dst, src []float32, leaky bool) {
	if leaky {
		sgemm.LeakyReLU(dst, src, slope)
		return
	}
	copy(dst, src)
}

// chunkBytes is the size of the im2col block one worker builds and
// multiplies at a time in convPhased: half of a typical 1 MiB L2, so that
// the block stays there with the GEMM's packed panels.
var chunkBytes = 512 << 10

// chunkCols is convinfer.ChunkCols with blocks of chunkBytes.
func chunkCols(kk, tout int) int { return convinfer.ChunkCols(chunkBytes, kk, tout) }

// convPhased computes conv(a(x)) + bias for x (B, Cin, T) and w (Cout,
// Cin, K), PyTorch's conv1d on the zero-padded input, into out (B, Cout,
// Tout) as mode says. The input is activated, zero-padded and split into its stride
// phases once (P[c][ph][v] = x̃[c][v·stride + ph]), so that each row of the
// im2col matrix, x̃[c][t·stride + j·dil] over t, is a contiguous run of P.
// Short layers copy the whole matrix and make one parallel GEMM; long ones
// (chunkCols) hand blocks of columns to the workers, each building its
// block and multiplying it on its own. Both compute every output with the
// same sum over Cin·K, so the result does not depend on the blocking.
func convPhased(out, x, w, bias []float32, B, T int, g geom, leaky bool, mode outMode) {
	s, KK := g.stride, g.cin*g.k
	Tout := g.outLen(T)
	Lph := (g.padL + T + g.padR + s - 1) / s // length of one phase
	xp := bufs.Get(g.cin * s * Lph)
	defer bufs.Put(xp)
	offs := convinfer.PhaseOffsets(g.cin, g.k, s, g.dil, Lph) // im2col row (c, j) starts at xp[offs[c·K+j]]
	beta := convinfer.Beta(mode == outAdd)
	var post func(row []float32)
	if mode == outLeaky {
		post = leakyRow
	}
	direct := g.k == 1 && s == 1 && g.padL == 0 && g.padR == 0 // P is the matrix
	nc := 0
	if !direct {
		nc = chunkCols(KK, Tout)
	}
	for b := range B {
		xb := x[b*g.cin*T : (b+1)*g.cin*T]
		yb := out[b*g.cout*Tout : (b+1)*g.cout*Tout]
		fillPhases(xp, xb, T, Lph, g, leaky)
		if direct {
			sgemm.Sgemm(false, false, g.cout, Tout, KK, 1, w, KK, xp, Lph, beta, yb, Tout)
			convinfer.Finish(yb, bias, g.cout, Tout, post)
			continue
		}
		convinfer.MulPhased(yb, xp, offs, w, bias, g.cout, Tout, nc, beta, post)
	}
}

// leakyRow applies LeakyReLU(0.2) to row in place.
func leakyRow(row []float32) { sgemm.LeakyReLU(row, row, slope) }

// fillPhases writes the activated, zero-padded input of one batch element
// x (Cin, T), split into its stride phases, into xp (Cin × stride × Lph).
func fillPhases(xp, x []float32, T, Lph int, g geom, leaky bool) {
	convinfer.SplitPhases(xp, x, g.cin, T, g.stride, Lph, g.padL, func(dst, src []float32, _ int) { activate(dst, src, leaky) })
}

// winoMinChannels is the narrowest layer that goes through Winograd: below
// it the GEMMs over Cin are too thin to pay for the transforms, which run
// in plain Go here.
const winoMinChannels = 128

// winoUsable reports whether a Conv1d runs through conv3Winograd: kernel
// 3, stride 1, output as long as the input, at least winoMinChannels
// input and output channels.
func winoUsable(g geom) bool {
	return g.k == 3 && g.stride == 1 && g.padL+g.padR == 2*g.dil &&
		g.cin >= winoMinChannels && g.cout >= winoMinChannels
}

// winoWeights returns U (6, Cout, Cin) = G·w[o][c] for a weight w
// (Cout, Cin, 3), computed in float64, with G (6×3) for the interpolation
// points 0, ±1, ±2, ∞:
//
//	G = [1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1]
func winoWeights(w []float32, cout, cin int) []float32 {
	const quarter, sixth, twelfth, x24 = 1.0 / 4, 1.0 / 6, 1.0 / 12, 1.0 / 24
	u := make([]float32, 6*cout*cin)
	split.For(cout, 6*cout*cin, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			wo := w[o*cin*3 : (o+1)*cin*3]
			u0, u1, u2 := u[(0*cout+o)*cin:][:cin], u[(1*cout+o)*cin:][:cin], u[(2*cout+o)*cin:][:cin]
			u3, u4, u5 := u[(3*cout+o)*cin:][:cin], u[(4*cout+o)*cin:][:cin], u[(5*cout+o)*cin:][:cin]
			for c := range u0 {
				g := wo[3*c : 3*c+3]
				g0, g1, g2 := float64(g[0]), float64(g[1]), float64(g[2])
				u0[c] = float32(g0 * quarter)
				u1[c] = float32(-(g0 + g1 + g2) * sixth)
				u2[c] = float32(-(g0 - g1 + g2) * sixth)
				u3[c] = float32(g0*x24 + g1*twelfth + g2*sixth)
				u4[c] = float32(g0*x24 - g1*twelfth + g2*sixth)
				u5[c] = g[2]
			}
		}
	})
	return u
}

// conv3Winograd computes conv(a(x)) + bias for one batch element x
// (Cin, T) into out (Cout, T) as mode says: kernel 3, dilation dil, left
// padding padL (2·dil in all), U = winoWeights(w); bias may be nil. Four outputs of the
// correlation y_i = Σ_j g_j·d_{i+j} are y = Aᵀ[(G·g) ⊙ (Bᵀ·d)] from a tile d
// of six inputs, so over channels the products are six GEMMs
// M_k (Cout × tiles) = U_k (Cout × Cin)·V_k (Cin × tiles). A dilated kernel
// is the undilated one on each of the dil interleaved phases of the padded
// input, x̃[n·dil + ρ]; the tiles of V and M are ordered by phase, then by
// block.
func conv3Winograd(out, x, u, bias []float32, cin, cout, T, dil, padL int, leaky bool, mode outMode) {
	nb := (T + 4*dil - 1) / (4 * dil) // tiles per phase
	tiles := nb * dil
	n := 4*nb + 2 // samples of a phase the tiles read
	span := n * dil
	v := bufs.Get(6 * cin * tiles)
	m := bufs.Get(6 * cout * tiles)
	defer bufs.Put(v)
	defer bufs.Put(m)

	split.For(cin, cin*T*8, func(lo, hi int) {
		row := bufs.Get(span)
		defer bufs.Put(row)
		pr := row
		if dil > 1 {
			pr = bufs.Get(n)
			defer bufs.Put(pr)
		}
		for c := lo; c < hi; c++ {
			clear(row[:padL])
			activate(row[padL:padL+T], x[c*T:(c+1)*T], leaky)
			clear(row[padL+T:])
			for rho := range dil {
				if dil > 1 {
					for i := range pr {
						pr[i] = row[i*dil+rho]
					}
				}
				winoIn(pr, v, (c*tiles)+rho*nb, cin*tiles, nb)
			}
		}
	})
	for k := range 6 {
		sgemm.Sgemm(false, false, cout, tiles, cin, 1, u[k*cout*cin:], cin, v[k*cin*tiles:], tiles, 0, m[k*cout*tiles:], tiles)
	}
	split.For(cout, cout*T*8, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			y := out[o*T : (o+1)*T]
			b := convinfer.BiasAt(bias, o)
			for rho := range dil {
				winoOut(m, (o*tiles)+rho*nb, cout*tiles, nb, y, rho, dil, b, mode)
			}
		}
	})
}

// winoIn writes the input transforms Bᵀ·d of the nb tiles of one phase row
// pr (tile q reads pr[4q : 4q+6]) to v[off + k·stride + q], k = 0…5:
//
//	Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
func winoIn(pr, v []float32, off, stride, nb int) {
	convinfer.WinoIn(pr, v[off:off+nb], v[off+stride:off+stride+nb], v[off+2*stride:off+2*stride+nb],
		v[off+3*stride:off+3*stride+nb], v[off+4*stride:off+4*stride+nb], v[off+5*stride:off+5*stride+nb])
}

// winoOut applies the output transform Aᵀ·m to the nb tiles of phase rho
// of one output channel (m[off + k·stride + q], k = 0…5) and writes the
// outputs plus b, as mode says, to y[(4q + i)·dil + rho] that fall inside
// y:
//
//	Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
func winoOut(m []float32, off, stride, nb int, y []float32, rho, dil int, b float32, mode outMode) {
	m0 := m[off : off+nb]
	m1 := m[off+stride : off+stride+nb]
	m2 := m[off+2*stride : off+2*stride+nb]
	m3 := m[off+3*stride : off+3*stride+nb]
	m4 := m[off+4*stride : off+4*stride+nb]
	m5 := m[off+5*stride : off+5*stride+nb]
	T := len(y)
	for q := range m0 {
		res := convinfer.WinoOut(m0[q], m1[q], m2[q], m3[q], m4[q], m5[q], b)
		if mode == outLeaky {
			for i, v := range res {
				res[i] = max(v, v*slope) // LeakyReLU, branch-free (slope < 1)
			}
		}
		t := 4*q*dil + rho
		if t+3*dil < T {
			if mode == outAdd {
				y[t] += res[0]
				y[t+dil] += res[1]
				y[t+2*dil] += res[2]
				y[t+3*dil] += res[3]
			} else {
				y[t] = res[0]
				y[t+dil] = res[1]
				y[t+2*dil] = res[2]
				y[t+3*dil] = res[3]
			}
			continue
		}
		for _, val := range res {
			if t >= T {
				return
			}
			if mode == outAdd {
				y[t] += val
			} else {
				y[t] = val
			}
			t += dil
		}
	}
}

// twoTapWeights returns U = [P; P+Q; Q] (3 × M × R) for the taps P and Q
// (M × R each) of a two-tap correlation z[t] = P·X[t] + Q·X[t+1], where
// tap(j, o, r) returns tap j ∈ {0, 1} of output row o and input row r.
func twoTapWeights(M, R int, tap func(j, o, r int) float32) []float32 {
	u := make([]float32, 3*M*R)
	split.For(M, 3*M*R, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			u0, u1, u2 := u[o*R:(o+1)*R], u[(M+o)*R:(M+o+1)*R], u[(2*M+o)*R:(2*M+o+1)*R]
			for r := range u0 {
				p, q := tap(0, o, r), tap(1, o, r)
				u0[r], u1[r], u2[r] = p, p+q, q
			}
		}
	})
	return u
}

// twoTap computes z (M × n, row stride ldz) with z[·][t] = P·X[t] +
// Q·X[t+1] for the R rows of x (row stride ldx, avail samples each, zero
// beyond) and U = twoTapWeights (Winograd F(2, 2) with the points 0, 1,
// ∞; Lavin & Gray 2016): two outputs take three products instead of four,
//
//	m1 = P·(X0 − X1),  m2 = (P+Q)·X1,  m3 = Q·(X2 − X1),
//	z0 = m1 + m2,      z1 = m2 + m3,
//
// so the correlation is three GEMMs M_k (M × ⌈n/2⌉) = U_k·V_k over the
// tiles' transformed inputs, three quarters of the direct GEMM's
// multiply-adds.
func twoTap(z []float32, ldz int, x []float32, ldx, avail, R, n int, u []float32, M int) {
	nq := (n + 1) / 2
	v := bufs.Get(3 * R * nq)
	m := bufs.Get(3 * M * nq)
	defer bufs.Put(v)
	defer bufs.Put(m)
	split.For(R, R*n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*ldx : r*ldx+avail]
			v0, v1, v2 := v[r*nq:(r+1)*nq], v[(R+r)*nq:(R+r+1)*nq], v[(2*R+r)*nq:(2*R+r+1)*nq]
			full := min(nq, (avail-1)/2) // tiles whose three samples are all in row
			for q := range full {
				a, b, c := row[2*q], row[2*q+1], row[2*q+2]
				v0[q], v1[q], v2[q] = a-b, b, c-b
			}
			for q := full; q < nq; q++ {
				var d [3]float32
				for i := range d {
					if t := 2*q + i; t < avail {
						d[i] = row[t]
					}
				}
				v0[q], v1[q], v2[q] = d[0]-d[1], d[1], d[2]-d[1]
			}
		}
	})
	for k := range 3 {
		sgemm.Sgemm(false, false, M, nq, R, 1, u[k*M*R:], R, v[k*R*nq:], nq, 0, m[k*M*nq:], nq)
	}
	split.For(M, M*n, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			m0, m1, m2 := m[o*nq:(o+1)*nq], m[(M+o)*nq:(M+o+1)*nq], m[(2*M+o)*nq:(2*M+o+1)*nq]
			row := z[o*ldz : o*ldz+n]
			for q := range n / 2 {
				row[2*q] = m0[q] + m1[q]
				row[2*q+1] = m1[q] + m2[q]
			}
			if n%2 == 1 {
				row[n-1] = m0[nq-1] + m1[nq-1]
			}
		}
	})
}

// stridedUsable reports whether a Conv1d goes through convStrided: stride
// s > 1 and a kernel of s < k ≤ 2s taps (so two taps per stride phase),
// without dilation.
func stridedUsable(g geom) bool {
	return useTwoTap && g.stride > 1 && g.k > g.stride && g.k <= 2*g.stride && g.dil == 1
}

// convStrided computes out (B, Cout, Tout) = conv(a(x)) for a strided
// Conv1d (stridedUsable). With X_p[c][m] = x̃[c][m·s + p] the stride
// phases of the activated, zero-padded input (fillPhases), tap j = q·s + p
// reads X_p[c][m + q], so the convolution is the two-tap correlation
// y[m] = P·X[m] + Q·X[m+1] over the s·Cin rows (c, p), P = w[·][·][p] and
// Q = w[·][·][s+p] (zero beyond the kernel): twoTap.
func (l *layer) convStrided(out, x []float32, B, T int, g geom, leaky bool) {
	s := g.stride
	Tout := g.outLen(T)
	Lph := (g.padL + T + g.padR + s - 1) / s
	R := g.cin * s
	if l.inf.wino == nil {
		w := l.inf.w.Data()
		l.inf.wino = twoTapWeights(g.cout, R, func(j, o, r int) float32 {
			c, p := r/s, r%s
			if t := j*s + p; t < g.k {
				return w[(o*g.cin+c)*g.k+t]
			}
			return 0
		})
	}
	xp := bufs.Get(R * Lph)
	defer bufs.Put(xp)
	for b := range B {
		fillPhases(xp, x[b*g.cin*T:(b+1)*g.cin*T], T, Lph, g, leaky)
		twoTap(out[b*g.cout*Tout:(b+1)*g.cout*Tout], Tout, xp, Lph, Lph, R, Tout, l.inf.wino, g.cout)
	}
}

// upUsable reports whether a ConvTranspose1d layer runs through runUp:
// kernel 2·stride, no dilation, no bias.
func (l *layer) upUsable() bool {
	s := max(l.tconv.Stride, 1)
	return l.shape[2] == 2*s && max(l.tconv.Dilation, 1) == 1 && l.bias == nil
}

// runUp returns the output of the ConvTranspose1d layer (kernel 2s, stride
// s, padding pad) on a(x), x (B, Cin, T), in a pooled buffer, and its
// length (T+1)·s − 2·pad. Output u = t·s + p − pad of phase p is
//
//	y[u] = B_p·a(x)[t−1] + A_p·a(x)[t],  t = 0 … T,
//
// with A_p = w[·][·][p]ᵀ and B_p = w[·][·][p+s]ᵀ (a(x) zero outside the
// input): the s phases stacked are one two-tap correlation (twoTap) of
// s·Cout rows over the activated input, whose columns are then
// interleaved.
func (l *layer) runUp(x []float32, B, T int, leaky bool) ([]float32, int) {
	cin, cout := l.shape[0], l.shape[1]
	s, pad := max(l.tconv.Stride, 1), l.tconv.Padding
	Tout := (T+1)*s - 2*pad
	if !l.upUsable() {
		panic(fmt.Sprintf("modelv2: tape-free ConvTranspose1d: weight %v, stride %d, padding %d not supported", l.shape, s, pad))
	}
	if l.effective(); l.inf.up == nil {
		w, k := l.inf.w.Data(), 2*s
		l.inf.up = twoTapWeights(s*cout, cin, func(j, r, c int) float32 {
			p, o := r/cout, r%cout
			if j == 0 {
				return w[(c*cout+o)*k+p+s] // B_p
			}
			return w[(c*cout+o)*k+p] // A_p
		})
	}
	n := T + 1
	d := bufs.Get(cin * (T + 2)) // d[c][i] = a(x)[c][i−1], zero at both ends
	z := bufs.Get(s * cout * n)
	defer bufs.Put(d)
	defer bufs.Put(z)
	y := bufs.Get(B * cout * Tout)
	for b := range B {
		xb := x[b*cin*T : (b+1)*cin*T]
		split.For(cin, cin*T, func(lo, hi int) {
			for c := lo; c < hi; c++ {
				row := d[c*(T+2) : (c+1)*(T+2)]
				row[0], row[T+1] = 0, 0
				activate(row[1:T+1], xb[c*T:(c+1)*T], leaky)
			}
		})
		twoTap(z, n, d, T+2, T+2, cin, n, l.inf.up, s*cout)
		yb := y[b*cout*Tout : (b+1)*cout*Tout]
		split.For(cout, cout*Tout, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				row := yb[o*Tout : (o+1)*Tout]
				for p := range s {
					zp := z[(p*cout+o)*n : (p*cout+o+1)*n]
					t0 := 0
					if p < pad {
						t0 = (pad - p + s - 1) / s
					}
					for t := t0; t < n; t++ {
						u := t*s + p - pad
						if u >= Tout {
							break
						}
						row[u] = zp[t]
					}
				}
			}
		})
	}
	return y, Tout
}

// infer is the residual unit x += conv1×1(LReLU(conv_k,d(LReLU(x)))) on
// the trunk h (B, C, T) in place.
func (u unit) infer(h []float32, B, T int) {
	C := u.dilated.shape[0]
	t := bufs.Get(B * C * T)
	defer bufs.Put(t)
	u.dilated.runInto(t, h, B, T, true, outLeaky) // t = LReLU(conv_k,d(LReLU(x)))
	w := u.pointwise.effective().Data()
	for b := range B {
		sgemm.Sgemm(false, false, C, T, C, 1, w, C, t[b*C*T:(b+1)*C*T], T, 1, h[b*C*T:(b+1)*C*T], T)
	}
}

// infer is Forward without a tape: the raw encoder output of x (B, Bands,
// T).
func (e *Encoder) infer(x *core.Tensor) *core.Tensor {
	s := x.Shape()
	if len(s) != 3 || s[1] != e.input.shape[1] {
		panic(fmt.Sprintf("modelv2: Encoder: input %v, want (B, %d, T)", s, e.input.shape[1]))
	}
	B, T := s[0], s[2]
	h, T := e.input.run(x.Data(), B, T, false)
	for i, units := range e.stages {
		for _, u := range units {
			u.infer(h, B, T)
		}
		n, Tn := e.downs[i].run(h, B, T, true)
		bufs.Put(h)
		h, T = n, Tn
	}
	g := e.output.geom()
	out := core.Zeros(B, g.cout, g.outLen(T))
	e.output.runInto(out.Data(), h, B, T, true, outSet)
	bufs.Put(h)
	return out
}

// infer is Forward without a tape: the multiband output of latent z
// (B, latent, F).
func (g *Generator) infer(z *core.Tensor, rng *rand.Rand) *core.Tensor {
	s := z.Shape()
	if len(s) != 3 || s[1] != g.input.shape[1] {
		panic(fmt.Sprintf("modelv2: Generator: latent %v, want (B, %d, frames)", s, g.input.shape[1]))
	}
	if g.noise != nil && rng == nil {
		panic("modelv2: Generator: the noise generator needs a random source")
	}
	B, T := s[0], s[2]
	h, T := g.input.run(z.Data(), B, T, false)
	for i, up := range g.ups {
		n, Tn := up.runUp(h, B, T, true)
		bufs.Put(h)
		h, T = n, Tn
		for _, u := range g.stages[i] {
			u.infer(h, B, T)
		}
	}
	W := g.wave.shape[0]
	wave := bufs.Get(B * W * T)
	defer bufs.Put(wave)
	g.wave.runInto(wave, h, B, T, true, outSet)
	var noise []float32
	if g.noise != nil {
		C := g.wave.shape[1]
		a := core.Zeros(B, C, T)
		activate(a.Data(), h[:B*C*T], true)
		noise = g.noise.Forward(nil, a, rng).Data()
	}
	bufs.Put(h)
	out := core.Zeros(B, g.bands, T)
	modulate(out.Data(), wave, noise, B, g.bands, T, g.amMod)
	return out
}

// modulate writes the generator's output y (B, M, T) from the waveform
// convolution's output w (B, 2M, T) with amplitude modulation, else
// (B, M, T): tanh(x·σ(a) + noise) with x, a the channel halves of w, or
// tanh(w + noise); noise (B, M, T) may be nil.
func modulate(y, w, noise []float32, B, M, T int, amMod bool) {
	split.For(B*M, B*M*T*16, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, c := r/M, r%M
			dst := y[r*T : (r+1)*T]
			var xs, as []float32
			if amMod {
				xs = w[(b*2*M+c)*T : (b*2*M+c+1)*T]
				as = w[(b*2*M+M+c)*T : (b*2*M+M+c+1)*T]
			} else {
				xs = w[r*T : (r+1)*T]
			}
			for i, v := range xs {
				if amMod {
					v *= float32(1 / (1 + math.Exp(-float64(as[i]))))
				}
				if noise != nil {
					v += noise[r*T+i]
				}
				dst[i] = float32(math.Tanh(float64(v)))
			}
		}
	})
}

// pqmfKernels is the PQMF in the form of this file's kernels: the analysis
// as a stride-1 convolution of the input's M phases (Q = (L+1)/M taps,
// padding as configured), the synthesis as its own convolution.
type pqmfKernels struct {
	ana, syn []float32 // (M, M, Q) and (M, M, L/M+1)
	ag, sg   geom
}

// pqmf returns the model's pqmfKernels, building them on first use. The
// analysis u[k][m] = Σ_j h[k][j]·x[M·m + j − P] (padding P = M·P0) is,
// with the phases x_p[i] = x[M·i + p] and j = M·q + p,
//
//	u[k][m] = Σ_{p,q} h[k][M·q + p]·x_p[m + q − P0],
//
// a convolution of Q taps padded (P0, Q − 1 − P0) over M channels.
func (m *Model) pqmf() *pqmfKernels {
	if m.pqmfInf != nil {
		return m.pqmfInf
	}
	M := m.PQMF.Bands()
	w := m.PQMF.AnalysisWeight().Data()
	K := len(w) / M
	Q := (K + M - 1) / M
	pl, _ := m.Config.Padding(K, 1)
	if pl%M != 0 {
		panic(fmt.Sprintf("modelv2: PQMF analysis padding %d is not a multiple of %d bands", pl, M))
	}
	p := &pqmfKernels{ana: make([]float32, M*M*Q)}
	for k := range M {
		for ph := range M {
			for q := range Q {
				if j := M*q + ph; j < K {
					p.ana[(k*M+ph)*Q+q] = w[k*K+j]
				}
			}
		}
	}
	p.ag = geom{cin: M, cout: M, k: Q, stride: 1, dil: 1, padL: pl / M, padR: Q - 1 - pl/M}
	p.syn = m.PQMF.SynthesisWeight().Data()
	ks := len(p.syn) / (M * M)
	l, r := m.Config.Padding(ks, 1)
	p.sg = geom{cin: M, cout: M, k: ks, stride: 1, dil: 1, padL: l, padR: r}
	m.pqmfInf = p
	return p
}

// analysisInfer is Analysis without a tape: the phases of x, the
// polyphase convolution and the reverse_half sign flip.
func (m *Model) analysisInfer(x *core.Tensor) *core.Tensor {
	M := m.PQMF.Bands()
	s := x.Shape()
	if len(s) != 3 || s[1] != 1 || s[2] == 0 || s[2]%M != 0 {
		panic(fmt.Sprintf("modelv2: Analysis: audio %v, want (B, 1, T) with T a positive multiple of %d", s, M))
	}
	p := m.pqmf()
	B, T := s[0], s[2]/M
	xp := bufs.Get(B * M * T)
	defer bufs.Put(xp)
	split.For(B*M, B*M*T, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, ph := r/M, r%M
			src, dst := x.Data()[b*M*T:(b+1)*M*T], xp[r*T:(r+1)*T]
			for i := range dst {
				dst[i] = src[M*i+ph]
			}
		}
	})
	u := core.Zeros(B, M, T)
	convPhased(u.Data(), xp, p.ana, nil, B, T, p.ag, false, outSet)
	reverseHalf(u.Data(), B, M, T)
	return u
}

// synthesisInfer is Synthesis without a tape: the reverse_half sign flip,
// the synthesis convolution, and ×M, channel flip and interleave,
// x̂[M·t + q] = M·u[M−1−q][t].
func (m *Model) synthesisInfer(y *core.Tensor) *core.Tensor {
	M := m.PQMF.Bands()
	s := y.Shape()
	if len(s) != 3 || s[1] != M || s[2] == 0 {
		panic(fmt.Sprintf("modelv2: Synthesis: bands %v, want (B, %d, T')", s, M))
	}
	p := m.pqmf()
	B, T := s[0], s[2]
	yf := bufs.Get(B * M * T)
	u := bufs.Get(B * M * T)
	defer bufs.Put(yf)
	defer bufs.Put(u)
	copy(yf, y.Data())
	reverseHalf(yf, B, M, T)
	convPhased(u, yf, p.syn, nil, B, T, p.sg, false, outSet)
	out := core.Zeros(B, 1, M*T)
	g := float32(M)
	const block = 256
	nb := (T + block - 1) / block
	split.For(B*nb, B*M*T, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b, t0 := i/nb, i%nb*block
			ub, ob := u[b*M*T:(b+1)*M*T], out.Data()[b*M*T:(b+1)*M*T]
			for t := t0; t < min(T, t0+block); t++ {
				dst := ob[M*t : M*t+M]
				for q := range dst {
					dst[q] = g * ub[(M-1-q)*T+t]
				}
			}
		}
	})
	return out
}

// reverseHalf negates, in place, the odd bands of x (B, M, T) at even
// times: the PQMF's sign fix (rave/pqmf.py reverse_half).
func reverseHalf(x []float32, B, M, T int) {
	split.For(B*M/2, B*M*T/2, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := x[(2*i+1)*T : (2*i+2)*T]
			for t := 0; t < len(row); t += 2 {
				row[t] = -row[t]
			}
		}
	})
}
