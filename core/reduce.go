package core

import (
	"fmt"
	"math"
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
	rec := tp.record1(x)
	y := tp.output(rec, final)
	scale := float32(1)
	if mean {
		scale = float32(numel(keep)) / float32(max(x.Len(), 1))
	}
	sx := broadcastStrides(x.shape, x.shape)
	sy := broadcastStrides(keep, x.shape)
	xd, yd := x.data, y.data
	if len(yd) == 1 {
		// Everything into one value: float64 partial sums over fixed
		// blocks, added in block order whatever the number of threads.
		yd[0] = float32(blockSum64(xd) * float64(scale))
	} else {
		// Accumulate in float64 for accuracy; the order is fixed (row-major).
		acc := make([]float64, len(yd))
		walk(x.shape, sx, sy, func(o, ix, iy, n, dX, dY int) {
			if dX == 1 && dY == 0 {
				a := acc[iy]
				for _, v := range xd[ix : ix+n] {
					a += float64(v)
				}
				acc[iy] = a
				return
			}
			for k := range n {
				acc[iy+k*dY] += float64(xd[ix+k*dX])
			}
		})
		for i, v := range acc {
			yd[i] = float32(v * float64(scale))
		}
	}
	if rec {
		tp.push(&reduceOp{x: x, y: y, keep: keep, sx: sx, sy: sy, scale: scale}, y)
	}
	return y
}

// blockSum64 returns the float64 sum of s: sum64 of each elemGrain block,
// the block sums added in order.
func blockSum64(s []float32) float64 {
	blocks := (len(s) + elemGrain - 1) / elemGrain
	if blocks <= 1 {
		return sum64(s)
	}
	parts := make([]float64, blocks)
	split.For(blocks, len(s), func(lo, hi int) {
		for b := lo; b < hi; b++ {
			parts[b] = sum64(s[b*elemGrain : min((b+1)*elemGrain, len(s))])
		}
	})
	var t float64
	for _, v := range parts {
		t += v
	}
	return t
}

func (o *reduceOp) backward() {
	gy := o.y.grad
	if gy == nil || !o.x.requiresGrad {
		return
	}
	s := o.scale
	if len(gy) == 1 {
		gx, fresh := o.x.gradOut()
		v := gy[0] * s
		parallelElems(len(gx), 1, func(lo, hi int) {
			if fresh {
				clear(gx[lo:hi])
			}
			addConst(gx[lo:hi], v)
		})
		return
	}
	gx := o.x.ensureGrad()
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

// meanAbsDiffOp is mean(|a − b|) over all elements, fused.
type meanAbsDiffOp struct {
	a, b, y *Tensor
}

// MeanAbsDiff returns mean(|a − b|) over every element of two tensors of
// the same shape, as a scalar: the same value and gradients, bit for bit,
// as Mean(Abs(Sub(a, b)), false), without the two intermediate tensors
// (an L1 distance such as feature matching keeps nothing but its inputs).
func (tp *Tape) MeanAbsDiff(a, b *Tensor) *Tensor {
	if !slices.Equal(a.shape, b.shape) {
		panic(fmt.Sprintf("core: MeanAbsDiff: shapes %v and %v differ", a.shape, b.shape))
	}
	rec := tp.record2(a, b)
	y := tp.output(rec, nil)
	n := len(a.data)
	scale := 1 / float32(max(n, 1))
	ad, bd := a.data, b.data
	blocks := (n + elemGrain - 1) / elemGrain
	parts := make([]float64, blocks)
	split.For(blocks, 2*n, func(lo, hi int) {
		var buf [256]float32
		for blk := lo; blk < hi; blk++ {
			// |a − b| in float32, then sum64 of the block, exactly as
			// Abs(Sub) followed by Mean would.
			s := ad[blk*elemGrain : min((blk+1)*elemGrain, n)]
			t := bd[blk*elemGrain:][:len(s)]
			var a0, a1, a2, a3 float64
			for i0 := 0; i0 < len(s); i0 += len(buf) {
				m := min(len(buf), len(s)-i0)
				d := buf[:m]
				for i := range d {
					d[i] = math.Float32frombits(math.Float32bits(s[i0+i]-t[i0+i]) &^ (1 << 31))
				}
				// Continue sum64's four interleaved partial sums across
				// chunks: element i of the block goes to sum i mod 4.
				j := 0
				for ; j+4 <= m; j += 4 {
					a0 += float64(d[j])
					a1 += float64(d[j+1])
					a2 += float64(d[j+2])
					a3 += float64(d[j+3])
				}
				for ; j < m; j++ {
					a0 += float64(d[j])
				}
			}
			parts[blk] = (a0 + a1) + (a2 + a3)
		}
	})
	var total float64
	for _, v := range parts {
		total += v
	}
	if blocks == 1 {
		total = parts[0]
	}
	y.data[0] = float32(total * float64(scale))
	if rec {
		tp.push(&meanAbsDiffOp{a: a, b: b, y: y}, y)
	}
	return y
}

func (o *meanAbsDiffOp) backward() {
	gy := o.y.grad
	if gy == nil {
		return
	}
	n := len(o.a.data)
	v := gy[0] * (1 / float32(max(n, 1)))
	ga, freshA := o.a.gradIfRequired()
	gb, freshB := o.b.gradIfRequired()
	ad, bd := o.a.data, o.b.data
	parallelElems(n, 2, func(lo, hi int) {
		a, b := ad[lo:hi], bd[lo:hi][:hi-lo]
		var gal, gbl []float32
		if ga != nil {
			gal = ga[lo:hi][:len(a)]
			if freshA {
				clear(gal)
			}
		}
		if gb != nil {
			gbl = gb[lo:hi][:len(a)]
			if freshB {
				clear(gbl)
			}
		}
		for i := range a {
			d := a[i] - b[i]
			s := uint32(0)
			if d > 0 {
				s = 0x3f800000 // 1
			}
			if d < 0 {
				s = 0xbf800000 // −1
			}
			g := v * math.Float32frombits(s)
			if gal != nil {
				gal[i] += g
			}
			if gbl != nil {
				gbl[i] -= g
			}
		}
	})
}
