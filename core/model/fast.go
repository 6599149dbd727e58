package model

// Inference fast path. Without a tape the model runs its layers through
// the kernels below instead of the generic core ops: the activation that
// precedes a convolution (LeakyReLU, or eval-mode BatchNorm then
// LeakyReLU) is applied while the im2col matrix is formed, a residual
// branch accumulates straight into the trunk (GEMM with β = 1), the three
// heads share one GEMM, and every intermediate buffer is recycled. The
// arithmetic is the same as the core ops' (one GEMM over Cin·K per output),
// so results agree with the training path to float32 rounding.

import (
	"fmt"
	"math"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/convinfer"
	"github.com/ravestation/rave/core/internal/isa"
	"github.com/ravestation/rave/core/internal/par"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// inference is the tape-free path of conv.forward for layers run outside
// the fused trunks (discriminator, noise network): a plain convolution.
func (c *conv) inference(x *core.Tensor) *core.Tensor {
	return c.infer(x, act{}, nil)
}

// fastInference selects the fused inference path for tape-less forward
// passes (a variable so tests and benchmarks can compare with the generic
// core ops).
var fastInference = true

// useWinograd selects the Winograd F(4,3) kernel for kernel-3 stride-1
// convolutions in inference (a variable for tests and benchmarks).
var useWinograd = true

// act is the element-wise map applied to a convolution's input: optional
// per-channel affine (eval BatchNorm) then optional LeakyReLU.
type act struct {
	leaky        bool
	scale, shift []float32 // per input channel, or nil
}

var leakyAct = act{leaky: true}

func (a act) apply(dst, src []float32, c int) {
	dst = dst[:len(src)]
	switch {
	case a.scale != nil:
		s, b := a.scale[c], a.shift[c]
		if a.leaky {
			for i, v := range src {
				v = v*s + b
				dst[i] = max(v, v*leakySlope) // branch-free LeakyReLU (slope < 1)
			}
			return
		}
		for i, v := range src {
			dst[i] = v*s + b
		}
	case a.leaky:
		sgemm.LeakyReLU(dst, src, leakySlope)
	default:
		copy(dst, src)
	}
}

// split is the threshold of the package's parallel loops and bufs
// recycles float32 buffers by power-of-two size class (core/internal/par).
var (
	split = par.Split{MinWork: 1 << 15}
	bufs  par.Classes
)

// convGeom is a Conv1d's geometry.
type convGeom struct {
	cin, cout, k, stride, dil, groups, padL, padR int
}

func (g convGeom) outLen(t int) int {
	return (t+g.padL+g.padR-g.dil*(g.k-1)-1)/g.stride + 1
}

// im2colAct fills col (C·K × Tout) from channels [c0, c0+C) of x (one batch
// element, (Cin, T)) with the activation applied:
// col[c·K+j][t] = a(x[c0+c][t·stride + j·dil − padL]), zero outside.
func im2colAct(col, x []float32, T, c0, C, Tout int, g convGeom, a act) {
	span := T + g.padL + g.padR
	split.For(C, C*g.k*Tout, func(lo, hi int) {
		row := bufs.Get(span)
		defer bufs.Put(row)
		for c := lo; c < hi; c++ {
			clear(row[:g.padL])
			clear(row[g.padL+T:])
			a.apply(row[g.padL:g.padL+T], x[(c0+c)*T:(c0+c+1)*T], c0+c)
			for j := range g.k {
				dst := col[(c*g.k+j)*Tout : (c*g.k+j+1)*Tout]
				off := j * g.dil
				if g.stride == 1 {
					copy(dst, row[off:off+Tout])
					continue
				}
				for t := range dst {
					dst[t] = row[off+t*g.stride]
				}
			}
		}
	})
}

// conv1dInfer computes out (B, Cout, Tout) = conv(a(x)) + bias for x
// (B, Cin, T). If accumulate is set, the result is added to out (which
// must hold B·Cout·Tout values); otherwise out is overwritten. w is
// (Cout, Cin/groups, K); bw, when not nil, holds each group's weights in
// bfloat16 and is used instead.
func conv1dInfer(out, x, w, bias []float32, B, T int, g convGeom, a act, accumulate bool, bw []*sgemm.BF16Matrix) {
	if bw != nil {
		conv1dBF16(out, x, bias, B, T, g, a, accumulate, bw)
		return
	}
	Tout := g.outLen(T)
	Cg, Og := g.cin/g.groups, g.cout/g.groups
	KK := Cg * g.k
	direct := g.k == 1 && g.stride == 1 && a.scale == nil && !a.leaky && g.padL == 0 && g.padR == 0
	if !direct && g.groups == 1 && useChunked {
		conv1dPhased(out, x, w, bias, B, T, Tout, chunkCols(KK, Tout), g, a, accumulate)
		return
	}
	var col []float32
	if !direct {
		col = bufs.Get(KK * Tout)
		defer bufs.Put(col)
	}
	beta := convinfer.Beta(accumulate)
	for b := range B {
		xb := x[b*g.cin*T : (b+1)*g.cin*T]
		yb := out[b*g.cout*Tout : (b+1)*g.cout*Tout]
		for gi := range g.groups {
			src := xb[gi*Cg*T:]
			if !direct {
				im2colAct(col, xb, T, gi*Cg, Cg, Tout, g, a)
				src = col
			}
			if bw != nil {
				bw[gi].Mul(Tout, src, Tout, accumulate, yb[gi*Og*Tout:], Tout)
				continue
			}
			sgemm.Sgemm(false, false, Og, Tout, KK, 1, w[gi*Og*KK:], KK, src, Tout, beta, yb[gi*Og*Tout:], Tout)
		}
		addBias(yb, bias, g.cout, Tout)
	}
}

// useChunked selects conv1dChunked for long convolutions (a variable for
// tests and benchmarks).
var useChunked = true

// chunkBytes is the size of the im2col block one worker builds and
// multiplies at a time: half of a core's L2 cache (within 128 KiB – 1 MiB),
// so that the block stays there with the GEMM's packed panels.
var chunkBytes = min(max(isa.L2Bytes()/2, 128<<10), 1<<20)

// chunkCols is convinfer.ChunkCols with blocks of chunkBytes.
func chunkCols(kk, tout int) int { return convinfer.ChunkCols(chunkBytes, kk, tout) }

// conv1dPhased is conv1dInfer for one group. The input is first
// activated, zero-padded and split into its stride phases once
// (P[c][ph][v] = x̃[c][v·stride + ph]), so that each row of the im2col
// matrix, x̃[c][t·stride + j·dil] over t, is a contiguous run of P; the
// GEMM over it (convinfer.MulPhased) takes blocks of about nc columns, or
// the whole matrix with nc = 0, with the same result either way.
func conv1dPhased(out, x, w, bias []float32, B, T, Tout, nc int, g convGeom, a act, accumulate bool) {
	s := g.stride
	Lp := g.padL + T + g.padR
	Lph := (Lp + s - 1) / s // length of one phase
	xp := bufs.Get(g.cin * s * Lph)
	defer bufs.Put(xp)
	offs := convinfer.PhaseOffsets(g.cin, g.k, s, g.dil, Lph) // im2col row r = (c, j) starts at xp[offs[r]]
	beta := convinfer.Beta(accumulate)
	for b := range B {
		xb := x[b*g.cin*T : (b+1)*g.cin*T]
		yb := out[b*g.cout*Tout : (b+1)*g.cout*Tout]
		splitPhases(xp, xb, T, Lph, g, a)
		convinfer.MulPhased(yb, xp, offs, w, bias, g.cout, Tout, nc, beta, nil)
	}
}

// splitPhases writes the activated, zero-padded input x̃ of one batch
// element xb (Cin, T) into xp split into its stride phases:
// xp[(c·stride + ph)·Lph + v] = x̃[c][v·stride + ph], zero past the padding.
func splitPhases(xp, xb []float32, T, Lph int, g convGeom, a act) {
	convinfer.SplitPhases(xp, xb, g.cin, T, g.stride, Lph, g.padL, a.apply)
}

// addBias adds bias[c] to row c of y (C rows of n), in parallel; a nil
// bias adds nothing.
func addBias(y, bias []float32, C, n int) {
	if bias == nil {
		return
	}
	split.For(C, C*n, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			v := bias[c]
			row := y[c*n : (c+1)*n]
			for i := range row {
				row[i] += v
			}
		}
	})
}

