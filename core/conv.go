package core

import (
	"fmt"
	"runtime"

	"github.com/ravestation/rave/core/internal/sgemm"
)

// geometry maps column t and tap j of an im2col matrix to position
// p = t·stride + j·dilation − offset of a source signal of length srcLen;
// positions outside the signal read zeros or mirrored samples per mode.
type geometry struct {
	srcLen, cols             int
	k, stride, dilation, off int
	mode                     PadMode
	act                      inputAct // applied by im2col as it reads the source
}

// inputAct is an activation applied to a convolution's input as the
// input is read (LeakyConv1d): LeakyReLU with the given slope when on.
type inputAct struct {
	on    bool
	slope float32
}

// apply returns the activation of one value. LeakyReLU is written without
// a branch (its sign test mispredicts on audio): max(v, slope·v) for a
// slope up to 1 and min(v, slope·v) above, which give the bits of
// "slope·v where v < 0, else v".
func (a inputAct) apply(v float32) float32 {
	if !a.on {
		return v
	}
	if a.slope <= 1 {
		return max(v, v*a.slope)
	}
	return min(v, v*a.slope)
}

// load copies src into dst (of the same length) through the activation.
func (a inputAct) load(dst, src []float32) {
	if a.on {
		sgemm.LeakyReLU(dst, src, a.slope)
		return
	}
	copy(dst, src)
}

// validRange returns the columns [t0, t1) whose tap j lands inside the signal.
func (g geometry) validRange(j int) (t0, t1 int) {
	base := j*g.dilation - g.off // p = t·stride + base
	// smallest t with p ≥ 0
	t0 = 0
	if base < 0 {
		t0 = (-base + g.stride - 1) / g.stride
	}
	// largest t with p ≤ srcLen−1, plus one
	last := g.srcLen - 1 - base
	if last < 0 {
		return 0, 0
	}
	t1 = min(last/g.stride+1, g.cols)
	if t0 > t1 {
		t0 = t1
	}
	return t0, t1
}

// chunk is a block of im2col columns: batches [b0, b0+nb), positions
// [t0, t0+tc) of each. Either nb is 1 or the chunk spans whole rows
// (t0 = 0, tc = cols).
type chunk struct{ b0, nb, t0, tc int }

// width returns the number of columns of the chunk.
func (c chunk) width() int { return c.nb * c.tc }

// chunkBudget is the target size (values) of one im2col block; minChunk is
// the least number of columns a block gets however deep it is, so that the
// GEMM's packing of the weights stays small next to its arithmetic.
var (
	chunkBudget = 1 << 18
	minChunk    = 512
)

// chunks splits the B×cols columns of an im2col with kk rows into blocks
// of about chunkBudget values. The split depends on the shape only, never
// on the number of threads, so results are reproducible.
func chunks(B, cols, kk int) []chunk {
	per := max(chunkBudget/max(kk, 1), minChunk)
	var out []chunk
	if cols <= per {
		nb := max(1, min(B, per/max(cols, 1)))
		// Balance the groups: ceil(B/nb) groups of nearly equal size.
		groups := (B + nb - 1) / nb
		for g := range groups {
			lo, hi := B*g/groups, B*(g+1)/groups
			out = append(out, chunk{b0: lo, nb: hi - lo, t0: 0, tc: cols})
		}
		return out
	}
	n := (cols + per - 1) / per
	// Split points on multiples of 32 columns (the GEMM tile width).
	for b := range B {
		for i := range n {
			lo := roundDown(cols*i/n, 32)
			hi := cols
			if i < n-1 {
				hi = roundDown(cols*(i+1)/n, 32)
			}
			if hi > lo {
				out = append(out, chunk{b0: b, nb: 1, t0: lo, tc: hi - lo})
			}
		}
	}
	return out
}

func roundDown(x, m int) int { return x / m * m }

