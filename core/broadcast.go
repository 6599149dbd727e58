package core

import (
	"fmt"
	"slices"
)

// broadcastShape returns the NumPy broadcast of two shapes (right-aligned;
// a dimension of 1 stretches).
func broadcastShape(a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			panic(fmt.Sprintf("core: shapes %v and %v do not broadcast", a, b))
		}
	}
	return out
}

// broadcastStrides returns the strides of a tensor of shape s seen through
// the larger shape out: stretched and missing dimensions get stride 0.
func broadcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	stride := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := i - (len(out) - len(s))
		if j < 0 {
			continue
		}
		if s[j] != 1 {
			st[i] = stride
		}
		stride *= s[j]
	}
	return st
}

// walk visits every element of shape in row-major order as runs along the
// last dimension: fn(o, a, b, n, sa, sb) must process n elements starting at
// out offset o (stride 1) and operand offsets a and b with strides sa, sb.
func walk(shape, sa, sb []int, fn func(o, a, b, n, ia, ib int)) {
	nd := len(shape)
	if nd == 0 {
		fn(0, 0, 0, 1, 0, 0)
		return
	}
	walkRows(shape, sa, sb, 0, numel(shape[:nd-1]), fn)
}

// walkRows is walk restricted to rows [r0, r1) (a row being a run along
// the last dimension).
func walkRows(shape, sa, sb []int, r0, r1 int, fn func(o, a, b, n, ia, ib int)) {
	nd := len(shape)
	inner := shape[nd-1]
	if inner == 0 || r0 >= r1 {
		return
	}
	var idxBuf [8]int
	idx := idxBuf[:0]
	if nd-1 > len(idxBuf) {
		idx = make([]int, nd-1)
	} else {
		idx = idxBuf[:nd-1]
	}
	offA, offB := 0, 0
	rem := r0
	for d := nd - 2; d >= 0; d-- {
		idx[d] = rem % shape[d]
		rem /= shape[d]
		offA += idx[d] * sa[d]
		offB += idx[d] * sb[d]
	}
	for r := r0; r < r1; r++ {
		fn(r*inner, offA, offB, inner, sa[nd-1], sb[nd-1])
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			offA += sa[d]
			offB += sb[d]
			if idx[d] < shape[d] {
				break
			}
			offA -= sa[d] * shape[d]
			offB -= sb[d] * shape[d]
			idx[d] = 0
		}
	}
}

type binaryKind int

const (
	kindAdd binaryKind = iota
	kindSub
	kindMul
	kindDiv
)

// binaryOp is the one op behind the broadcasting arithmetic.
type binaryOp struct {
	kind     binaryKind
	a, b, y  *Tensor
	sa, sb   []int
	outShape []int
	same     bool // a, b and y have the same shape
}

// binaryRun computes y[k] = a[k·da] op b[k·db] for k < len(y).
func binaryRun(kind binaryKind, y, a, b []float32, da, db int) {
	n := len(y)
	switch {
	case da == 1 && db == 1:
		a, b = a[:n], b[:n]
		switch kind {
		case kindAdd:
			for k := range y {
				y[k] = a[k] + b[k]
			}
		case kindSub:
			for k := range y {
				y[k] = a[k] - b[k]
			}
		case kindMul:
			for k := range y {
				y[k] = a[k] * b[k]
			}
		case kindDiv:
			for k := range y {
				y[k] = a[k] / b[k]
			}
		}
	case da == 1 && db == 0:
		a = a[:n]
		v := b[0]
		switch kind {
		case kindAdd:
			for k := range y {
				y[k] = a[k] + v
			}
		case kindSub:
			for k := range y {
				y[k] = a[k] - v
			}
		case kindMul:
			for k := range y {
				y[k] = a[k] * v
			}
		case kindDiv:
			for k := range y {
				y[k] = a[k] / v
			}
		}
	default:
		switch kind {
		case kindAdd:
			for k := range y {
				y[k] = a[k*da] + b[k*db]
			}
		case kindSub:
			for k := range y {
				y[k] = a[k*da] - b[k*db]
			}
		case kindMul:
			for k := range y {
				y[k] = a[k*da] * b[k*db]
			}
		case kindDiv:
			for k := range y {
				y[k] = a[k*da] / b[k*db]
			}
		}
	}
}

func (tp *Tape) binary(kind binaryKind, a, b *Tensor) *Tensor {
	rec := tp.record2(a, b)
	if slices.Equal(a.shape, b.shape) {
		y := tp.output(rec, a.shape)
		ad, bd, yd := a.data, b.data, y.data
		parallelElems(len(yd), 1, func(lo, hi int) {
			binaryRun(kind, yd[lo:hi], ad[lo:hi], bd[lo:hi], 1, 1)
		})
		if rec {
			tp.push(&binaryOp{kind: kind, a: a, b: b, y: y, same: true}, y)
		}
		return y
	}
	shape := broadcastShape(a.shape, b.shape)
	sa, sb := broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)
	y := tp.output(rec, shape)
	ad, bd, yd := a.data, b.data, y.data
	if len(shape) == 0 {
		yd[0] = 0
		binaryRun(kind, yd, ad, bd, 0, 0)
	} else {
		rows := numel(shape[:len(shape)-1])
		split.For(rows, len(yd), func(r0, r1 int) {
			walkRows(shape, sa, sb, r0, r1, func(o, ia, ib, n, dA, dB int) {
				binaryRun(kind, yd[o:o+n], ad[ia:], bd[ib:], dA, dB)
			})
		})
	}
	if rec {
		tp.push(&binaryOp{kind: kind, a: a, b: b, y: y, sa: sa, sb: sb, outShape: shape}, y)
	}
	return y
}