// conv1dBF16 is conv1dInfer through bfloat16 products without an im2col
// matrix: the input is copied once, activated, zero-padded and split into
// its stride phases (P[c][ph][v] = x̃[c][v·stride + ph]), so that every row
// of the im2col matrix, x̃[c][t·stride + j·dil] over t, is a contiguous
// run of that copy, which the GEMM reads by row offsets.
func conv1dBF16(out, x, bias []float32, B, T int, g convGeom, a act, accumulate bool, bw []*sgemm.BF16Matrix) {
	s := g.stride
	Lp := g.padL + T + g.padR
	Lph := (Lp + s - 1) / s // length of one phase
	Tout := g.outLen(T)
	Cg, Og := g.cin/g.groups, g.cout/g.groups
	xp := bufs.Get(g.cin * s * Lph)
	offs := make([]int, Cg*g.k)
	defer bufs.Put(xp)
	for b := range B {
		xb := x[b*g.cin*T : (b+1)*g.cin*T]
		yb := out[b*g.cout*Tout : (b+1)*g.cout*Tout]
		splitPhases(xp, xb, T, Lph, g, a)
		for gi := range g.groups {
			for c := range Cg {
				for j := range g.k {
					d := j * g.dil
					offs[c*g.k+j] = ((gi*Cg+c)*s+d%s)*Lph + d/s
				}
			}
			bw[gi].MulRows(Tout, xp, offs, accumulate, yb[gi*Og*Tout:], Tout)
		}
		addBias(yb, bias, g.cout, Tout)
	}
}