// im2col fills col, a (C·K) × (nb·tc) matrix, with chunk ch of the im2col of
// C channels of src (B, srcC, srcLen) starting at channel c0:
// col[c·K+j][bi·tc+t] = act(src[b0+bi][c0+c][(t0+t)·stride + j·dilation − off])
// with act the geometry's input activation (the identity when off).
func im2col(serial bool, col, src []float32, srcC, c0, C int, g geometry, ch chunk) {
	N := ch.width()
	if g.stride > 1 && g.mode == PadZero {
		im2colStrided(serial, col, src, srcC, c0, C, g, ch)
		return
	}
	forRange(serial, C*g.k, C*g.k*N, func(lo, hi int) {
		for row := lo; row < hi; row++ {
			c, j := row/g.k, row%g.k
			base := j*g.dilation - g.off
			v0, v1 := g.validRange(j)
			t0, t1 := max(v0, ch.t0), min(v1, ch.t0+ch.tc)
			if t1 < t0 {
				t1 = t0
			}
			for bi := range ch.nb {
				s := src[((ch.b0+bi)*srcC+c0+c)*g.srcLen:][:g.srcLen]
				r := col[row*N+bi*ch.tc:][:ch.tc]
				for t := ch.t0; t < min(t0, ch.t0+ch.tc); t++ {
					r[t-ch.t0] = g.act.apply(edgeValue(s, t*g.stride+base, g.mode))
				}
				if t0 < t1 {
					if g.stride == 1 {
						g.act.load(r[t0-ch.t0:t1-ch.t0], s[t0+base:t1+base])
					} else {
						d := r[t0-ch.t0 : t1-ch.t0]
						p := t0*g.stride + base
						for i := range d {
							d[i] = g.act.apply(s[p])
							p += g.stride
						}
					}
				}
				for t := max(t1, ch.t0); t < ch.t0+ch.tc; t++ {
					r[t-ch.t0] = g.act.apply(edgeValue(s, t*g.stride+base, g.mode))
				}
			}
		}
	})
}

func edgeValue(s []float32, p int, mode PadMode) float32 {
	if i := sourceIndex(p, len(s), mode); i >= 0 {
		return s[i]
	}
	return 0
}

// col2im is the adjoint of im2col: it adds every entry of col (chunk ch)
// into the source position it was read from. Channels are split across
// goroutines; each position receives its additions in a fixed order.
func col2im(serial bool, dst, col []float32, dstC, c0, C int, g geometry, ch chunk) {
	N := ch.width()
	if g.stride > 1 && g.mode == PadZero {
		col2imStrided(serial, dst, col, dstC, c0, C, g, ch)
		return
	}
	forRange(serial, C, C*g.k*N, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for j := range g.k {
				row := col[(c*g.k+j)*N:][:N]
				base := j*g.dilation - g.off
				v0, v1 := g.validRange(j)
				t0, t1 := max(v0, ch.t0), min(v1, ch.t0+ch.tc)
				if t1 < t0 {
					t1 = t0
				}
				for bi := range ch.nb {
					d := dst[((ch.b0+bi)*dstC+c0+c)*g.srcLen:][:g.srcLen]
					r := row[bi*ch.tc:][:ch.tc]
					for t := ch.t0; t < min(t0, ch.t0+ch.tc); t++ {
						if i := sourceIndex(t*g.stride+base, g.srcLen, g.mode); i >= 0 {
							d[i] += r[t-ch.t0]
						}
					}
					if t0 < t1 {
						src := r[t0-ch.t0 : t1-ch.t0]
						if g.stride == 1 {
							addTo(d[t0+base:t1+base], src)
						} else {
							p := t0*g.stride + base
							for _, v := range src {
								d[p] += v
								p += g.stride
							}
						}
					}
					for t := max(t1, ch.t0); t < ch.t0+ch.tc; t++ {
						if i := sourceIndex(t*g.stride+base, g.srcLen, g.mode); i >= 0 {
							d[i] += r[t-ch.t0]
						}
					}
				}
			}
		}
	})
}

// phases describes the polyphase view of a strided im2col: tap j of
// column t reads position s·t + j·d − off = s·(t + a_j) + r_j, that is
// sample t + a_j of phase r_j, where phase r of a signal x is
// x_r[n] = x[s·n + r]. Over a block of tc columns starting at t0 the taps
// read samples [t0 + amin, t0 + amin + L) of each phase, so a block's
// rows are contiguous copies from s phase rows of length L instead of
// strided gathers.
type phases struct {
	a, r    []int
	amin, L int
}

