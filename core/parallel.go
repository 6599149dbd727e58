package core

import (
	"github.com/ravestation/rave/core/internal/par"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// split is the threshold of the package's parallel loops: below
// minParallelWork of work (roughly, element operations) per goroutine,
// splitting costs more than it saves. scratch is the free list of
// temporary buffers used inside kernels; it keeps at most 6 buffers,
// dropping the smallest.
var (
	split   = par.Split{MinWork: minParallelWork, PerWorker: minParallelWork}
	scratch = par.Pool{MaxBuffers: 6}
)

const minParallelWork = 1 << 15

// elemGrain is the block size (elements) in which element-wise loops are
// split: ranges handed to goroutines start on multiples of it, so that
// per-block reductions do not depend on the number of goroutines.
const elemGrain = 1 << 13

// parallelElems runs fn over [0, n) split into ranges that start on
// multiples of elemGrain. cost is the work per element.
func parallelElems(n, cost int, fn func(lo, hi int)) {
	blocks := (n + elemGrain - 1) / elemGrain
	split.For(blocks, n*cost, func(lo, hi int) {
		fn(lo*elemGrain, min(hi*elemGrain, n))
	})
}

// addTo sets d[i] += s[i] (vectorised for all but short slices).
func addTo(d, s []float32) {
	if len(s) >= 16 {
		sgemm.AddTo(d, s)
		return
	}
	d = d[:len(s)]
	for i, v := range s {
		d[i] += v
	}
}

// addConst adds v to every element of d.
func addConst(d []float32, v float32) {
	for i := range d {
		d[i] += v
	}
}

// sum64 returns the sum of s accumulated in float64, in four interleaved
// partial sums combined in a fixed order.
func sum64(s []float32) float64 {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(s); i += 4 {
		a0 += float64(s[i])
		a1 += float64(s[i+1])
		a2 += float64(s[i+2])
		a3 += float64(s[i+3])
	}
	for ; i < len(s); i++ {
		a0 += float64(s[i])
	}
	return (a0 + a1) + (a2 + a3)
}
