package dsp

import (
	"runtime"
	"sync"
)

// parallelFor calls fn on contiguous disjoint ranges covering [0, n), on up
// to GOMAXPROCS goroutines when work (a rough count of element operations)
// is large enough to pay for the hand-off. Callers write only outputs owned
// by their range, so results never depend on the number of goroutines.
func parallelFor(n, work int, fn func(lo, hi int)) {
	const minWork = 1 << 14
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 || work < minWork {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/workers)
	wg.Wait()
}

// bufPool recycles the large float32 buffers of the spectral ops (spectra,
// padded signals, gradients), which would otherwise cost ~100 MB of fresh,
// zeroed memory per distance at the v1 training batch. It keeps at most
// maxPooled bytes; getBuf returns the smallest free buffer that fits.
var bufPool struct {
	sync.Mutex
	free  [][]float32
	bytes int
}

const maxPooled = 512 << 20

// getBuf returns a slice of length n with unspecified contents.
func getBuf(n int) []float32 {
	bufPool.Lock()
	best := -1
	for i, b := range bufPool.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(bufPool.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := bufPool.free[best]
		last := len(bufPool.free) - 1
		bufPool.free[best] = bufPool.free[last]
		bufPool.free[last] = nil
		bufPool.free = bufPool.free[:last]
		bufPool.bytes -= 4 * cap(b)
		bufPool.Unlock()
		return b[:n]
	}
	bufPool.Unlock()
	return make([]float32, n)
}

// getZeroed returns a zero-filled slice of length n.
func getZeroed(n int) []float32 {
	b := getBuf(n)
	clear(b)
	return b
}

// putBuf hands a buffer back for reuse; the caller must not touch it again.
func putBuf(b []float32) {
	if cap(b) < 1024 {
		return
	}
	bufPool.Lock()
	defer bufPool.Unlock()
	if bufPool.bytes+4*cap(b) > maxPooled {
		return
	}
	bufPool.free = append(bufPool.free, b[:0])
	bufPool.bytes += 4 * cap(b)
}