func newPhases(g geometry, tc int) phases {
	ph := phases{a: make([]int, g.k), r: make([]int, g.k)}
	amax := 0
	for j := range g.k {
		base := j*g.dilation - g.off
		a := floorDiv(base, g.stride)
		ph.a[j], ph.r[j] = a, base-a*g.stride
		if j == 0 || a < ph.amin {
			ph.amin = a
		}
		if j == 0 || a > amax {
			amax = a
		}
	}
	ph.L = tc + amax - ph.amin
	return ph
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// fill sets P (s rows of ph.L) to the phases of signal x, through the
// activation act, for the block starting at column t0, zero outside the
// signal.
func (ph phases) fill(P, x []float32, s, t0 int, act inputAct) {
	n0 := t0 + ph.amin
	for r := range s {
		row := P[r*ph.L:][:ph.L]
		mlo, mhi := ph.inside(len(x), s, r, n0)
		clear(row[:mlo])
		if mhi > mlo {
			dst, src := row[mlo:mhi], x[s*(n0+mlo)+r:]
			if act.on && act.slope <= 1 {
				p := act.slope
				for m := range dst {
					v := src[m*s]
					dst[m] = max(v, v*p)
				}
			} else if act.on {
				for m := range dst {
					dst[m] = act.apply(src[m*s])
				}
			} else {
				for m := range dst {
					dst[m] = src[m*s]
				}
			}
		}
		clear(row[max(mhi, mlo):])
	}
}

// inside returns the range [mlo, mhi) of m in [0, L) whose sample
// s·(n0+m) + r lies in a signal of length n.
func (ph phases) inside(n, s, r, n0 int) (mlo, mhi int) {
	mlo = max(0, -n0)
	mhi = min(ph.L, floorDiv(n-1-r, s)-n0+1)
	return min(mlo, ph.L), mhi
}

// drain adds P back into x (the adjoint of fill).
func (ph phases) drain(x, P []float32, s, t0 int) {
	n0 := t0 + ph.amin
	for r := range s {
		row := P[r*ph.L:][:ph.L]
		mlo, mhi := ph.inside(len(x), s, r, n0)
		if mhi > mlo {
			dst := x[s*(n0+mlo)+r:]
			for m, v := range row[mlo:mhi] {
				dst[m*s] += v
			}
		}
	}
}

// im2colStrided is im2col for stride > 1 and zero padding, through the
// polyphase view of each source row.
func im2colStrided(serial bool, col, src []float32, srcC, c0, C int, g geometry, ch chunk) {
	N := ch.width()
	ph := newPhases(g, ch.tc)
	s := g.stride
	forRange(serial, C, C*g.k*N, func(lo, hi int) {
		pp := scratch.Get(s * ph.L)
		P := *pp
		for c := lo; c < hi; c++ {
			for bi := range ch.nb {
				ph.fill(P, src[((ch.b0+bi)*srcC+c0+c)*g.srcLen:][:g.srcLen], s, ch.t0, g.act)
				for j := range g.k {
					off := ph.r[j]*ph.L + ph.a[j] - ph.amin
					copy(col[(c*g.k+j)*N+bi*ch.tc:][:ch.tc], P[off:off+ch.tc])
				}
			}
		}
		scratch.Put(pp)
	})
}

// col2imStrided is col2im for stride > 1 and zero padding: the rows of a
// channel are summed into its phases, which are then added into dst.
func col2imStrided(serial bool, dst, col []float32, dstC, c0, C int, g geometry, ch chunk) {
	N := ch.width()
	ph := newPhases(g, ch.tc)
	s := g.stride
	forRange(serial, C, C*g.k*N, func(lo, hi int) {
		pp := scratch.Get(s * ph.L)
		P := *pp
		for c := lo; c < hi; c++ {
			for bi := range ch.nb {
				clear(P)
				for j := range g.k {
					off := ph.r[j]*ph.L + ph.a[j] - ph.amin
					addTo(P[off:off+ch.tc], col[(c*g.k+j)*N+bi*ch.tc:][:ch.tc])
				}
				ph.drain(dst[((ch.b0+bi)*dstC+c0+c)*g.srcLen:][:g.srcLen], P, s, ch.t0)
			}
		}
		scratch.Put(pp)
	})
}

// gatherGroup copies channels [c0, c0+C) of batches [b0, b0+nb) of x
// (B, xC, T) into dst as a C × (nb·T) matrix.
func gatherGroup(serial bool, dst, x []float32, b0, nb, xC, c0, C, T int) {
	forRange(serial, C, C*nb*T, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for bi := range nb {
				copy(dst[(c*nb+bi)*T:][:T], x[((b0+bi)*xC+c0+c)*T:][:T])
			}
		}
	})
}

// scatterGroup writes (or adds, if accumulate) a C × (nb·T) matrix into
// channels [c0, c0+C) of batches [b0, b0+nb) of y (B, yC, T).
func scatterGroup(serial bool, y, src []float32, b0, nb, yC, c0, C, T int, accumulate bool) {
	forRange(serial, C, C*nb*T, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for bi := range nb {
				d := y[((b0+bi)*yC+c0+c)*T:][:T]
				s := src[(c*nb+bi)*T:][:T]
				if accumulate {
					addTo(d, s)
				} else {
					copy(d, s)
				}
			}
		}
	})
}

