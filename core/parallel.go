package core

import (
	"runtime"
	"sync"
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
	if workers <= 1 || work < minParallelWork {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
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

// scratchPool recycles large temporary buffers used inside kernels.
var scratchPool sync.Pool

// getScratch returns a slice of length n with unspecified contents.
func getScratch(n int) *[]float32 {
	if p, ok := scratchPool.Get().(*[]float32); ok {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
	}
	s := make([]float32, n)
	return &s
}

func putScratch(p *[]float32) { scratchPool.Put(p) }
