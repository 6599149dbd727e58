package core

import "fmt"

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
	inner := shape[nd-1]
	if inner == 0 {
		return
	}
	outer := numel(shape[:nd-1])
	idx := make([]int, nd-1)
	offA, offB := 0, 0
	for r := range outer {
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
}

func (tp *Tape) binary(kind binaryKind, a, b *Tensor) *Tensor {
	shape := broadcastShape(a.shape, b.shape)
	sa, sb := broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)
	y := newTensor(make([]float32, numel(shape)), shape)
	ad, bd, yd := a.data, b.data, y.data
	walk(shape, sa, sb, func(o, ia, ib, n, dA, dB int) {
		switch kind {
		case kindAdd:
			for k := range n {
				yd[o+k] = ad[ia+k*dA] + bd[ib+k*dB]
			}
		case kindSub:
			for k := range n {
				yd[o+k] = ad[ia+k*dA] - bd[ib+k*dB]
			}
		case kindMul:
			for k := range n {
				yd[o+k] = ad[ia+k*dA] * bd[ib+k*dB]
			}
		case kindDiv:
			for k := range n {
				yd[o+k] = ad[ia+k*dA] / bd[ib+k*dB]
			}
		}
	})
	if tp.record(a, b) {
		y.requiresGrad = true
		tp.push(&binaryOp{kind: kind, a: a, b: b, y: y, sa: sa, sb: sb, outShape: shape})
	}
	return y
}

func (o *binaryOp) backward() {
	gy := o.y.grad
	if gy == nil {
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

// Add returns a + b with NumPy broadcasting.
func (tp *Tape) Add(a, b *Tensor) *Tensor { return tp.binary(kindAdd, a, b) }

// Sub returns a − b with NumPy broadcasting.
func (tp *Tape) Sub(a, b *Tensor) *Tensor { return tp.binary(kindSub, a, b) }

// Mul returns a ⊙ b with NumPy broadcasting.
func (tp *Tape) Mul(a, b *Tensor) *Tensor { return tp.binary(kindMul, a, b) }

// Div returns a ⊘ b with NumPy broadcasting.
func (tp *Tape) Div(a, b *Tensor) *Tensor { return tp.binary(kindDiv, a, b) }