// addBias adds bias[c] to every sample of channel c of y (B, C, T).
func addBias(y, bias []float32, B, C, T int) {
	split.For(B*C, B*C*T, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			addConst(y[r*T:][:T], bias[r%C])
		}
	})
}

// biasGrad adds the sum over batch and time of gy (B, C, T) into gb.
func biasGrad(gb, gy []float32, B, C, T int) {
	split.For(C, B*C*T, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			var s float64
			for b := range B {
				s += sum64(gy[(b*C+c)*T:][:T])
			}
			gb[c] += float32(s)
		}
	})
}

// ConvParams configures Conv1d. Zero Stride, Dilation or Groups mean 1.
// The input is padded by PadLeft and PadRight samples made by PadMode before
// a valid cross-correlation, so "same" padding is ((K−1)·d/2, (K−1)·d/2) for
// odd K and causal padding is ((K−1)·d, 0).
type ConvParams struct {
	Stride, Dilation, Groups int
	PadLeft, PadRight        int
	PadMode                  PadMode
}

func (p ConvParams) normalized() ConvParams {
	p.Stride = max(p.Stride, 1)
	p.Dilation = max(p.Dilation, 1)
	p.Groups = max(p.Groups, 1)
	return p
}

// SamePadding returns the centred padding of a kernel of size k and
// dilation d as cached_conv's get_padding computes it: (⌊(p−1)/2⌋, ⌊p/2⌋)
// with p = (k−1)·d + 1, and (0, 0) for k = 1.
func SamePadding(k, d int) (left, right int) {
	if k == 1 {
		return 0, 0
	}
	p := (k-1)*d + 1
	return (p - 1) / 2, p / 2
}

// CausalPadding returns ((k−1)·d, 0).
func CausalPadding(k, d int) (left, right int) { return (k - 1) * d, 0 }

// ConvOutLen returns the output length of Conv1d on an input of length t.
func ConvOutLen(t, k int, p ConvParams) int {
	p = p.normalized()
	span := p.Dilation*(k-1) + 1
	n := t + p.PadLeft + p.PadRight - span
	if n < 0 {
		return 0
	}
	return n/p.Stride + 1
}

type conv1dOp struct {
	x, w, b, y *Tensor
	p          ConvParams
	g          geometry // g.act is the fused input activation
}

// Conv1d returns the cross-correlation of x (B, Cin, T) with w
// (Cout, Cin/groups, K) plus the optional bias b (Cout), like
// torch.nn.functional.conv1d on a padded input.
func (tp *Tape) Conv1d(x, w, b *Tensor, p ConvParams) *Tensor {
	return tp.conv1d("Conv1d", x, w, b, p, inputAct{})
}

// LeakyConv1d returns Conv1d(LeakyReLU(x, slope), w, b, p) without making
// the activation: the convolution applies LeakyReLU as it reads x (while
// forming its im2col or Winograd input tiles), in the forward pass and
// again in the backward pass, so no tensor of x's size is kept between
// them. Padding is applied to x (zeros stay zeros; reflected samples go
// through the activation). Values and gradients are bit-identical to the
// composition.
func (tp *Tape) LeakyConv1d(x, w, b *Tensor, slope float32, p ConvParams) *Tensor {
	return tp.conv1d("LeakyConv1d", x, w, b, p, inputAct{on: true, slope: slope})
}