// convTranspose1dInfer computes out (B, Cout, Tout) = conv_transpose(a(x))
// + bias for x (B, Cin, T) and w (Cin, Cout, K) (one group), PyTorch
// semantics with the given padding. bw, when not nil, is Wᵀ (Cout·K ×
// Cin) in bfloat16 and is used instead of w.
func convTranspose1dInfer(out, x, w, bias []float32, B, Cin, T, Cout, K, stride, pad int, a act, bw *sgemm.BF16Matrix) {
	Tout := (T-1)*stride - 2*pad + K
	xa := bufs.Get(Cin * T)
	col := bufs.Get(Cout * K * T)
	defer bufs.Put(xa)
	defer bufs.Put(col)
	for b := range B {
		xb := x[b*Cin*T : (b+1)*Cin*T]
		split.For(Cin, Cin*T, func(lo, hi int) {
			for c := lo; c < hi; c++ {
				a.apply(xa[c*T:(c+1)*T], xb[c*T:(c+1)*T], c)
			}
		})
		// col (Cout·K × T) = Wᵀ · a(x), W seen as (Cin × Cout·K).
		if bw != nil {
			bw.Mul(T, xa, T, false, col, T)
		} else {
			sgemm.Sgemm(true, false, Cout*K, T, Cin, 1, w, Cout*K, xa, T, 0, col, T)
		}
		yb := out[b*Cout*Tout : (b+1)*Cout*Tout]
		split.For(Cout, Cout*K*T, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				y := yb[o*Tout : (o+1)*Tout]
				v := float32(0)
				if bias != nil {
					v = bias[o]
				}
				for i := range y {
					y[i] = v
				}
				for j := range K {
					r := col[(o*K+j)*T : (o*K+j+1)*T]
					// y[t·stride + j − pad] += r[t]
					t0 := 0
					if j < pad {
						t0 = (pad - j + stride - 1) / stride
					}
					t1 := 0 // one past the last t with t·stride + j − pad ≤ Tout − 1
					if last := Tout - 1 + pad - j; last >= 0 {
						t1 = min(T, last/stride+1)
					}
					for t := t0; t < t1; t++ {
						y[t*stride+j-pad] += r[t]
					}
				}
			}
		})
	}
}

// geom returns the layer's Conv1d geometry.
func (c *conv) geom() convGeom {
	s := c.weightShape()
	return convGeom{cin: s[1] * c.groups, cout: s[0], k: s[2], stride: c.p.Stride, dil: c.p.Dilation, groups: c.groups, padL: c.p.PadLeft, padR: c.p.PadRight}
}

