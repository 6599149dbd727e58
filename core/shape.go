package core

import (
	"fmt"
	"slices"
)

// reshapeOp shares its input's values; backward adds the gradient back.
type reshapeOp struct{ x, y *Tensor }

// Reshape returns x with a new shape of the same size; one dimension may be
// −1 and is then inferred. The value is shared, not copied.
func (tp *Tape) Reshape(x *Tensor, shape ...int) *Tensor {
	shape = slices.Clone(shape)
	infer, known := -1, 1
	for i, d := range shape {
		if d == -1 {
			if infer >= 0 {
				panic("core: Reshape: more than one -1")
			}
			infer = i
			continue
		}
		known *= d
	}
	if infer >= 0 && known > 0 {
		shape[infer] = x.Len() / known
	}
	if numel(shape) != x.Len() {
		panic(fmt.Sprintf("core: Reshape: cannot view %v as %v", x.shape, shape))
	}
	y := newTensor(x.data, shape)
	if tp.record1(x) {
		y.arena = tp.pool
		tp.push(&reshapeOp{x: x, y: y}, y)
	}
	return y
}

func (o *reshapeOp) backward() {
	if o.y.grad == nil || !o.x.requiresGrad {
		return
	}
	gx, fresh := o.x.gradOut()
	gy := o.y.grad
	parallelElems(len(gy), 1, func(lo, hi int) {
		if fresh {
			copy(gx[lo:hi], gy[lo:hi])
			return
		}
		addTo(gx[lo:hi], gy[lo:hi])
	})
}

// sliceOp copies the range [start, end) of one axis.
type sliceOp struct {
	x, y              *Tensor
	outer, inner, len int // x seen as (outer, len, inner)
	start, n          int
}

// splitAxis views shape as (outer, shape[axis], inner).
func splitAxis(shape []int, axis int) (outer, n, inner int, a int) {
	if axis < 0 {
		axis += len(shape)
	}
	if axis < 0 || axis >= len(shape) {
		panic(fmt.Sprintf("core: axis out of range for shape %v", shape))
	}
	return numel(shape[:axis]), shape[axis], numel(shape[axis+1:]), axis
}

// Slice returns the elements with index in [start, end) along axis.
func (tp *Tape) Slice(x *Tensor, axis, start, end int) *Tensor {
	outer, n, inner, axis := splitAxis(x.shape, axis)
	if start < 0 || end > n || start > end {
		panic(fmt.Sprintf("core: Slice: [%d,%d) out of range for axis %d of %v", start, end, axis, x.shape))
	}
	shape := slices.Clone(x.shape)
	shape[axis] = end - start
	rec := tp.record1(x)
	y := tp.output(rec, shape)
	w := (end - start) * inner
	for o := range outer {
		copy(y.data[o*w:(o+1)*w], x.data[(o*n+start)*inner:])
	}
	if rec {
		tp.push(&sliceOp{x: x, y: y, outer: outer, inner: inner, len: n, start: start, n: end - start}, y)
	}
	return y
}

func (o *sliceOp) backward() {
	if o.y.grad == nil || !o.x.requiresGrad {
		return
	}
	gx := o.x.ensureGrad()
	w := o.n * o.inner
	for r := range o.outer {
		addTo(gx[(r*o.len+o.start)*o.inner:][:w], o.y.grad[r*w:(r+1)*w])
	}
}

// concatOp joins tensors along one axis.
type concatOp struct {
	xs           []*Tensor
	y            *Tensor
	outer, inner int
}

// Concat joins xs along axis; the other dimensions must agree.
func (tp *Tape) Concat(axis int, xs ...*Tensor) *Tensor {
	if len(xs) == 0 {
		panic("core: Concat of nothing")
	}
	outer, _, inner, axis := splitAxis(xs[0].shape, axis)
	shape := slices.Clone(xs[0].shape)
	total := 0
	for _, x := range xs {
		if len(x.shape) != len(shape) {
			panic(fmt.Sprintf("core: Concat: shapes %v and %v differ in rank", xs[0].shape, x.shape))
		}
		for d := range shape {
			if d != axis && x.shape[d] != shape[d] {
				panic(fmt.Sprintf("core: Concat: shapes %v and %v differ outside axis %d", xs[0].shape, x.shape, axis))
			}
		}
		total += x.shape[axis]
	}
	shape[axis] = total
	rec := tp.record(xs...)
	y := tp.output(rec, shape)
	rowOut := total * inner
	off := 0
	for _, x := range xs {
		w := x.shape[axis] * inner
		for o := range outer {
			copy(y.data[o*rowOut+off:], x.data[o*w:(o+1)*w])
		}
		off += w
	}
	if rec {
		tp.push(&concatOp{xs: slices.Clone(xs), y: y, outer: outer, inner: inner}, y)
	}
	return y
}