func (tp *Tape) conv1d(name string, x, w, b *Tensor, p ConvParams, act inputAct) *Tensor {
	p = p.normalized()
	if len(x.shape) != 3 || len(w.shape) != 3 {
		panic(fmt.Sprintf("core: %s: input %v and weight %v must both be 3-D", name, x.shape, w.shape))
	}
	B, Cin, T := x.shape[0], x.shape[1], x.shape[2]
	Cout, Cg, K := w.shape[0], w.shape[1], w.shape[2]
	G := p.Groups
	if Cin%G != 0 || Cout%G != 0 || Cin/G != Cg {
		panic(fmt.Sprintf("core: %s: input has %d channels, weight %v expects %d with %d groups", name, Cin, w.shape, Cg*G, G))
	}
	if b != nil && b.Len() != Cout {
		panic(fmt.Sprintf("core: %s: bias has %d values for %d channels", name, b.Len(), Cout))
	}
	if p.PadMode == PadReflect && (p.PadLeft >= T || p.PadRight >= T) {
		panic(fmt.Sprintf("core: %s: reflect padding (%d, %d) needs an input longer than %d", name, p.PadLeft, p.PadRight, T))
	}
	Tout := ConvOutLen(T, K, p)
	if Tout <= 0 {
		panic(fmt.Sprintf("core: %s: input of length %d too short for kernel %d dilation %d", name, T, K, p.Dilation))
	}
	g := geometry{srcLen: T, cols: Tout, k: K, stride: p.Stride, dilation: p.Dilation, off: p.PadLeft, mode: p.PadMode, act: act}
	rec := tp.record(x, w, b)
	y := tp.output(rec, []int{B, Cout, Tout})
	Og, KK := Cout/G, Cg*K
	if winoUsable(p, Cin, Cout, K, T) {
		u := scratch.Get(6 * Cout * Cin)
		winoWeights(*u, w.data, Cout, Cin)
		var bias []float32
		if b != nil {
			bias = b.data
		}
		winoConv(y.data, x.data, *u, bias, B, Cin, Cout, T, p.Dilation, p.PadLeft, false, act)
		scratch.Put(u)
		if rec {
			tp.push(&conv1dOp{x: x, w: w, b: b, y: y, p: p, g: g}, y)
		}
		return y
	}
	cs := chunks(B, Tout, KK)
	maxW := maxWidth(cs)
	fwd := func(serial bool, gi int, ch chunk, col, tmp *[]float32) {
		N := ch.width()
		wg := w.data[gi*Og*KK:]
		im2col(serial, *col, x.data, Cin, gi*Cg, Cg, g, ch)
		if ch.nb == 1 {
			out := y.data[(ch.b0*Cout+gi*Og)*Tout+ch.t0:]
			gemm(serial, false, false, Og, ch.tc, KK, wg, KK, *col, N, 0, out, Tout)
			return
		}
		gemm(serial, false, false, Og, N, KK, wg, KK, *col, N, 0, *tmp, N)
		scatterGroup(serial, y.data, *tmp, ch.b0, ch.nb, Cout, gi*Og, Og, Tout, false)
	}
	work := 2 * B * Cout * Cg * K * Tout
	if units := blockUnits(cs); useItems(G, units, cs, Cout, KK) {
		split.For(G*len(units), work, func(lo, hi int) {
			col, tmp := scratch.Get(KK*maxW), scratch.Get(Og*maxW)
			for it := lo; it < hi; it++ {
				gi, u := it/len(units), units[it%len(units)]
				for _, ch := range cs[u[0]:u[1]] {
					fwd(true, gi, ch, col, tmp)
				}
			}
			scratch.Put(col)
			scratch.Put(tmp)
		})
	} else {
		eachGroup(G, work, func(g0, g1 int, serial bool) {
			col, tmp := scratch.Get(KK*maxW), scratch.Get(Og*maxW)
			for gi := g0; gi < g1; gi++ {
				for _, ch := range cs {
					fwd(serial, gi, ch, col, tmp)
				}
			}
			scratch.Put(col)
			scratch.Put(tmp)
		})
	}
	if b != nil {
		addBias(y.data, b.data, B, Cout, Tout)
	}
	if rec {
		tp.push(&conv1dOp{x: x, w: w, b: b, y: y, p: p, g: g}, y)
	}
	return y
}

func maxWidth(cs []chunk) int {
	n := 0
	for _, c := range cs {
		n = max(n, c.width())
	}
	return n
}

