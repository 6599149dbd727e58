package core

import (
	"fmt"

	"github.com/ravestation/rave/core/internal/sgemm"
)

// geometry maps column t and tap j of an im2col matrix to position
// p = t·stride + j·dilation − offset of a source signal of length srcLen;
// positions outside the signal read zeros or mirrored samples per mode.
type geometry struct {
	srcLen, cols             int
	k, stride, dilation, off int
	mode                     PadMode
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

// im2col fills col, a (C·K) × (B·cols) matrix, from C channels of src
// (B, srcC, srcLen) starting at channel c0: col[c·K+j][b·cols+t] =
// src[b][c0+c][t·stride + j·dilation − off].
func im2col(col, src []float32, B, srcC, c0, C int, g geometry) {
	N := B * g.cols
	parallelFor(C, C*g.k*N, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for j := range g.k {
				row := col[(c*g.k+j)*N:][:N]
				base := j*g.dilation - g.off
				t0, t1 := g.validRange(j)
				for b := range B {
					s := src[(b*srcC+c0+c)*g.srcLen:][:g.srcLen]
					r := row[b*g.cols:][:g.cols]
					for t := 0; t < t0; t++ {
						r[t] = edgeValue(s, t*g.stride+base, g.mode)
					}
					if t0 >= t1 {
						// no column reads inside the signal
					} else if g.stride == 1 {
						copy(r[t0:t1], s[t0+base:t1+base])
					} else {
						for t := t0; t < t1; t++ {
							r[t] = s[t*g.stride+base]
						}
					}
					for t := t1; t < g.cols; t++ {
						r[t] = edgeValue(s, t*g.stride+base, g.mode)
					}
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

// col2im is the adjoint of im2col: it adds every entry of col into the source
// position it was read from.
func col2im(dst, col []float32, B, dstC, c0, C int, g geometry) {
	N := B * g.cols
	parallelFor(C, C*g.k*N, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for j := range g.k {
				row := col[(c*g.k+j)*N:][:N]
				base := j*g.dilation - g.off
				t0, t1 := g.validRange(j)
				for b := range B {
					d := dst[(b*dstC+c0+c)*g.srcLen:][:g.srcLen]
					r := row[b*g.cols:][:g.cols]
					for t := 0; t < t0; t++ {
						if i := sourceIndex(t*g.stride+base, g.srcLen, g.mode); i >= 0 {
							d[i] += r[t]
						}
					}
					if t0 >= t1 {
						// no column reads inside the signal
					} else if g.stride == 1 {
						dd := d[t0+base : t1+base]
						for i, v := range r[t0:t1] {
							dd[i] += v
						}
					} else {
						for t := t0; t < t1; t++ {
							d[t*g.stride+base] += r[t]
						}
					}
					for t := t1; t < g.cols; t++ {
						if i := sourceIndex(t*g.stride+base, g.srcLen, g.mode); i >= 0 {
							d[i] += r[t]
						}
					}
				}
			}
		}
	})
}

// gatherGroup copies channels [c0, c0+C) of x (B, xC, T) into dst as a
// C × (B·T) matrix.
func gatherGroup(dst, x []float32, B, xC, c0, C, T int) {
	parallelFor(C, C*B*T, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for b := range B {
				copy(dst[c*B*T+b*T:][:T], x[(b*xC+c0+c)*T:][:T])
			}
		}
	})
}

// scatterGroup writes (or adds, if accumulate) a C × (B·T) matrix into
// channels [c0, c0+C) of y (B, yC, T).
func scatterGroup(y, src []float32, B, yC, c0, C, T int, accumulate bool) {
	parallelFor(C, C*B*T, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			for b := range B {
				d := y[(b*yC+c0+c)*T:][:T]
				s := src[c*B*T+b*T:][:T]
				if !accumulate {
					copy(d, s)
					continue
				}
				for i, v := range s {
					d[i] += v
				}
			}
		}
	})
}

// addBias adds bias[c] to every sample of channel c of y (B, C, T).
func addBias(y, bias []float32, B, C, T int) {
	for b := range B {
		for c := range C {
			v := bias[c]
			row := y[(b*C+c)*T:][:T]
			for i := range row {
				row[i] += v
			}
		}
	}
}

// biasGrad adds the sum over batch and time of gy (B, C, T) into gb.
func biasGrad(gb, gy []float32, B, C, T int) {
	for c := range C {
		var s float64
		for b := range B {
			for _, v := range gy[(b*C+c)*T:][:T] {
				s += float64(v)
			}
		}
		gb[c] += float32(s)
	}
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
	g          geometry
}

