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
	"math/bits"
	"runtime"
	"sync"

	"github.com/ravestation/rave/core"
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

// pool recycles float32 buffers by power-of-two size class.
var pool [48]sync.Pool

func getBuf(n int) []float32 {
	if n == 0 {
		return nil
	}
	cls := bits.Len(uint(n - 1))
	if p, ok := pool[cls].Get().(*[]float32); ok {
		return (*p)[:n]
	}
	return make([]float32, n, 1<<cls)
}

func putBuf(b []float32) {
	c := cap(b)
	if c == 0 || c&(c-1) != 0 {
		return
	}
	b = b[:c]
	pool[bits.Len(uint(c-1))].Put(&b)
}

// parallel calls fn on disjoint ranges covering [0, n) on up to
// GOMAXPROCS goroutines when work is large enough.
func parallel(n, work int, fn func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 || work < 1<<15 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for i := range w {
		lo, hi := n*i/w, n*(i+1)/w
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

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
	parallel(C, C*g.k*Tout, func(lo, hi int) {
		row := getBuf(span)
		defer putBuf(row)
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
	var col []float32
	if !direct {
		col = getBuf(KK * Tout)
		defer putBuf(col)
	}
	beta := float32(0)
	if accumulate {
		beta = 1
	}
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

// addBias adds bias[c] to row c of y (C rows of n), in parallel; a nil
// bias adds nothing.
func addBias(y, bias []float32, C, n int) {
	if bias == nil {
		return
	}
	parallel(C, C*n, func(lo, hi int) {
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
	xp := getBuf(g.cin * s * Lph)
	offs := make([]int, Cg*g.k)
	defer putBuf(xp)
	for b := range B {
		xb := x[b*g.cin*T : (b+1)*g.cin*T]
		yb := out[b*g.cout*Tout : (b+1)*g.cout*Tout]
		parallel(g.cin, g.cin*T, func(lo, hi int) {
			var tmp []float32
			if s > 1 {
				tmp = getBuf(s * Lph)
				defer putBuf(tmp)
			}
			for c := lo; c < hi; c++ {
				row := xp[c*s*Lph : (c+1)*s*Lph]
				if s > 1 {
					row, tmp = tmp, row
				}
				clear(row[:g.padL])
				a.apply(row[g.padL:g.padL+T], xb[c*T:(c+1)*T], c)
				clear(row[g.padL+T:])
				if s > 1 {
					row, tmp = tmp, row
					for ph := range s {
						dst := row[ph*Lph : (ph+1)*Lph]
						for v := range dst {
							dst[v] = tmp[v*s+ph]
						}
					}
				}
			}
		})
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
	xa := getBuf(Cin * T)
	col := getBuf(Cout * K * T)
	defer putBuf(xa)
	defer putBuf(col)
	for b := range B {
		xb := x[b*Cin*T : (b+1)*Cin*T]
		parallel(Cin, Cin*T, func(lo, hi int) {
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
		parallel(Cout, Cout*K*T, func(lo, hi int) {
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
	return core.New(getBuf(n), shape...)
}

// release returns a pooled tensor's buffer for reuse; t must not be used
// afterwards.
func release(ts ...*core.Tensor) {
	for _, t := range ts {
		if t != nil {
			putBuf(t.Data())
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
	out := getBuf(B * (M + 1) * T)
	defer putBuf(out)
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
	parallel(B*T, B*T*M*8, func(lo, hi int) {
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