func (o *conv1dOp) backward() {
	gy := o.y.grad
	if gy == nil {
		return
	}
	B, Cin := o.x.shape[0], o.x.shape[1]
	Cout, Cg, K := o.w.shape[0], o.w.shape[1], o.w.shape[2]
	Tout := o.y.shape[2]
	G := o.p.Groups
	Og, KK := Cout/G, Cg*K
	if o.b != nil && o.b.requiresGrad {
		biasGrad(o.b.ensureGrad(), gy, B, Cout, Tout)
	}
	if !o.x.requiresGrad && !o.w.requiresGrad {
		return
	}
	var gw, gx []float32
	if o.w.requiresGrad {
		gw = o.w.ensureGrad()
	}
	if winoUsable(o.p, Cin, Cout, K, o.x.shape[2]) {
		// A fused input activation is handled inside: each row of the
		// gradient goes through its derivative once complete.
		var fresh bool
		if o.x.requiresGrad {
			gx, fresh = o.x.gradOut()
		}
		u := scratch.Get(6 * Cout * Cin)
		winoWeights(*u, o.w.data, Cout, Cin)
		winoBackward(gx, gw, o.x.data, *u, gy, B, Cin, Cout, Tout, o.p.Dilation, o.p.PadLeft, fresh, o.g.act)
		scratch.Put(u)
		return
	}
	// With a fused input activation the input gradient is first formed
	// with respect to the activation, in a scratch buffer, and then passed
	// through the activation's derivative into x's gradient: the
	// arithmetic of the unfused LeakyReLU and Conv1d.
	switch {
	case o.x.requiresGrad && o.g.act.on:
		ga := scratch.Get(len(o.x.data))
		defer o.actBackward(ga)
		gx = *ga
		clear(gx)
	case o.x.requiresGrad:
		gx = o.x.ensureGrad()
	}
	cs := chunks(B, Tout, KK)
	maxW := maxWidth(cs)
	// bwd does one block of one group; the weight gradient goes into dw,
	// with weight beta on what dw holds.
	bwd := func(serial bool, gi int, ch chunk, dw []float32, beta float32, col, dmat *[]float32) {
		N := ch.width()
		// d is the block of the output gradient as an Og × N matrix.
		var d []float32
		ldd := N
		if ch.nb == 1 {
			d, ldd = gy[(ch.b0*Cout+gi*Og)*Tout+ch.t0:], Tout
		} else {
			gatherGroup(serial, *dmat, gy, ch.b0, ch.nb, Cout, gi*Og, Og, Tout)
			d = *dmat
		}
		if gw != nil {
			im2col(serial, *col, o.x.data, Cin, gi*Cg, Cg, o.g, ch)
			gemm(serial, false, true, Og, KK, N, d, ldd, *col, N, beta, dw, KK)
		}
		if gx != nil {
			gemm(serial, true, false, KK, N, Og, o.w.data[gi*Og*KK:], KK, d, ldd, 0, *col, N)
			col2im(serial, gx, *col, Cin, gi*Cg, Cg, o.g, ch)
		}
	}
	work := 4 * B * Cout * KK * Tout
	units := blockUnits(cs)
	if !useItems(G, units, cs, Cout, KK) {
		eachGroup(G, work, func(g0, g1 int, serial bool) {
			col, dmat := scratch.Get(KK*maxW), scratch.Get(Og*maxW)
			for gi := g0; gi < g1; gi++ {
				for _, ch := range cs {
					var dw []float32
					if gw != nil {
						dw = gw[gi*Og*KK:]
					}
					bwd(serial, gi, ch, dw, 1, col, dmat)
				}
			}
			scratch.Put(col)
			scratch.Put(dmat)
		})
		return
	}
	// Work items (group, batch element) on separate goroutines: each
	// block's weight gradient goes to its own slot, and the slots are
	// added into gw in block order afterwards, which rounds exactly as
	// accumulating them one block after another would.
	nc := len(cs)
	var parts *[]float32
	if gw != nil {
		parts = scratch.Get(G * nc * Og * KK)
	}
	split.For(G*len(units), work, func(lo, hi int) {
		col, dmat := scratch.Get(KK*maxW), scratch.Get(Og*maxW)
		for it := lo; it < hi; it++ {
			gi, u := it/len(units), units[it%len(units)]
			for ci := u[0]; ci < u[1]; ci++ {
				var dw []float32
				if gw != nil {
					dw = (*parts)[(gi*nc+ci)*Og*KK:]
				}
				bwd(true, gi, cs[ci], dw, 0, col, dmat)
			}
		}
		scratch.Put(col)
		scratch.Put(dmat)
	})
	if gw != nil {
		P, n := *parts, Og*KK
		parallelElems(Cout*KK, nc, func(lo, hi int) {
			for e := lo; e < hi; e++ {
				gi, r := e/n, e%n
				acc := gw[e]
				for ci := range nc {
					acc += P[(gi*nc+ci)*n+r]
				}
				gw[e] = acc
			}
		})
		scratch.Put(parts)
	}
}

// actBackward adds (or assigns, to a fresh gradient) the gradient ga with
// respect to the activated input, through LeakyReLU's derivative, into x's
// gradient, and hands ga back to the scratch pool.
func (o *conv1dOp) actBackward(ga *[]float32) {
	gx, fresh := o.x.gradOut()
	x, g, slope := o.x.data, *ga, o.g.act.slope
	parallelElems(len(gx), 1, func(lo, hi int) {
		sgemm.LeakyReLUGrad(gx[lo:hi], g[lo:hi], x[lo:hi], slope, !fresh)
	})
	scratch.Put(ga)
}

// ConvTransposeParams configures ConvTranspose1d with PyTorch's meaning:
// the full output is cropped by Padding samples at both ends and then
// extended by OutputPadding samples at the end. Zero Stride, Dilation or
// Groups mean 1.
type ConvTransposeParams struct {
	Stride, Dilation, Groups int
	Padding, OutputPadding   int
}