// infer runs the layer on a(x) without a tape. If acc is non-nil the
// result is added into it (same shape as the output) and acc is returned.
// The output is a pooled buffer; release it with release when done.
func (c *conv) infer(x *core.Tensor, a act, acc *core.Tensor) *core.Tensor {
	c.refresh()
	w := c.cache.Data()
	var bias []float32
	if c.b != nil {
		bias = c.b.Data()
	}
	B, T := x.Dim(0), x.Dim(2)
	if c.transposed {
		s := c.weightShape()
		Tout := (T-1)*c.tpar.Stride - 2*c.tpar.Padding + s[2]
		y := pooledTensor(B, s[1], Tout)
		var bw *sgemm.BF16Matrix
		if bf := c.bfloat16(); bf != nil {
			bw = bf.t
		} else if upWinoUsable(s[2], c.tpar.Stride) {
			if c.wino == nil {
				c.wino = upWinoWeights(w, s[0], s[1], c.tpar.Stride)
			}
			for b := range B {
				convTransposeWinograd(y.Data()[b*s[1]*Tout:(b+1)*s[1]*Tout], x.Data()[b*s[0]*T:(b+1)*s[0]*T], c.wino, bias, s[0], s[1], T, c.tpar.Stride, c.tpar.Padding, a)
			}
			return y
		}
		convTranspose1dInfer(y.Data(), x.Data(), w, bias, B, s[0], T, s[1], s[2], c.tpar.Stride, c.tpar.Padding, a, bw)
		return y
	}
	g := c.geom()
	Tout := g.outLen(T)
	if useWinograd && winoUsable(g) {
		if c.wino == nil {
			c.wino = winoWeights(w, g.cout, g.cin)
		}
		var bu *[6]*sgemm.BF16Matrix
		if bf := c.bfloat16(); bf != nil {
			bu = &bf.wino
		}
		y := acc
		if y == nil {
			y = pooledTensor(B, g.cout, Tout)
		}
		for b := range B {
			conv3Winograd(y.Data()[b*g.cout*T:(b+1)*g.cout*T], x.Data()[b*g.cin*T:(b+1)*g.cin*T], c.wino, bias, g.cin, g.cout, T, g.dil, g.padL, a, acc != nil, bu)
		}
		return y
	}
	var bw []*sgemm.BF16Matrix
	if bf := c.bfloat16(); bf != nil {
		bw = bf.groups
	} else if stridedWinoUsable(g) {
		if c.wino == nil {
			c.wino = stridedWinoWeights(w, g)
		}
		y := acc
		if y == nil {
			y = pooledTensor(B, g.cout, Tout)
		}
		for b := range B {
			convStridedWinograd(y.Data()[b*g.cout*Tout:(b+1)*g.cout*Tout], x.Data()[b*g.cin*T:(b+1)*g.cin*T], c.wino, bias, T, g, a, acc != nil)
		}
		return y
	}
	if acc != nil {
		conv1dInfer(acc.Data(), x.Data(), w, bias, B, T, g, a, true, bw)
		return acc
	}
	y := pooledTensor(B, g.cout, Tout)
	conv1dInfer(y.Data(), x.Data(), w, bias, B, T, g, a, false, bw)
	return y
}

// bfWeights is a layer's weights rounded to bfloat16 for inference at
// that precision (Model.SetInferencePrecision), built from the cached
// effective weight and dropped with it.
type bfWeights struct {
	groups []*sgemm.BF16Matrix  // Conv1d: each group's (Cout/groups × Cin/groups·K)
	wino   [6]*sgemm.BF16Matrix // Conv1d through Winograd: each U_k (Cout × Cin)
	t      *sgemm.BF16Matrix    // ConvTranspose1d: Wᵀ (Cout·K × Cin)
}

// bfloat16 returns the layer's bfloat16 weights when the model infers at
// that precision (building them on first use), nil otherwise. The caller
// has refreshed the effective weight.
func (c *conv) bfloat16() *bfWeights {
	if !c.gen.bf16 {
		return nil
	}
	if c.bf != nil {
		return c.bf
	}
	w := c.cache.Data()
	bf := &bfWeights{}
	s := c.weightShape()
	switch g := c.geom(); {
	case c.transposed:
		bf.t = sgemm.NewBF16Matrix(true, s[1]*s[2], s[0], w, s[1]*s[2])
	case useWinograd && winoUsable(g):
		if c.wino == nil {
			c.wino = winoWeights(w, g.cout, g.cin)
		}
		for k := range bf.wino {
			bf.wino[k] = sgemm.NewBF16Matrix(false, g.cout, g.cin, c.wino[k*g.cout*g.cin:], g.cin)
		}
	default:
		Og, KK := g.cout/g.groups, g.cin/g.groups*g.k
		for gi := range g.groups {
			bf.groups = append(bf.groups, sgemm.NewBF16Matrix(false, Og, KK, w[gi*Og*KK:], KK))
		}
	}
	c.bf = bf
	return bf
}

// pooledTensor returns a tensor backed by a recycled buffer (contents
// unspecified).
func pooledTensor(shape ...int) *core.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return core.New(bufs.Get(n), shape...)
}

