package panel

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Matrix is an M×K weight matrix packed for the kernels (see the package
// documentation), in float32 or half precision. Products on the same
// Matrix must not run concurrently.
type Matrix struct {
	// M and K are the dimensions; Stride is K rounded up to a multiple of
	// 16: the length of the rows of the Bᵀ operand.
	M, K, Stride int
	half         bool
	d16          []uint16
	d32          []float32
	job          job
}

// NewMatrix packs the M×K row-major matrix a (rows lda apart), rounded to
// half precision if half is set.
func NewMatrix(a []float32, m, k, lda int, half bool) *Matrix {
	if m < 1 || k < 1 || lda < k || len(a) < (m-1)*lda+k {
		panic(fmt.Sprintf("panel: NewMatrix(%d values, %d×%d, lda %d)", len(a), m, k, lda))
	}
	s := (k + 15) &^ 15
	n := (m + 3) &^ 3 * s
	p := &Matrix{M: m, K: k, Stride: s, half: half}
	p.job.a = p
	p.job.next.Store(closed)
	if half {
		p.d16 = make([]uint16, n)
	} else {
		p.d32 = make([]float32, n)
	}
	for i := range m {
		for q, v := range a[i*lda : i*lda+k] {
			if half {
				p.d16[p.index(i, q)] = FromFloat32(v)
			} else {
				p.d32[p.index(i, q)] = v
			}
		}
	}
	return p
}

// index returns the position of element (i, q) in the packed storage.
func (a *Matrix) index(i, q int) int {
	return (i/4)*4*a.Stride + (q/16)*64 + (i%4)*16 + q%16
}

// At returns element (i, q) as stored (rounded if half).
func (a *Matrix) At(i, q int) float32 {
	if a.half {
		return ToFloat32(a.d16[a.index(i, q)])
	}
	return a.d32[a.index(i, q)]
}

// Half reports whether the matrix is stored in half precision.
func (a *Matrix) Half() bool { return a.half }

// Bytes returns the size of the packed matrix.
func (a *Matrix) Bytes() int { return 2*len(a.d16) + 4*len(a.d32) }

// MinParallel is the least number of multiply-adds (M·Stride·n) of a
// product split over goroutines.
var MinParallel = 1 << 17

// MulT computes C = A·Bᵀ + beta·C for the n×K matrix B given as bt, with
// rows Stride apart (columns K … Stride−1 must be finite, normally zero),
// and C M×n with rows ldc apart. When beta == 0, C is not read.
func (a *Matrix) MulT(n int, bt []float32, beta float32, c []float32, ldc int) {
	a.check(0, a.M, n, bt, c, ldc)
	groups := (a.M + 3) / 4
	t := 1
	if a.M*a.Stride*max(n, 1) >= MinParallel {
		t = min(runtime.GOMAXPROCS(0), groups, maxWorkers+1)
	}
	if t <= 1 {
		a.mulRows(0, a.M, n, bt, beta, c, ldc)
		return
	}
	startWorkers()
	j := &a.job
	j.n, j.bt, j.beta, j.c, j.ldc = n, bt, beta, c, ldc
	tasks := min(4*t, groups, maxTasks)
	for i := range tasks + 1 {
		j.bounds[i] = min(a.M, groups*i/tasks*4)
	}
	j.wg.Add(tasks)
	j.tasks.Store(int64(tasks))
	j.next.Store(0) // open: tasks may be claimed from here on
	for range t - 1 {
		select {
		case jobs <- j:
		default: // workers are swamped; the caller does the work
		}
	}
	j.work()
	j.wg.Wait()
	j.next.Store(closed)
	j.bt, j.c = nil, nil
}

// MulTRows is MulT for rows [i0, i1) of A and C only, on the calling
// goroutine; i0 must be a multiple of 4. Calls on disjoint row ranges may
// run concurrently.
func (a *Matrix) MulTRows(i0, i1, n int, bt []float32, beta float32, c []float32, ldc int) {
	a.check(i0, i1, n, bt, c, ldc)
	a.mulRows(i0, i1, n, bt, beta, c, ldc)
}

func (a *Matrix) check(i0, i1, n int, bt, c []float32, ldc int) {
	if i0%4 != 0 || i0 < 0 || i1 > a.M || i0 > i1 || n < 0 || ldc < n || (n > 0 && i1 > i0 && (len(bt) < n*a.Stride || len(c) < (i1-1)*ldc+n)) {
		panic(fmt.Sprintf("panel: MulT: rows [%d, %d) of %d×%d times %d columns: bt has %d values (rows of %d), c %d (ldc %d)",
			i0, i1, a.M, a.K, n, len(bt), a.Stride, len(c), ldc))
	}
}

func (a *Matrix) mulRows(i0, i1, n int, bt []float32, beta float32, c []float32, ldc int) {
	var out [16]float32
	s := a.Stride
	for i := i0; i < i1; i += 4 {
		rows := min(4, i1-i)
		j := 0
		for ; j+4 <= n; j += 4 {
			b0, b1, b2, b3 := bt[j*s:(j+1)*s], bt[(j+1)*s:(j+2)*s], bt[(j+2)*s:(j+3)*s], bt[(j+3)*s:(j+4)*s]
			if a.half {
				dot4x4h(s, a.d16[i*s:(i+4)*s], b0, b1, b2, b3, &out)
			} else {
				dot4x4s(s, a.d32[i*s:(i+4)*s], b0, b1, b2, b3, &out)
			}
			store(c, ldc, i, rows, j, 4, &out, 4, beta)
		}
		for ; j < n; j++ {
			b0 := bt[j*s : (j+1)*s]
			if a.half {
				dot4x1h(s, a.d16[i*s:(i+4)*s], b0, &out)
			} else {
				dot4x1s(s, a.d32[i*s:(i+4)*s], b0, &out)
			}
			store(c, ldc, i, rows, j, 1, &out, 1, beta)
		}
	}
}

// store writes C[i+r][j+q] = out[r·stride+q] (+ beta·C[i+r][j+q]).
func store(c []float32, ldc, i, rows, j, cols int, out *[16]float32, stride int, beta float32) {
	for r := range rows {
		row := c[(i+r)*ldc+j : (i+r)*ldc+j+cols]
		for q := range row {
			v := out[r*stride+q]
			if beta != 0 {
				v += beta * row[q]
			}
			row[q] = v
		}
	}
}

// maxTasks bounds the row ranges one product is split into.
const maxTasks = 64

// closed is the value of job.next between products: a worker still
// holding the job claims nothing.
const closed = 1 << 40

// job is a product split into row ranges, claimed through next by the
// caller and by any worker woken for it, so a worker slow to start (a busy
// or descheduled CPU) delays nothing: the caller runs the unclaimed ranges
// itself (the design of core/internal/sgemm's parallel products).
type job struct {
	a      *Matrix
	n      int
	bt     []float32
	beta   float32
	c      []float32
	ldc    int
	tasks  atomic.Int64
	next   atomic.Int64
	wg     sync.WaitGroup
	bounds [maxTasks + 1]int
}

// work runs ranges of j until none is left unclaimed.
func (j *job) work() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.tasks.Load() {
			return
		}
		j.a.mulRows(j.bounds[i], j.bounds[i+1], j.n, j.bt, j.beta, j.c, j.ldc)
		j.wg.Done()
	}
}

