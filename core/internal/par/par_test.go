package par

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// TestForCovers checks that For visits every index once, with ranges in
// order, for thresholds that split and that do not.
func TestForCovers(t *testing.T) {
	prev := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	for _, c := range []struct {
		name      string
		s         Split
		n, work   int
		wantParts int
	}{
		{"serial below MinWork", Split{MinWork: 100}, 10, 99, 1},
		{"split", Split{MinWork: 100}, 10, 100, 4},
		{"fewer indices than threads", Split{}, 3, 1 << 20, 3},
		{"per worker", Split{MinWork: 100, PerWorker: 100}, 10, 250, 2},
		{"empty", Split{}, 0, 1 << 20, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen := make([]atomic.Int32, c.n)
			var parts atomic.Int32
			c.s.For(c.n, c.work, func(lo, hi int) {
				parts.Add(1)
				for i := lo; i < hi; i++ {
					seen[i].Add(1)
				}
			})
			for i := range seen {
				if v := seen[i].Load(); v != 1 {
					t.Errorf("index %d visited %d times", i, v)
				}
			}
			if got := int(parts.Load()); got != c.wantParts {
				t.Errorf("For(%d, %d) ran %d parts, want %d", c.n, c.work, got, c.wantParts)
			}
		})
	}
}

// TestPoolLimits checks the smallest-fit reuse and the three limits.
func TestPoolLimits(t *testing.T) {
	p := Pool{MaxBuffers: 2}
	a, b, c := p.Get(10), p.Get(20), p.Get(30)
	p.Put(a)
	p.Put(b)
	p.Put(c) // drops a, the smallest
	if got := p.Get(5); cap(*got) != 20 || len(*got) != 5 {
		t.Errorf("Get(5) = len %d cap %d, want the 20-value buffer", len(*got), cap(*got))
	}
	q := Pool{MaxBytes: 4 * 100, MinCap: 16}
	q.PutSlice(make([]float32, 8))  // under MinCap
	q.PutSlice(make([]float32, 60)) // kept
	q.PutSlice(make([]float32, 60)) // over MaxBytes
	if got := q.GetSlice(50); cap(got) != 60 {
		t.Errorf("GetSlice(50) cap %d, want 60", cap(got))
	}
	if got := q.GetSlice(50); cap(got) != 50 {
		t.Errorf("second GetSlice(50) cap %d, want a fresh 50", cap(got))
	}
	var k Classes
	x := k.Get(100)
	if len(x) != 100 || cap(x) != 128 {
		t.Errorf("Classes.Get(100) = len %d cap %d, want 100, 128", len(x), cap(x))
	}
	if k.Get(0) != nil {
		t.Error("Classes.Get(0) is not nil")
	}
}

// TestPoolNoAllocs checks that a warm pool recycles without allocating,
// through either pair of methods.
func TestPoolNoAllocs(t *testing.T) {
	var p Pool
	p.Put(p.Get(64))
	p.PutSlice(p.GetSlice(64))
	if a := testing.AllocsPerRun(10, func() { p.Put(p.Get(64)) }); a != 0 {
		t.Errorf("Get/Put allocate %v times", a)
	}
	if a := testing.AllocsPerRun(10, func() { p.PutSlice(p.GetSlice(64)) }); a != 0 {
		t.Errorf("GetSlice/PutSlice allocate %v times", a)
	}
}

// TestBlocksVisitsEachOnce checks that Blocks hands out every block exactly
// once, for counts below, at and above the number of workers.
func TestBlocksVisitsEachOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17, 1000} {
		seen := make([]atomic.Int32, n)
		Blocks(n, func(next func() int) {
			for i := next(); i >= 0; i = next() {
				seen[i].Add(1)
			}
		})
		for i := range seen {
			if c := seen[i].Load(); c != 1 {
				t.Fatalf("n=%d: block %d visited %d times", n, i, c)
			}
		}
	}
}