func (o *binaryOp) backward() {
	gy := o.y.grad
	if gy == nil {
		return
	}
	if o.same {
		o.backwardSame(gy)
		return
	}
	ad, bd := o.a.data, o.b.data
	if o.a.requiresGrad {
		ga := o.a.ensureGrad()
		walk(o.outShape, o.sa, o.sb, func(off, ia, ib, n, dA, dB int) {
			switch o.kind {
			case kindAdd, kindSub:
				for k := range n {
					ga[ia+k*dA] += gy[off+k]
				}
			case kindMul:
				for k := range n {
					ga[ia+k*dA] += gy[off+k] * bd[ib+k*dB]
				}
			case kindDiv:
				for k := range n {
					ga[ia+k*dA] += gy[off+k] / bd[ib+k*dB]
				}
			}
		})
	}
	if o.b.requiresGrad {
		gb := o.b.ensureGrad()
		walk(o.outShape, o.sa, o.sb, func(off, ia, ib, n, dA, dB int) {
			switch o.kind {
			case kindAdd:
				for k := range n {
					gb[ib+k*dB] += gy[off+k]
				}
			case kindSub:
				for k := range n {
					gb[ib+k*dB] -= gy[off+k]
				}
			case kindMul:
				for k := range n {
					gb[ib+k*dB] += gy[off+k] * ad[ia+k*dA]
				}
			case kindDiv:
				for k := range n {
					v := bd[ib+k*dB]
					gb[ib+k*dB] -= gy[off+k] * ad[ia+k*dA] / (v * v)
				}
			}
		})
	}
}

// backwardSame is the backward of an op whose operands have the output's
// shape: every element is independent, so it runs in parallel.
func (o *binaryOp) backwardSame(gy []float32) {
	ad, bd := o.a.data, o.b.data
	if o.a == o.b {
		if !o.a.requiresGrad {
			return
		}
		ga := o.a.ensureGrad()
		gb := ga
		// x op x: both gradients land in the same slice; keep the order
		// of the general path (all of a's terms, then all of b's).
		o.backwardSameRange(gy, ad, bd, ga, nil)
		o.backwardSameRange(gy, ad, bd, nil, gb)
		return
	}
	ga, freshA := o.a.gradIfRequired()
	gb, freshB := o.b.gradIfRequired()
	if ga == nil && gb == nil {
		return
	}
	parallelElems(len(gy), 2, func(lo, hi int) {
		var gal, gbl []float32
		if ga != nil {
			gal = ga[lo:hi]
			if freshA {
				clear(gal)
			}
		}
		if gb != nil {
			gbl = gb[lo:hi]
			if freshB {
				clear(gbl)
			}
		}
		o.backwardSameRange(gy[lo:hi], ad[lo:hi], bd[lo:hi], gal, gbl)
	})
}

func (o *binaryOp) backwardSameRange(gy, a, b, ga, gb []float32) {
	n := len(gy)
	a, b = a[:n], b[:n]
	if ga != nil {
		ga = ga[:n]
		switch o.kind {
		case kindAdd, kindSub:
			addTo(ga, gy)
		case kindMul:
			for k, g := range gy {
				ga[k] += g * b[k]
			}
		case kindDiv:
			for k, g := range gy {
				ga[k] += g / b[k]
			}
		}
	}
	if gb != nil {
		gb = gb[:n]
		switch o.kind {
		case kindAdd:
			addTo(gb, gy)
		case kindSub:
			for k, g := range gy {
				gb[k] -= g
			}
		case kindMul:
			for k, g := range gy {
				gb[k] += g * a[k]
			}
		case kindDiv:
			for k, g := range gy {
				v := b[k]
				gb[k] -= g * a[k] / (v * v)
			}
		}
	}
}

// Add returns a + b with NumPy broadcasting.
func (tp *Tape) Add(a, b *Tensor) *Tensor { return tp.binary(kindAdd, a, b) }

// Sub returns a − b with NumPy broadcasting.
func (tp *Tape) Sub(a, b *Tensor) *Tensor { return tp.binary(kindSub, a, b) }

// Mul returns a ⊙ b with NumPy broadcasting.
func (tp *Tape) Mul(a, b *Tensor) *Tensor { return tp.binary(kindMul, a, b) }

// Div returns a ⊘ b with NumPy broadcasting.
func (tp *Tape) Div(a, b *Tensor) *Tensor { return tp.binary(kindDiv, a, b) }