// spinWait is how long an idle worker polls for the next product before
// it parks: waking a parked thread costs tens of microseconds on virtual
// machines, and the layers of a streaming step come back to back.
const spinWait = 50 * time.Microsecond

var (
	workersOnce sync.Once
	jobs        chan *job
	// maxWorkers is the number of worker goroutines (GOMAXPROCS − 1 at
	// start-up, at least 1).
	maxWorkers = max(runtime.GOMAXPROCS(0)-1, 1)
)

func startWorkers() {
	workersOnce.Do(func() {
		jobs = make(chan *job, 2*maxTasks)
		for range maxWorkers {
			go worker()
		}
	})
}

func worker() {
	for j := range jobs {
		for j != nil {
			j.work()
			j = nil
			for start := time.Now(); j == nil && time.Since(start) < spinWait; {
				select {
				case j = <-jobs:
				default:
					runtime.Gosched()
				}
			}
		}
	}
}

// The pure-Go kernels: out[4r+c] = Σ_q a_r[q]·b_c[q] (4×4) or out[r] =
// Σ_q a_r[q]·b0[q] (4×1) for the packed group g of 4 rows, k a multiple of
// 16.

func dot4x4sGo(k int, g []float32, b0, b1, b2, b3 []float32, out *[16]float32) {
	var acc [16]float32
	bs := [4][]float32{b0[:k], b1[:k], b2[:k], b3[:k]}
	for c := 0; c < k; c += 16 {
		chunk := g[c*4 : c*4+64]
		for r := range 4 {
			for l, v := range chunk[r*16 : r*16+16] {
				for col, b := range bs {
					acc[4*r+col] += v * b[c+l]
				}
			}
		}
	}
	*out = acc
}

func dot4x1sGo(k int, g []float32, b0 []float32, out *[16]float32) {
	var acc [4]float32
	for c := 0; c < k; c += 16 {
		chunk := g[c*4 : c*4+64]
		for r := range 4 {
			for l, v := range chunk[r*16 : r*16+16] {
				acc[r] += v * b0[c+l]
			}
		}
	}
	copy(out[:4], acc[:])
}

func dot4x4hGo(k int, g []uint16, b0, b1, b2, b3 []float32, out *[16]float32) {
	var acc [16]float32
	bs := [4][]float32{b0[:k], b1[:k], b2[:k], b3[:k]}
	for c := 0; c < k; c += 16 {
		chunk := g[c*4 : c*4+64]
		for r := range 4 {
			for l, h := range chunk[r*16 : r*16+16] {
				v := ToFloat32(h)
				for col, b := range bs {
					acc[4*r+col] += v * b[c+l]
				}
			}
		}
	}
	*out = acc
}

func dot4x1hGo(k int, g []uint16, b0 []float32, out *[16]float32) {
	var acc [4]float32
	for c := 0; c < k; c += 16 {
		chunk := g[c*4 : c*4+64]
		for r := range 4 {
			for l, h := range chunk[r*16 : r*16+16] {
				acc[r] += ToFloat32(h) * b0[c+l]
			}
		}
	}
	copy(out[:4], acc[:])
}
