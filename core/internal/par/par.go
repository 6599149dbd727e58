// Package par is the parallel-for and the scratch buffers of core's
// kernels (core, core/dsp, core/model): one implementation, with each
// caller's threshold as a parameter (Split) and each caller's recycling
// policy as a pool's settings (Pool, Classes).
//
// A loop is split into contiguous, disjoint ranges, one per goroutine,
// the caller taking the first; each index is visited once, so results do
// not depend on the number of goroutines as long as fn writes only the
// outputs its range owns.
package par

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// MaxWorkers is the most goroutines one For uses.
const MaxWorkers = 64

// Split says when a loop is worth splitting over goroutines.
type Split struct {
	// MinWork is the least work (a rough count of element operations)
	// that is split at all.
	MinWork int
	// PerWorker, if positive, is the least work per goroutine: a loop of
	// less than PerWorker·GOMAXPROCS work runs on work/PerWorker of them.
	PerWorker int
}

// For calls fn on contiguous disjoint ranges covering [0, n), on up to
// GOMAXPROCS goroutines (at most MaxWorkers, at most n) when work is
// large enough.
func (s Split) For(n, work int, fn func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n, MaxWorkers)
	if work < s.MinWork {
		w = 1
	}
	if s.PerWorker > 0 {
		w = min(w, max(1, work/s.PerWorker))
	}
	if w <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		lo, hi := n*i/w, n*(i+1)/w
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/w) // the caller takes the first share
	wg.Wait()
}

// Blocks runs work on up to GOMAXPROCS goroutines (at most MaxWorkers, at
// most n), the caller among them, which share n blocks of a loop: next
// returns the index of a block no other worker has taken, or −1 when none
// is left. Unlike For it balances blocks of uneven cost, and each worker
// keeps its own scratch across the blocks it takes.
func Blocks(n int, work func(next func() int)) {
	var taken atomic.Int64
	next := func() int {
		if i := int(taken.Add(1)) - 1; i < n {
			return i
		}
		return -1
	}
	w := min(runtime.GOMAXPROCS(0), n, MaxWorkers)
	var wg sync.WaitGroup
	for range w - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(next)
		}()
	}
	work(next)
	wg.Wait()
}

// Pool is a free list of float32 buffers. Unlike a sync.Pool it survives
// garbage collections, so a training step reuses the same buffers step
// after step; Get returns the smallest free buffer that fits. Its limits
// bound what it keeps; the zero value keeps everything.
type Pool struct {
	// MaxBuffers, if positive, is the most buffers kept: beyond it the
	// smallest is dropped.
	MaxBuffers int
	// MaxBytes, if positive, is the most bytes kept: a buffer that would
	// exceed it is dropped.
	MaxBytes int
	// MinCap is the least capacity of a buffer kept.
	MinCap int

	mu    sync.Mutex
	free  []*[]float32
	cells []*[]float32 // emptied holders, for PutSlice
	bytes int
}

// Get returns a buffer of length n with unspecified contents; hand it back
// with Put.
func (p *Pool) Get(n int) *[]float32 {
	p.mu.Lock()
	if b := p.take(n); b != nil {
		p.mu.Unlock()
		*b = (*b)[:n]
		return b
	}
	p.mu.Unlock()
	s := make([]float32, n)
	return &s
}

// Put hands a buffer taken with Get back; the caller must not touch it
// again.
func (p *Pool) Put(b *[]float32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep(b)
}

// GetSlice is Get for callers that hold the slice itself; hand it back
// with PutSlice.
func (p *Pool) GetSlice(n int) []float32 {
	p.mu.Lock()
	if b := p.take(n); b != nil {
		s := (*b)[:n]
		*b = nil
		p.cells = append(p.cells, b)
		p.mu.Unlock()
		return s
	}
	p.mu.Unlock()
	return make([]float32, n)
}

// PutSlice is Put for a slice taken with GetSlice.
func (p *Pool) PutSlice(s []float32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b *[]float32
	if k := len(p.cells); k > 0 {
		b, p.cells = p.cells[k-1], p.cells[:k-1]
	} else {
		b = new([]float32)
	}
	*b = s
	p.keep(b)
}

// take removes and returns the smallest free buffer of capacity ≥ n, or
// nil.
func (p *Pool) take(n int) *[]float32 {
	best := -1
	for i, b := range p.free {
		if cap(*b) >= n && (best < 0 || cap(*b) < cap(*p.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	b := p.free[best]
	p.remove(best)
	return b
}

// keep adds b to the free list within the limits.
func (p *Pool) keep(b *[]float32) {
	c := cap(*b)
	if c < p.MinCap || p.MaxBytes > 0 && p.bytes+4*c > p.MaxBytes {
		return
	}
	p.free = append(p.free, b)
	p.bytes += 4 * c
	if p.MaxBuffers > 0 && len(p.free) > p.MaxBuffers {
		small := 0
		for i, q := range p.free {
			if cap(*q) < cap(*p.free[small]) {
				small = i
			}
		}
		p.remove(small)
	}
}

// remove drops entry i of the free list (order is not kept).
func (p *Pool) remove(i int) {
	last := len(p.free) - 1
	p.bytes -= 4 * cap(*p.free[i])
	p.free[i] = p.free[last]
	p.free[last] = nil
	p.free = p.free[:last]
}

// Classes recycles float32 buffers by power-of-two size class through
// sync.Pools: what is not reused is freed by the garbage collector.
type Classes struct {
	pool [48]sync.Pool
}

// Get returns a slice of length n (capacity a power of two) with
// unspecified contents, nil for n = 0.
func (c *Classes) Get(n int) []float32 {
	if n == 0 {
		return nil
	}
	cls := bits.Len(uint(n - 1))
	if p, ok := c.pool[cls].Get().(*[]float32); ok {
		return (*p)[:n]
	}
	return make([]float32, n, 1<<cls)
}

// Put hands back a slice taken with Get (others are ignored).
func (c *Classes) Put(b []float32) {
	n := cap(b)
	if n == 0 || n&(n-1) != 0 {
		return
	}
	b = b[:n]
	c.pool[bits.Len(uint(n-1))].Put(&b)
}