func (p ConvTransposeParams) normalized() ConvTransposeParams {
	p.Stride = max(p.Stride, 1)
	p.Dilation = max(p.Dilation, 1)
	p.Groups = max(p.Groups, 1)
	return p
}

// ConvTransposeOutLen returns the output length of ConvTranspose1d on an
// input of length t: (t−1)·stride − 2·padding + dilation·(k−1) +
// output_padding + 1.
func ConvTransposeOutLen(t, k int, p ConvTransposeParams) int {
	p = p.normalized()
	return (t-1)*p.Stride - 2*p.Padding + p.Dilation*(k-1) + p.OutputPadding + 1
}

type convTranspose1dOp struct {
	x, w, b, y *Tensor
	p          ConvTransposeParams
	g          geometry
}

// ConvTranspose1d returns the transposed convolution of x (B, Cin, T) with
// w (Cin, Cout/groups, K) plus the optional bias b (Cout), like
// torch.nn.functional.conv_transpose1d.
func (tp *Tape) ConvTranspose1d(x, w, b *Tensor, p ConvTransposeParams) *Tensor {
	p = p.normalized()
	if len(x.shape) != 3 || len(w.shape) != 3 {
		panic(fmt.Sprintf("core: ConvTranspose1d: input %v and weight %v must both be 3-D", x.shape, w.shape))
	}
	B, Cin, T := x.shape[0], x.shape[1], x.shape[2]
	G := p.Groups
	Og, K := w.shape[1], w.shape[2]
	if w.shape[0] != Cin || Cin%G != 0 {
		panic(fmt.Sprintf("core: ConvTranspose1d: input has %d channels, weight %v expects %d with %d groups", Cin, w.shape, w.shape[0], G))
	}
	if p.OutputPadding >= max(p.Stride, p.Dilation) {
		panic(fmt.Sprintf("core: ConvTranspose1d: output padding %d must be smaller than stride or dilation", p.OutputPadding))
	}
	Cout := Og * G
	if b != nil && b.Len() != Cout {
		panic(fmt.Sprintf("core: ConvTranspose1d: bias has %d values for %d channels", b.Len(), Cout))
	}
	Tout := ConvTransposeOutLen(T, K, p)
	if Tout <= 0 {
		panic(fmt.Sprintf("core: ConvTranspose1d: padding %d leaves no output for length %d", p.Padding, T))
	}
	g := geometry{srcLen: Tout, cols: T, k: K, stride: p.Stride, dilation: p.Dilation, off: p.Padding, mode: PadZero}
	rec := tp.record(x, w, b)
	y := tp.outputZeroed(rec, []int{B, Cout, Tout})
	Cg, KK := Cin/G, Og*K
	cs := chunks(B, T, KK)
	col := scratch.Get(KK * maxWidth(cs))
	var xmat *[]float32
	for _, ch := range cs {
		N := ch.width()
		for gi := range G {
			var xm []float32
			ldx := N
			if ch.nb == 1 {
				xm, ldx = x.data[(ch.b0*Cin+gi*Cg)*T+ch.t0:], T
			} else {
				if xmat == nil {
					xmat = scratch.Get(Cg * maxWidth(cs))
				}
				gatherGroup(false, *xmat, x.data, ch.b0, ch.nb, Cin, gi*Cg, Cg, T)
				xm = *xmat
			}
			sgemm.Sgemm(true, false, KK, N, Cg, 1, w.data[gi*Cg*KK:], KK, xm, ldx, 0, *col, N)
			col2im(false, y.data, *col, Cout, gi*Og, Og, g, ch)
		}
	}
	scratch.Put(col)
	if xmat != nil {
		scratch.Put(xmat)
	}
	if b != nil {
		addBias(y.data, b.data, B, Cout, Tout)
	}
	if rec {
		tp.push(&convTranspose1dOp{x: x, w: w, b: b, y: y, p: p, g: g}, y)
	}
	return y
}