func (o *concatOp) backward() {
	gy := o.y.grad
	if gy == nil {
		return
	}
	rowOut := len(gy) / max(o.outer, 1)
	off := 0
	for _, x := range o.xs {
		w := x.Len() / max(o.outer, 1)
		if x.requiresGrad {
			gx, fresh := x.gradOut()
			for r := range o.outer {
				if fresh {
					copy(gx[r*w:][:w], gy[r*rowOut+off:][:w])
				} else {
					addTo(gx[r*w:][:w], gy[r*rowOut+off:][:w])
				}
			}
		}
		off += w
	}
}

// PadMode says how values beyond the ends of a signal are made.
type PadMode int

const (
	// PadZero fills with zeros.
	PadZero PadMode = iota
	// PadReflect mirrors the signal without repeating the edge sample
	// (torch "reflect"): x[-1] = x[1].
	PadReflect
	// PadReplicate repeats the edge sample (torch "replicate").
	PadReplicate
)

// String names the mode as PyTorch does.
func (m PadMode) String() string {
	switch m {
	case PadZero:
		return "zeros"
	case PadReflect:
		return "reflect"
	case PadReplicate:
		return "replicate"
	}
	return fmt.Sprintf("PadMode(%d)", int(m))
}

// sourceIndex maps position p of a padded signal of length n to the index it
// reads, or −1 for a zero.
func sourceIndex(p, n int, mode PadMode) int {
	if p >= 0 && p < n {
		return p
	}
	switch mode {
	case PadReflect:
		if n == 1 {
			return 0
		}
		period := 2 * (n - 1)
		p %= period
		if p < 0 {
			p += period
		}
		if p >= n {
			p = period - p
		}
		return p
	case PadReplicate:
		if p < 0 {
			return 0
		}
		return n - 1
	}
	return -1
}

// padOp pads the last axis.
type padOp struct {
	x, y        *Tensor
	left, right int
	mode        PadMode
}

// Pad extends the last axis by left and right samples made by mode.
// PadReflect needs left, right < length, as in PyTorch.
func (tp *Tape) Pad(x *Tensor, left, right int, mode PadMode) *Tensor {
	n := x.Dim(-1)
	if left < 0 || right < 0 {
		panic(fmt.Sprintf("core: Pad: negative padding (%d, %d)", left, right))
	}
	if mode == PadReflect && (left >= n || right >= n) {
		panic(fmt.Sprintf("core: Pad: reflect padding (%d, %d) needs a signal longer than %d", left, right, max(left, right)))
	}
	shape := slices.Clone(x.shape)
	m := n + left + right
	shape[len(shape)-1] = m
	rec := tp.record1(x)
	y := tp.outputZeroed(rec, shape)
	rows := x.Len() / max(n, 1)
	for r := range rows {
		src, dst := x.data[r*n:(r+1)*n], y.data[r*m:(r+1)*m]
		for p := range m {
			if s := sourceIndex(p-left, n, mode); s >= 0 {
				dst[p] = src[s]
			}
		}
	}
	if rec {
		tp.push(&padOp{x: x, y: y, left: left, right: right, mode: mode}, y)
	}
	return y
}

func (o *padOp) backward() {
	if o.y.grad == nil || !o.x.requiresGrad {
		return
	}
	gx := o.x.ensureGrad()
	n := o.x.Dim(-1)
	m := n + o.left + o.right
	rows := o.x.Len() / max(n, 1)
	for r := range rows {
		src, dst := o.y.grad[r*m:(r+1)*m], gx[r*n:(r+1)*n]
		for p, g := range src {
			if s := sourceIndex(p-o.left, n, o.mode); s >= 0 {
				dst[s] += g
			}
		}
	}
}
