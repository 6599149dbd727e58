package stream

// The streaming layers' own fork-join pool. Every parallel step of a
// Streamer (the products of a layer, the quantisation of its columns, its
// activations, the heads) runs through it, so one set of workers stays
// awake across the layers of a buffer instead of three pools (panel,
// sgemm, bf16) handing the processor to each other. A step is split into
// a fixed number of parts that do not depend on the number of threads,
// claimed through an atomic counter by the caller and the workers: a
// worker slow to start delays nothing, and the result is the same for any
// thread count.

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ravestation/rave/core/internal/sgemm"
)

// parTask is a parallel step: part(i, w) runs part i of it on worker w
// (0 is the caller, 1 … par.workers the pool's goroutines; w selects the
// worker's scratch, parScratch). Parts of one step run concurrently and
// must write disjoint memory.
type parTask interface{ part(i, w int) }

// parSpin is how many times an idle worker polls for the next step before
// it parks (some tens of µs: the layers of a buffer find it awake, an idle
// stream does not burn a core). Waits (idle workers, the end of a step)
// poll with plain atomic loads and, after parFree polls, yield every
// parYield polls to other goroutines (runtime.Gosched) and to other
// threads (sched_yield: on a loaded machine the thread waited for may
// share the core). Yielding on every poll would cost the scheduler's
// global lock each time, and the clock is not read at all.
const (
	parSpin  = 1 << 13
	parYield = 1 << 6
	parFree  = 1 << 10 // polls before the first yield: most waits are shorter
)

var par struct {
	once    sync.Once
	workers int
	mu      sync.Mutex // one step at a time (the scratch is per worker)
	scratch []parScratchT
	t       parTask
	// next is the claim word of the current step: the number of parts
	// times 2³² plus the next part's index, so that a claim and the bound
	// it is checked against are read together (0 between steps: nothing
	// to claim).
	next     atomic.Uint64
	done     atomic.Int64
	ends     [parMaxSteps]int64 // of the steps' parts (parSteps)
	gen      atomic.Uint64
	sleeping atomic.Int32
	wake     chan struct{}
}

// reservePacking makes the matrix products' packing buffers ready for
// every goroutine of the pool at once (sgemm.Reserve), so that which
// goroutine takes which part of a block never makes an audio block
// allocate. Builders of streamers call it.
func reservePacking() {
	startPar()
	sgemm.Reserve(par.workers + 1)
}

func startPar() {
	par.once.Do(func() {
		par.workers = min(max(runtime.GOMAXPROCS(0)-1, 0), parRows-1)
		par.wake = make(chan struct{}, max(par.workers, 1))
		par.scratch = make([]parScratchT, par.workers+1)
		for w := range par.workers {
			go parWorker(w + 1)
		}
	})
}

// parRun runs parts 0 … n−1 of t, on the pool when there is more than
// one part and more than one processor, else on the caller. Steps of
// concurrent callers run one after the other.
func parRun(n int, t parTask) { parSteps(t, [parMaxSteps]int{n}) }

// parMaxSteps is the largest number of steps parSteps chains.
const parMaxSteps = 4

// parSteps runs steps of t one after the other without handing the step
// back to the caller in between: parts are numbered on from one step to
// the next (step 1's first part is counts[0], …), and a part of step s
// starts once every part of the steps before s is done. Parts are claimed
// in order, so the wait always ends.
func parSteps(t parTask, counts [parMaxSteps]int) {
	n := 0
	for _, c := range counts {
		n += c
	}
	startPar()
	par.mu.Lock()
	if n <= 1 || par.workers == 0 || runtime.GOMAXPROCS(0) < 2 {
		for i := range n {
			t.part(i, 0)
		}
		par.mu.Unlock()
		return
	}
	par.t = t
	end := 0
	for i, c := range counts {
		end += c
		par.ends[i] = int64(end)
	}
	par.done.Store(0)
	par.next.Store(uint64(n) << 32) // open: parts may be claimed from here on
	par.gen.Add(1)
	if s := par.sleeping.Load(); s > 0 {
		for range s {
			select {
			case par.wake <- struct{}{}:
			default:
			}
		}
	}
	parWork(0)
	parWait(int64(n))
	par.next.Store(0)
	par.t = nil
	par.mu.Unlock()
}

// parWait polls until n parts of the current step are done.
func parWait(n int64) {
	for spins := 1; par.done.Load() < n; spins++ {
		if spins > parFree && spins%parYield == 0 {
			parPause()
		}
	}
}

// parWork runs parts of the current step until none is left unclaimed.
func parWork(w int) {
	for {
		v := par.next.Add(1) - 1
		i, n := int64(v&(1<<32-1)), int64(v>>32)
		if i >= n {
			return
		}
		for s := 1; s < parMaxSteps; s++ {
			if i < par.ends[s-1] {
				break
			}
			if i < par.ends[s] {
				parWait(par.ends[s-1])
				break
			}
		}
		par.t.part(int(i), w)
		par.done.Add(1)
	}
}

func parWorker(w int) {
	var seen uint64
	for {
		for spins := 0; ; spins++ {
			if g := par.gen.Load(); g != seen {
				seen = g
				parWork(w)
				spins = 0
				continue
			}
			if spins >= parSpin {
				break
			}
			if spins > parFree && spins%parYield == 0 {
				parPause()
			}
		}
		par.sleeping.Add(1)
		if par.gen.Load() == seen {
			<-par.wake
		}
		par.sleeping.Add(-1)
	}
}

// parRange returns the bounds of part i of n over [0, total), in units of
// align (the last part ends at total).
func parRange(i, n, total, align int) (lo, hi int) {
	units := (total + align - 1) / align
	lo = min(total, units*i/n*align)
	hi = min(total, units*(i+1)/n*align)
	return lo, hi
}

// parScratchT is one worker's scratch: packing room for bfloat16 products
// and a row for transposed convolutions' overlap-add.
type parScratchT struct {
	bf   *sgemm.BF16Scratch
	full []float32
}

// parScratch returns worker w's scratch (valid inside a part).
func parScratch(w int) *parScratchT { return &par.scratch[w] }

// reserveParScratch makes every worker's scratch hold bfloat16 packing
// room (bf) and a row of at least full values; layers call it when they
// are built, so parts allocate nothing.
func reserveParScratch(bf bool, full int) {
	startPar()
	par.mu.Lock()
	defer par.mu.Unlock()
	for i := range par.scratch {
		sc := &par.scratch[i]
		if bf && sc.bf == nil {
			sc.bf = sgemm.NewBF16Scratch()
		}
		if len(sc.full) < full {
			sc.full = make([]float32, full)
		}
	}
}

// parPause lets other goroutines and other threads run: a poll loop calls
// it every parYield polls.
func parPause() {
	runtime.Gosched()
	osYield()
}