func (o *convTranspose1dOp) backward() {
	gy := o.y.grad
	if gy == nil {
		return
	}
	B, Cin, T := o.x.shape[0], o.x.shape[1], o.x.shape[2]
	Og, K := o.w.shape[1], o.w.shape[2]
	G := o.p.Groups
	Cout, Tout := o.y.shape[1], o.y.shape[2]
	Cg, KK := Cin/G, Og*K
	if o.b != nil && o.b.requiresGrad {
		biasGrad(o.b.ensureGrad(), gy, B, Cout, Tout)
	}
	if !o.x.requiresGrad && !o.w.requiresGrad {
		return
	}
	var gw, gx []float32
	if o.w.requiresGrad {
		gw = o.w.ensureGrad()
	}
	// Every element of gx is written by exactly one block below, so a
	// fresh gradient is assigned rather than cleared and added to.
	var fresh bool
	if o.x.requiresGrad {
		gx, fresh = o.x.gradOut()
	}
	beta := float32(1)
	if fresh {
		beta = 0
	}
	cs := chunks(B, T, KK)
	col := scratch.Get(KK * maxWidth(cs))
	var mat *[]float32
	for _, ch := range cs {
		N := ch.width()
		for gi := range G {
			im2col(false, *col, gy, Cout, gi*Og, Og, o.g, ch)
			if gw != nil {
				var xm []float32
				ldx := N
				if ch.nb == 1 {
					xm, ldx = o.x.data[(ch.b0*Cin+gi*Cg)*T+ch.t0:], T
				} else {
					if mat == nil {
						mat = scratch.Get(Cg * maxWidth(cs))
					}
					gatherGroup(false, *mat, o.x.data, ch.b0, ch.nb, Cin, gi*Cg, Cg, T)
					xm = *mat
				}
				sgemm.Sgemm(false, true, Cg, KK, N, 1, xm, ldx, *col, N, 1, gw[gi*Cg*KK:], KK)
			}
			if gx != nil {
				wg := o.w.data[gi*Cg*KK:]
				if ch.nb == 1 {
					sgemm.Sgemm(false, false, Cg, ch.tc, KK, 1, wg, KK, *col, N, beta, gx[(ch.b0*Cin+gi*Cg)*T+ch.t0:], T)
					continue
				}
				if mat == nil {
					mat = scratch.Get(Cg * maxWidth(cs))
				}
				sgemm.Sgemm(false, false, Cg, N, KK, 1, wg, KK, *col, N, 0, *mat, N)
				scatterGroup(false, gx, *mat, ch.b0, ch.nb, Cin, gi*Cg, Cg, T, !fresh)
			}
		}
	}
	scratch.Put(col)
	if mat != nil {
		scratch.Put(mat)
	}
}

// minParallelGroups is the least number of groups of a grouped convolution
// for which whole groups are handed to goroutines (each doing its im2col and
// products alone) instead of splitting every small product across threads.
const minParallelGroups = 4

// eachGroup runs fn over the groups [0, G): on one goroutine with parallel
// kernels inside (serial false), or, with many groups and more than one
// thread, over disjoint ranges of groups in parallel with serial kernels.
// Both give the same bits: a group's arithmetic does not depend on it.
func eachGroup(G, work int, fn func(g0, g1 int, serial bool)) {
	if G >= minParallelGroups && runtime.GOMAXPROCS(0) > 1 {
		split.For(G, work, func(lo, hi int) { fn(lo, hi, true) })
		return
	}
	fn(0, G, false)
}

// gemm is sgemm.Sgemm (alpha 1), on the calling goroutine alone if serial.
func gemm(serial, tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if serial {
		sgemm.SgemmSerial(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemm.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

// forRange runs fn over [0, n): on the calling goroutine if serial, else
// through split.For.
func forRange(serial bool, n, work int, fn func(lo, hi int)) {
	if serial {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	split.For(n, work, fn)
}

// blockUnits splits the blocks of an im2col into units of consecutive
// blocks that read and write the same batch element (the blocks of one
// row); a block of whole rows is a unit by itself. Different units touch
// disjoint rows of the input and output.
func blockUnits(cs []chunk) [][2]int {
	var us [][2]int
	for i := 0; i < len(cs); {
		j := i + 1
		for j < len(cs) && cs[i].nb == 1 && cs[j].nb == 1 && cs[j].b0 == cs[i].b0 {
			j++
		}
		us = append(us, [2]int{i, j})
		i = j
	}
	return us
}

// maxPartials bounds the per-block weight-gradient slots (values) of the
// work-item path.
const maxPartials = 1 << 21

// useItems reports whether an im2col convolution is split into work items
// (group, unit) run on separate goroutines with serial kernels, rather
// than running its blocks one after another with parallel kernels: when
// there are enough items and the per-block weight-gradient slots are
// small. It depends on the shapes only, so the rounding does not depend
// on the number of threads.
func useItems(G int, units [][2]int, cs []chunk, cout, kk int) bool {
	return G*len(units) >= 4 && len(cs)*cout*kk <= maxPartials
}