// Conv1d returns the cross-correlation of x (B, Cin, T) with w
// (Cout, Cin/groups, K) plus the optional bias b (Cout), like
// torch.nn.functional.conv1d on a padded input.
func (tp *Tape) Conv1d(x, w, b *Tensor, p ConvParams) *Tensor {
	p = p.normalized()
	if len(x.shape) != 3 || len(w.shape) != 3 {
		panic(fmt.Sprintf("core: Conv1d: input %v and weight %v must both be 3-D", x.shape, w.shape))
	}
	B, Cin, T := x.shape[0], x.shape[1], x.shape[2]
	Cout, Cg, K := w.shape[0], w.shape[1], w.shape[2]
	G := p.Groups
	if Cin%G != 0 || Cout%G != 0 || Cin/G != Cg {
		panic(fmt.Sprintf("core: Conv1d: input has %d channels, weight %v expects %d with %d groups", Cin, w.shape, Cg*G, G))
	}
	if b != nil && b.Len() != Cout {
		panic(fmt.Sprintf("core: Conv1d: bias has %d values for %d channels", b.Len(), Cout))
	}
	if p.PadMode == PadReflect && (p.PadLeft >= T || p.PadRight >= T) {
		panic(fmt.Sprintf("core: Conv1d: reflect padding (%d, %d) needs an input longer than %d", p.PadLeft, p.PadRight, T))
	}
	Tout := ConvOutLen(T, K, p)
	if Tout <= 0 {
		panic(fmt.Sprintf("core: Conv1d: input of length %d too short for kernel %d dilation %d", T, K, p.Dilation))
	}
	g := geometry{srcLen: T, cols: Tout, k: K, stride: p.Stride, dilation: p.Dilation, off: p.PadLeft, mode: p.PadMode}
	y := newTensor(make([]float32, B*Cout*Tout), []int{B, Cout, Tout})
	Og, KK, N := Cout/G, Cg*K, B*Tout
	col := getScratch(KK * N)
	var tmp *[]float32
	if B > 1 {
		tmp = getScratch(Og * N)
	}
	for gi := range G {
		im2col(*col, x.data, B, Cin, gi*Cg, Cg, g)
		out := y.data[gi*Og*Tout:]
		if B > 1 {
			out = *tmp
		}
		sgemm.Sgemm(false, false, Og, N, KK, 1, w.data[gi*Og*KK:], KK, *col, N, 0, out, N)
		if B > 1 {
			scatterGroup(y.data, *tmp, B, Cout, gi*Og, Og, Tout, false)
		}
	}
	putScratch(col)
	if tmp != nil {
		putScratch(tmp)
	}
	if b != nil {
		addBias(y.data, b.data, B, Cout, Tout)
	}
	if tp.record(x, w, b) {
		y.requiresGrad = true
		tp.push(&conv1dOp{x: x, w: w, b: b, y: y, p: p, g: g})
	}
	return y
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
	Og, KK, N := Cout/G, Cg*K, B*Tout
	if o.b != nil && o.b.requiresGrad {
		biasGrad(o.b.ensureGrad(), gy, B, Cout, Tout)
	}
	if !o.x.requiresGrad && !o.w.requiresGrad {
		return
	}
	col := getScratch(KK * N)
	var dmat *[]float32
	if B > 1 {
		dmat = getScratch(Og * N)
	}
	for gi := range G {
		d := gy[gi*Og*Tout:]
		if B > 1 {
			gatherGroup(*dmat, gy, B, Cout, gi*Og, Og, Tout)
			d = *dmat
		}
		if o.w.requiresGrad {
			im2col(*col, o.x.data, B, Cin, gi*Cg, Cg, o.g)
			gw := o.w.ensureGrad()
			sgemm.Sgemm(false, true, Og, KK, N, 1, d, N, *col, N, 1, gw[gi*Og*KK:], KK)
		}
		if o.x.requiresGrad {
			sgemm.Sgemm(true, false, KK, N, Og, 1, o.w.data[gi*Og*KK:], KK, d, N, 0, *col, N)
			col2im(o.x.ensureGrad(), *col, B, Cin, gi*Cg, Cg, o.g)
		}
	}
	putScratch(col)
	if dmat != nil {
		putScratch(dmat)
	}
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
	y := newTensor(make([]float32, B*Cout*Tout), []int{B, Cout, Tout})
	Cg, KK, N := Cin/G, Og*K, B*T
	col := getScratch(KK * N)
	var xmat *[]float32
	if B > 1 {
		xmat = getScratch(Cg * N)
	}
	for gi := range G {
		xm := x.data[gi*Cg*T:]
		if B > 1 {
			gatherGroup(*xmat, x.data, B, Cin, gi*Cg, Cg, T)
			xm = *xmat
		}
		sgemm.Sgemm(true, false, KK, N, Cg, 1, w.data[gi*Cg*KK:], KK, xm, N, 0, *col, N)
		col2im(y.data, *col, B, Cout, gi*Og, Og, g)
	}
	putScratch(col)
	if xmat != nil {
		putScratch(xmat)
	}
	if b != nil {
		addBias(y.data, b.data, B, Cout, Tout)
	}
	if tp.record(x, w, b) {
		y.requiresGrad = true
		tp.push(&convTranspose1dOp{x: x, w: w, b: b, y: y, p: p, g: g})
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
	Cg, KK, N := Cin/G, Og*K, B*T
	if o.b != nil && o.b.requiresGrad {
		biasGrad(o.b.ensureGrad(), gy, B, Cout, Tout)
	}
	if !o.x.requiresGrad && !o.w.requiresGrad {
		return
	}
	col := getScratch(KK * N)
	mat := getScratch(Cg * N)
	for gi := range G {
		im2col(*col, gy, B, Cout, gi*Og, Og, o.g)
		if o.w.requiresGrad {
			xm := o.x.data[gi*Cg*T:]
			if B > 1 {
				gatherGroup(*mat, o.x.data, B, Cin, gi*Cg, Cg, T)
				xm = *mat
			}
			gw := o.w.ensureGrad()
			sgemm.Sgemm(false, true, Cg, KK, N, 1, xm, N, *col, N, 1, gw[gi*Cg*KK:], KK)
		}
		if o.x.requiresGrad {
			sgemm.Sgemm(false, false, Cg, N, KK, 1, o.w.data[gi*Cg*KK:], KK, *col, N, 0, *mat, N)
			scatterGroup(o.x.ensureGrad(), *mat, B, Cin, gi*Cg, Cg, T, true)
		}
	}
	putScratch(col)
	putScratch(mat)
}
