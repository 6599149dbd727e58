package core

import (
	"fmt"
	"slices"
)

// reduceOp sums x over some axes, scaled by scale (1 for Sum, 1/n for Mean).
type reduceOp struct {
	x, y   *Tensor
	keep   []int // y's shape with reduced axes kept as 1
	sx, sy []int
	scale  float32
}

// reducedShapes returns the kept-dims shape and the final shape.
func reducedShapes(shape []int, axes []int, keepDims bool) (keep, final []int) {
	keep = append([]int(nil), shape...)
	red := make([]bool, len(shape))
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += len(shape)
		}
		if a < 0 || a >= len(shape) {
			panic(fmt.Sprintf("core: reduce: axis out of range for shape %v", shape))
		}
		red[a] = true
	}
	for i, r := range red {
		if r {
			keep[i] = 1
		} else {
			final = append(final, shape[i])
		}
	}
	if keepDims {
		final = slices.Clone(keep)
	}
	return keep, final
}

func (tp *Tape) reduce(x *Tensor, axes []int, keepDims, mean bool) *Tensor {
	keep, final := reducedShapes(x.shape, axes, keepDims)
	y := newTensor(make([]float32, numel(keep)), final)
	scale := float32(1)
	if mean {
		scale = float32(numel(keep)) / float32(max(x.Len(), 1))
	}
	sx := broadcastStrides(x.shape, x.shape)
	sy := broadcastStrides(keep, x.shape)
	xd, yd := x.data, y.data
	// Accumulate in float64 for accuracy; the order is fixed (row-major).
	acc := make([]float64, len(yd))
	walk(x.shape, sx, sy, func(o, ix, iy, n, dX, dY int) {
		for k := range n {
			acc[iy+k*dY] += float64(xd[ix+k*dX])
		}
	})
	for i, v := range acc {
		yd[i] = float32(v * float64(scale))
	}
	if tp.record(x) {
		y.requiresGrad = true
		tp.push(&reduceOp{x: x, y: y, keep: keep, sx: sx, sy: sy, scale: scale})
	}
	return y
}

func (o *reduceOp) backward() {
	gy := o.y.grad
	if gy == nil || !o.x.requiresGrad {
		return
	}
	gx := o.x.ensureGrad()
	s := o.scale
	walk(o.x.shape, o.sx, o.sy, func(_, ix, iy, n, dX, dY int) {
		for k := range n {
			gx[ix+k*dX] += gy[iy+k*dY] * s
		}
	})
}

// Sum adds x over the given axes (all axes if none), dropping them unless
// keepDims is set.
func (tp *Tape) Sum(x *Tensor, keepDims bool, axes ...int) *Tensor {
	return tp.reduce(x, axes, keepDims, false)
}

// Mean averages x over the given axes (all axes if none), dropping them
// unless keepDims is set.
func (tp *Tape) Mean(x *Tensor, keepDims bool, axes ...int) *Tensor {
	return tp.reduce(x, axes, keepDims, true)
}
