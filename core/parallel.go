package core

import (
	"runtime"
	"sync"

	"github.com/ravestation/rave/core/internal/sgemm"
)

// minParallelWork is the amount of work (roughly, element operations) below
// which splitting over goroutines costs more than it saves.
const minParallelWork = 1 << 15

// parallelFor calls fn on contiguous disjoint ranges covering [0, n), on up
// to GOMAXPROCS goroutines when work (total element operations) is large
// enough. Each index is visited exactly once, so results do not depend on the
// number of goroutines as long as fn writes only outputs owned by its range.
func parallelFor(n, work int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if workers > 1 && work < minParallelWork*workers {
		workers = max(1, work/minParallelWork)
	}
	workers = min(workers, maxWorkers)
	if workers <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		go func() {
			defer wg.Done()
			if lo < hi {
				fn(lo, hi)
			}
		}()
	}
	fn(0, n/workers) // the caller takes the first share
	wg.Wait()
}

// maxWorkers is the most goroutines one parallelFor uses.
const maxWorkers = 64

// elemGrain is the block size (elements) in which element-wise loops are
// split: ranges handed to goroutines start on multiples of it, so that
// per-block reductions do not depend on the number of goroutines.
const elemGrain = 1 << 13

// parallelElems runs fn over [0, n) split into ranges that start on
// multiples of elemGrain. cost is the work per element.
func parallelElems(n, cost int, fn func(lo, hi int)) {
	blocks := (n + elemGrain - 1) / elemGrain
	parallelFor(blocks, n*cost, func(lo, hi int) {
		fn(lo*elemGrain, min(hi*elemGrain, n))
	})
}

// scratch is a free list of temporary buffers used inside kernels. Unlike a
// sync.Pool it survives garbage collections, so a training step reuses the
// same buffers instead of allocating them again after every collection; it
// keeps at most maxScratch buffers, dropping the smallest.
var scratch struct {
	sync.Mutex
	list []*[]float32
}

const maxScratch = 6

// getScratch returns a slice of length n with unspecified contents.
func getScratch(n int) *[]float32 {
	scratch.Lock()
	best := -1
	for i, p := range scratch.list {
		if cap(*p) >= n && (best < 0 || cap(*p) < cap(*scratch.list[best])) {
			best = i
		}
	}
	if best >= 0 {
		p := scratch.list[best]
		last := len(scratch.list) - 1
		scratch.list[best] = scratch.list[last]
		scratch.list[last] = nil
		scratch.list = scratch.list[:last]
		scratch.Unlock()
		*p = (*p)[:n]
		return p
	}
	scratch.Unlock()
	s := make([]float32, n)
	return &s
}

// putScratch returns a buffer taken with getScratch.
func putScratch(p *[]float32) {
	scratch.Lock()
	defer scratch.Unlock()
	scratch.list = append(scratch.list, p)
	if len(scratch.list) > maxScratch {
		small := 0
		for i, q := range scratch.list {
			if cap(*q) < cap(*scratch.list[small]) {
				small = i
			}
		}
		last := len(scratch.list) - 1
		scratch.list[small] = scratch.list[last]
		scratch.list[last] = nil
		scratch.list = scratch.list[:last]
	}
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