// release returns a pooled tensor's buffer for reuse; t must not be used
// afterwards.
func release(ts ...*core.Tensor) {
	for _, t := range ts {
		if t != nil {
			bufs.Put(t.Data())
		}
	}
}

// bnAct returns the eval-mode BatchNorm of l followed by LeakyReLU as an
// input activation: y = leaky(x·s + b) with s = γ/√(var+eps),
// b = β − mean·s.
func (l *bnLayer) bnAct() act {
	C := l.gamma.Len()
	a := act{leaky: true, scale: make([]float32, C), shift: make([]float32, C)}
	for c := range C {
		r := 1 / math.Sqrt(float64(l.stats.RunningVar[c])+float64(l.stats.Eps))
		s := float64(l.gamma.Data()[c]) * r
		a.scale[c] = float32(s)
		a.shift[c] = float32(float64(l.beta.Data()[c]) - float64(l.stats.RunningMean[c])*s)
	}
	return a
}

// encodeInfer is Encoder.Forward without a tape, in eval mode.
func (e *Encoder) encodeInfer(x *core.Tensor) (mean, scale *core.Tensor) {
	h := e.convs[0].infer(x, act{}, nil)
	for i, bn := range e.bns {
		n := e.convs[i+1].infer(h, bn.bnAct(), nil)
		release(h)
		h = n
	}
	out := e.convs[len(e.convs)-1].infer(h, leakyAct, nil)
	release(h)
	mean = (*core.Tape)(nil).Slice(out, 1, 0, e.latent)
	scale = (*core.Tape)(nil).Slice(out, 1, e.latent, 2*e.latent)
	release(out)
	return mean, scale
}

// trunkInfer is Decoder.Trunk without a tape; the result is pooled.
func (d *Decoder) trunkInfer(z *core.Tensor) *core.Tensor {
	h := d.in.infer(z, act{}, nil)
	for i, up := range d.ups {
		n := up.infer(h, leakyAct, nil)
		release(h)
		h = n
		for _, blk := range d.res[i] {
			t := blk[0].infer(h, leakyAct, nil)
			blk[1].infer(t, leakyAct, h) // h += conv(leaky(t))
			release(t)
		}
	}
	return h
}

// headsInfer computes tanh(wave)·mod_sigmoid(loud) from the trunk output h
// with one GEMM when both heads have stride 1 (the loudness kernel is
// zero-padded to the waveform kernel's width); the result is a new tensor.
func (d *Decoder) headsInfer(h *core.Tensor) *core.Tensor {
	B, T := h.Dim(0), h.Dim(2)
	M := d.cfg.DataSize
	w, bias, g, ok := d.mergedHeads()
	y := core.Zeros(B, M, T)
	if !ok {
		wave := d.wave.infer(h, act{}, nil)
		loud := d.Loudness(nil, h)
		combineHeads(y.Data(), wave.Data(), loud.Data(), B, M, T)
		release(wave)
		return y
	}
	out := bufs.Get(B * (M + 1) * T)
	defer bufs.Put(out)
	var bw []*sgemm.BF16Matrix
	if d.wave.gen.bf16 {
		if d.headsBF == nil {
			d.headsBF = sgemm.NewBF16Matrix(false, M+1, g.cin*g.k, w, g.cin*g.k)
		}
		bw = []*sgemm.BF16Matrix{d.headsBF}
	}
	conv1dInfer(out, h.Data(), w, bias, B, T, g, act{}, false, bw)
	for b := range B {
		ob := out[b*(M+1)*T : (b+1)*(M+1)*T]
		combineHeads(y.Data()[b*M*T:(b+1)*M*T], ob[:M*T], ob[M*T:], 1, M, T)
	}
	return y
}

// combineHeads writes y = tanh(wave)·(2σ(loud)^2.3 + 1e-7), loud broadcast
// over the M bands.
func combineHeads(y, wave, loud []float32, B, M, T int) {
	split.For(B*T, B*T*M*8, func(lo, hi int) {
		amp := make([]float32, hi-lo)
		for i := lo; i < hi; i++ {
			s := 1 / (1 + math.Exp(-float64(loud[i])))
			amp[i-lo] = float32(2*math.Pow(s, 2.3) + 1e-7)
		}
		for i := lo; i < hi; i++ {
			b, t := i/T, i%T
			a := amp[i-lo]
			for c := range M {
				k := (b*M+c)*T + t
				y[k] = float32(math.Tanh(float64(wave[k]))) * a
			}
		}
	})
}

