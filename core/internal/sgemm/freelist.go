package sgemm

import "sync"

// freeList holds items not in use. Unlike a sync.Pool it is never emptied
// by the garbage collector, so steady-state calls never allocate; it
// holds at most as many items as were ever in use at once. made counts
// the items made, in use or free.
type freeList[T any] struct {
	mu      sync.Mutex
	list    []*T
	made    int
	newItem func() *T
}

// get takes an item from the list, or makes one.
func (l *freeList[T]) get() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.list)
	if n == 0 {
		l.made++
		return l.newItem()
	}
	it := l.list[n-1]
	l.list = l.list[:n-1]
	return it
}

// put returns an item taken with get.
func (l *freeList[T]) put(it *T) {
	l.mu.Lock()
	l.list = append(l.list, it)
	l.mu.Unlock()
}

// reserve makes items until n exist and applies prep to every free one.
func (l *freeList[T]) reserve(n int, prep func(*T)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ; l.made < n; l.made++ {
		l.list = append(l.list, l.newItem())
	}
	for _, it := range l.list {
		prep(it)
	}
}