// mergedHeads returns the waveform and loudness heads stacked as one
// (M+1)-output convolution, cached with the effective weights.
func (d *Decoder) mergedHeads() (w, bias []float32, g convGeom, ok bool) {
	wv, ld := d.wave, d.loud
	if ld.p.Stride != 1 || d.cfg.LoudStride != 1 {
		return nil, nil, g, false
	}
	wv.refresh()
	ld.refresh()
	gw, gl := wv.geom(), ld.geom()
	off := gw.padL - gl.padL // tap offset of the loudness kernel inside the wide one
	sameLen := gl.padL+gl.padR-gl.k == gw.padL+gw.padR-gw.k
	if gl.dil != 1 || gw.dil != 1 || off < 0 || off+gl.k > gw.k || !sameLen {
		return nil, nil, g, false
	}
	M, C, K := gw.cout, gw.cin, gw.k
	merged := gw
	merged.cout = M + 1
	if d.heads != nil && d.headsGen == wv.cgen && d.headsGen == ld.cgen {
		return d.heads, d.headsBias, merged, true
	}
	w = make([]float32, (M+1)*C*K)
	copy(w, wv.cache.Data())
	lw := ld.cache.Data()
	for c := range C {
		for j := range gl.k {
			w[(M*C+c)*K+off+j] = lw[c*gl.k+j]
		}
	}
	bias = make([]float32, M+1)
	if wv.b != nil {
		copy(bias, wv.b.Data())
	}
	if ld.b != nil {
		bias[M] = ld.b.Data()[0]
	}
	d.heads, d.headsBias, d.headsGen, d.headsBF = w, bias, wv.cgen, nil
	return w, bias, merged, true
}

// Precision is the arithmetic of tape-free inference.
type Precision int

const (
	// Float32 is exact float32 arithmetic (the reference's; the default).
	Float32 Precision = iota
	// BFloat16 rounds weights and conv inputs to bfloat16 (8 significant
	// bits) and sums the products in float32 — twice the multiply-adds
	// per instruction on CPUs with AVX512_BF16; the difference from float32
	// is about 50 dB below the signal (TestBFloat16Inference,
	// TestBFloat16TrainedModel).
	BFloat16
)

// String names the precision as ParsePrecision accepts it.
func (p Precision) String() string {
	if p == BFloat16 {
		return "bf16"
	}
	return "f32"
}

// ParsePrecision parses "f32" (or "float32") and "bf16" (or "bfloat16").
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "f32", "float32", "":
		return Float32, nil
	case "bf16", "bfloat16":
		return BFloat16, nil
	}
	return Float32, fmt.Errorf("model: unknown precision %q (want f32 or bf16)", s)
}

// SetInferencePrecision selects the arithmetic of tape-free passes
// (Encode, Decode and the commands built on them). Training and any pass
// with a tape stay in float32. BFloat16 needs a CPU with AVX512_BF16 (on
// the avx512 kernel path): elsewhere it is refused, since it would not be
// faster than float32.
func (m *Model) SetInferencePrecision(p Precision) error {
	// The avx2 path has a bf16 kernel (AVX2+FMA, VDPBF16PS's bits on
	// normal numbers), but it does the same multiply-adds as float32, one
	// FMA per product, and offline it is not faster with the default
	// threads. Measured on AMD EPYC (Zen 5, "Oxide Virtual Turin-like", 2
	// cores, a shared machine: best of two runs) with RAVE_KERNELS=avx2 and
	// this check lifted, `rave bench --preset P --precision f32,bf16
	// --no-stream --seconds 5`, encode+decode f32 vs bf16, 2 threads: v1
	// 128.6 vs 141.5 ms (bf16 10 % slower), small 57.4 vs 56.2 ms, tiny
	// 16.4 vs 14.1 ms; with GOMAXPROCS=1: v1 219.5 vs 216.5 ms, small 82.8
	// vs 74.9 ms, tiny 20.4 vs 17.8 ms. The generic path's Go kernel is
	// some 25 times slower still.
	if p == BFloat16 && !sgemm.BF16Supported() {
		return fmt.Errorf("model: bf16 inference needs a CPU with AVX512_BF16 and the avx512 kernel path; here it would be no faster than f32 (use f32)")
	}
	m.gen.bf16 = p == BFloat16
	return nil
}

// InferencePrecision returns the precision set by SetInferencePrecision.
func (m *Model) InferencePrecision() Precision {
	if m.gen.bf16 {
		return BFloat16
	}
	return Float32
}
