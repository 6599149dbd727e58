// Package sgemm implements single-precision matrix multiplication
// (C = alpha·op(A)·op(B) + beta·C, row-major) for core's conv1d-as-GEMM and
// linear layers.
//
// The design follows BLIS (Van Zee and van de Geijn, "BLIS: A Framework for
// Rapidly Instantiating BLAS Functionality", ACM TOMS 41(3), 2015): op(A) and
// op(B) are packed in Go and assembly into cache-sized blocks of micro-panels
// (packing absorbs transposition and zero-pads edge tiles), and an assembly
// micro-kernel computes one register tile of C at a time:
//
//   - "avx512": 12×32 tile, 24 zmm accumulators (amd64 with AVX-512F/BW/VL);
//   - "avx2": 6×16 tile, 12 ymm accumulators (amd64 with AVX2 and FMA);
//   - "neon": 8×12 tile, 24 q-register accumulators (arm64);
//   - "generic": 4×4 tile in pure Go (every other CPU, and the purego tag).
//
// The loop nest keeps a 12×kc micro-panel of A in L1 and a kc×nc block of B
// in half of L2 (nc is derived from the L2 size CPUID reports); with kc=256
// that is 12 KiB and 512 KiB on a 1 MiB-L2 core. The first A micro-panel
// of each block (AVX-512 and AVX2) reads B straight from the source and
// packs it on the way, so the packing reads overlap with arithmetic.
// Products with few columns (n ≤ 24, A not transposed) skip packing A
// altogether: the AVX-512, AVX2 and NEON dot-product kernels read rows of A
// in place, which is what streaming inference (a handful of frames per call)
// needs.
//
// The kernel follows the instruction-set path of core/internal/isa (the best
// the CPU supports, or the one RAVE_KERNELS names); UseKernel overrides it
// for tests and benchmarks.
//
// Products of at least 4 MFLOP are split across goroutines (SetThreads) by
// disjoint, tile-aligned ranges of rows and columns of C. K is never split
// and every element of C goes through the same instruction sequence wherever
// it lands, so the result is bit-identical for any thread count. It may
// differ in the last bits between kernels, and from Naive.
//
// Sgemm does not allocate once warm: packing buffers are kept on a free list
// and worker goroutines live for the life of the process.
//
// Shape and length errors are programmer errors and panic with messages
// prefixed "sgemm: ".
package sgemm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(X) is X or Xᵀ. op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are
// row strides (elements) of the stored matrices. When beta == 0, C is not read
// (NaNs in C do not propagate). When alpha == 0 or k == 0, A and B are not
// read. Sgemm does not allocate once its packing buffers are warm, and it is
// safe for concurrent use on disjoint C.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(threadCount(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm computed on the calling goroutine alone, for callers
// that run independent products in parallel themselves. Its results are
// bit-identical to Sgemm's.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if beta == 0 {
		beta = 0 // turn -0 into +0: the kernels test the bits
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	p := problem{
		transA: transA, transB: transB,
		m: m, n: n, k: k,
		alpha: alpha, a: a, lda: lda,
		b: b, ldb: ldb,
		beta: beta, c: c, ldc: ldc,
	}
	if m*n*k <= directMax {
		p.direct()
		return
	}
	kn := active.Load()
	if !transA && useDot(kn, n, k) {
		p.smallN(kn, threads)
		return
	}
	tm, tn := split(kn, m, n, k, threads, kn.fused != nil && !transB)
	if tm*tn == 1 {
		buf := getBuf()
		p.block(kn, 0, m, 0, n, buf)
		putBuf(buf)
		return
	}
	p.parallel(kn, tm, tn)
}

// Naive is the plain triple-loop reference with the same contract as Sgemm
// (float32 accumulation in k order, for tests and benchmarks).
func Naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	naive(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// naive is Naive without the argument checks.
func naive(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// op(A)[i][q] = a[i*ai+q*aq], op(B)[q][j] = b[q*bq+j*bj].
	ai, aq := lda, 1
	if transA {
		ai, aq = 1, lda
	}
	bq, bj := ldb, 1
	if transB {
		bq, bj = 1, ldb
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			ia, jb := i*ai, j*bj
			for q := 0; q < k; q++ {
				s += a[ia+q*aq] * b[q*bq+jb]
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// threads is the SetThreads setting; 0 means runtime.GOMAXPROCS(0).
var threads atomic.Int64

// SetThreads sets the number of goroutines Sgemm may use (n < 1 means
// runtime.GOMAXPROCS(0), evaluated at each call) and returns the previous
// value (0 if it was the GOMAXPROCS default), so SetThreads(prev) restores it.
func SetThreads(n int) int {
	if n < 1 {
		n = 0
	}
	return int(threads.Swap(int64(n)))
}

func threadCount() int {
	t := int(threads.Load())
	if t < 1 {
		t = runtime.GOMAXPROCS(0)
	}
	return min(t, maxTasks)
}

const (
	// directMax is the largest m·n·k computed by the unpacked triple loop:
	// below it, packing and a kernel call cost more than they save.
	directMax = 256
	// minParallelFlops is the least work (2·m·n·k) split across goroutines:
	// about 40µs on one core, twice the cost of waking an idle worker.
	minParallelFlops = 4 << 20
)

// problem is one Sgemm call.
type problem struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// direct computes tiny products with no packing. Each element is summed in
// k order exactly as in Naive, but a row of C at a time so that the additions
// of different columns overlap instead of waiting on one another.
func (p *problem) direct() {
	a, b, c := p.a, p.b, p.c
	m, n, k, ldc := p.m, p.n, p.k, p.ldc
	alpha, beta := p.alpha, p.beta
	ai, aq := p.lda, 1 // op(A)[i][q] = a[i*ai+q*aq]
	if p.transA {
		ai, aq = 1, p.lda
	}
	bq, bj := p.ldb, 1 // op(B)[q][j] = b[q*bq+j*bj]
	if p.transB {
		bq, bj = 1, p.ldb
	}
	var acc [64]float32
	for i := 0; i < m; i++ {
		for j0 := 0; j0 < n; j0 += len(acc) {
			t := acc[:min(len(acc), n-j0)]
			clear(t)
			for q := 0; q < k; q++ {
				x := a[i*ai+q*aq]
				if bj == 1 {
					row := b[q*bq+j0:]
					row = row[:len(t)]
					for j, y := range row {
						t[j] += x * y
					}
				} else {
					for j := range t {
						t[j] += x * b[q*bq+(j0+j)*bj]
					}
				}
			}
			crow := c[i*ldc+j0:]
			crow = crow[:len(t)]
			for j, s := range t {
				if beta == 0 {
					crow[j] = alpha * s
				} else {
					crow[j] = alpha*s + beta*crow[j]
				}
			}
		}
	}
}

// block computes rows [i0, i1) and columns [j0, j1) of C: the BLIS loop
// nest around the micro-kernel. i0 and j0 are multiples of kn.mr and kn.nr,
// so tiles fall on the same global grid whatever the thread split.
func (p *problem) block(kn *kernel, i0, i1, j0, j1 int, buf *packBuf) {
	mr, nr := kn.mr, kn.nr
	// Balanced K blocks: the split depends on k only, never on threads.
	nkb := (p.k + kn.kc - 1) / kn.kc
	kc := (p.k + nkb - 1) / nkb
	mcMax := min(kn.mc/mr*mr, roundUp(i1-i0, mr))
	ncMax := min(kn.nc/nr*nr, roundUp(j1-j0, nr))
	abuf, bbuf := buf.get(kn, mcMax*kc, ncMax*kc)
	c, ldc, alpha := p.c, p.ldc, p.alpha
	for ib := i0; ib < i1; ib += mcMax {
		mc := min(mcMax, i1-ib)
		for pb := 0; pb < p.k; pb += kc {
			kb := min(kc, p.k-pb)
			beta := p.beta
			if pb > 0 {
				beta = 1
			}
			p.packA(abuf, mr, ib, mc, pb, kb)
			for jb := j0; jb < j1; jb += ncMax {
				nc := min(ncMax, j1-jb)
				ir := 0
				if kn.fused != nil && !p.transB && mc > 8 {
					// Pack B while computing the first A panel: the source
					// reads overlap with the arithmetic.
					ap := &abuf[0]
					crow := ib*ldc + jb
					mrr := min(mr, mc)
					for jr := 0; jr < nc; jr += nr {
						kn.fused(mrr, min(nr, nc-jr), kb, ap, &p.b[pb*p.ldb+jb+jr], p.ldb, &bbuf[jr*kb], &c[crow+jr], ldc, alpha, beta)
					}
					ir = mr
				} else {
					p.packB(bbuf, nr, pb, kb, jb, nc)
				}
				for ; ir < mc; ir += mr {
					mrr := min(mr, mc-ir)
					ap := &abuf[ir*kb]
					crow := (ib+ir)*ldc + jb
					for jr := 0; jr < nc; jr += nr {
						kn.micro(mrr, min(nr, nc-jr), kb, ap, &bbuf[jr*kb], &c[crow+jr], ldc, alpha, beta)
					}
				}
			}
		}
	}
}

// useDot reports whether a product with n columns and depth k is faster
// with kn's dot-product kernels than packed: they read A once, in place,
// but pay a horizontal sum per 4×4 block of C, so they win for few
// columns, and for up to 24 columns once k is deep enough (kn.dotMinK).
func useDot(kn *kernel, n, k int) bool {
	i := (n - 1) / 4
	return kn.dot44 != nil && i < len(kn.dotMinK) && kn.dotMinK[i] > 0 && k >= kn.dotMinK[i]
}

// smallN computes a product with few columns (useDot, A not transposed)
// with the dot-product kernels: rows of A are read in place and only Bᵀ, n×k,
// is packed (not even that when B is stored transposed). Rows of C are split
// across goroutines in groups of 4; each element's arithmetic is the same
// whatever the split.
func (p *problem) smallN(kn *kernel, threads int) {
	buf := getBuf()
	bt, ldbt := p.b, p.ldb
	if !p.transB {
		_, t := buf.get(kn, 0, p.n*p.k)
		for q := 0; q < p.k; q++ {
			for j, v := range p.b[q*p.ldb : q*p.ldb+p.n] {
				t[j*p.k+q] = v
			}
		}
		bt, ldbt = t, p.k
	}
	groups := (p.m + 3) / 4
	nt := 1
	if 2*float64(p.m)*float64(p.n)*float64(p.k) >= minParallelFlops {
		nt = min(threads, groups)
	}
	if nt <= 1 {
		p.dotRows(kn, 0, p.m, bt, ldbt, &buf.out)
	} else {
		p.run(nt, func(r int) task {
			return task{kn: kn, dot: true, bt: bt, ldbt: ldbt,
				i0: min(p.m, r*groups/nt*4), i1: min(p.m, (r+1)*groups/nt*4)}
		})
	}
	putBuf(buf)
}

// dotRows computes rows [i0, i1) of C with the dot-product kernels; row j of
// bt (ldbt apart) is column j of op(B). out is scratch space.
func (p *problem) dotRows(kn *kernel, i0, i1 int, bt []float32, ldbt int, out *[16]float32) {
	a, lda, k, n := p.a, p.lda, p.k, p.n
	for i := i0; i < i1; i += 4 {
		rows := min(4, i1-i)
		// Rows past the end repeat row i; their results are dropped.
		a0, a1, a2, a3 := &a[i*lda], &a[i*lda], &a[i*lda], &a[i*lda]
		if rows > 1 {
			a1 = &a[(i+1)*lda]
		}
		if rows > 2 {
			a2 = &a[(i+2)*lda]
		}
		if rows > 3 {
			a3 = &a[(i+3)*lda]
		}
		j := 0
		for ; j+4 <= n; j += 4 {
			kn.dot44(k, a0, a1, a2, a3, &bt[j*ldbt], &bt[(j+1)*ldbt], &bt[(j+2)*ldbt], &bt[(j+3)*ldbt], &out[0])
			p.storeDot(out[:], 4, i, rows, j, 4)
		}
		for ; j < n; j++ {
			kn.dot41(k, a0, a1, a2, a3, &bt[j*ldbt], &out[0])
			p.storeDot(out[:], 1, i, rows, j, 1)
		}
	}
}

// storeDot writes C[i+r][j+c] from out[r*stride+c] for r < rows, c < cols,
// applying alpha and beta like the micro-kernels' contract.
func (p *problem) storeDot(out []float32, stride, i, rows, j, cols int) {
	for r := 0; r < rows; r++ {
		crow := p.c[(i+r)*p.ldc+j : (i+r)*p.ldc+j+cols]
		for c := range crow {
			v := p.alpha * out[r*stride+c]
			if p.beta == 0 {
				crow[c] = v
			} else {
				crow[c] = p.beta*crow[c] + v
			}
		}
	}
}

// split chooses a tm×tn grid of goroutines (tm·tn ≤ threads) over C,
// minimising a simple cost: the largest per-goroutine share of tiles plus its
// packing work (every goroutine packs the A rows and B columns of its share;
// fused B packing overlaps with arithmetic and costs less). Splits are whole
// tiles, so they never change the arithmetic.
func split(kn *kernel, m, n, k, threads int, fusedB bool) (tm, tn int) {
	if threads <= 1 || 2*float64(m)*float64(n)*float64(k) < minParallelFlops {
		return 1, 1
	}
	packB := 1.0
	if fusedB {
		packB = 0.3
	}
	mt := (m + kn.mr - 1) / kn.mr
	nt := (n + kn.nr - 1) / kn.nr
	best := -1.0
	for i := 1; i <= threads && i <= mt; i++ {
		for j := 1; i*j <= threads && j <= nt; j++ {
			rows := float64((mt+i-1)/i) * float64(kn.mr)
			cols := float64((nt+j-1)/j) * float64(kn.nr)
			// Compute in units of 16 multiply-adds per cycle, packing at
			// roughly one element per cycle, plus a fixed hand-off cost.
			cost := float64(k)*(rows*cols/16+rows+packB*cols) + 20000*float64(i*j-1)
			if best < 0 || cost < best {
				best, tm, tn = cost, i, j
			}
		}
	}
	return tm, tn
}

// scale sets C = beta·C, without reading C when beta == 0.
func scale(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// checkArgs panics if the dimensions, strides or slice lengths are
// inconsistent. la, lb, lc are the slice lengths.
func checkArgs(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("a", ar, ac, la, lda)
	checkMatrix("b", br, bc, lb, ldb)
	checkMatrix("c", m, n, lc, ldc)
}

// checkMatrix panics unless a rows×cols matrix with row stride ld fits in a
// slice of length l.
func checkMatrix(name string, rows, cols, l, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("sgemm: ld%s=%d is less than the %d columns of %s", name, ld, cols, name))
	}
	if rows > 0 && cols > 0 && l < (rows-1)*ld+cols {
		panic(fmt.Sprintf("sgemm: len(%s)=%d is too short for %d×%d with ld%s=%d", name, l, rows, cols, name, ld))
	}
}

// maxTasks bounds the goroutines one call uses (SetThreads above it is
// clamped).
const maxTasks = 64

// job is one parallel Sgemm call. Its tasks are claimed through next by the
// caller and by any worker woken for it, so a worker that is slow to start
// (a busy or descheduled CPU) delays nothing: the caller runs the unclaimed
// tasks itself. Jobs are recycled; a worker may still hold a job after its
// call returned, so between calls next sits far past any task index and
// such a worker claims nothing.
type job struct {
	p     problem // a copy, so the caller's problem stays on its stack
	n     atomic.Int64
	next  atomic.Int64
	wg    sync.WaitGroup
	tasks [maxTasks]task
}

// closed is the value of job.next between calls.
const closed = 1 << 40

// work runs tasks of j until none is left unclaimed.
func (j *job) work() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n.Load() {
			return
		}
		j.tasks[i].run()
		j.wg.Done()
	}
}

// task is one share of C: rows [i0, i1) and columns [j0, j1) through the
// packed path, or rows [i0, i1) through dotRows when dot is set.
type task struct {
	p              *problem
	kn             *kernel
	i0, i1, j0, j1 int
	dot            bool
	bt             []float32
	ldbt           int
}

func (t *task) run() {
	buf := getBuf()
	if t.dot {
		t.p.dotRows(t.kn, t.i0, t.i1, t.bt, t.ldbt, &buf.out)
	} else {
		t.p.block(t.kn, t.i0, t.i1, t.j0, t.j1, buf)
	}
	putBuf(buf)
}

var (
	// freeJobs holds the jobs not in use, closed.
	freeJobs = freeList[job]{newItem: func() *job {
		j := new(job)
		j.next.Store(closed)
		return j
	}}

	workers struct {
		sync.Mutex
		n  int
		ch chan *job
	}
)

// startWorkers makes sure at least n worker goroutines are running. Workers
// live for the life of the process and block on the channel when idle.
func startWorkers(n int) {
	workers.Lock()
	defer workers.Unlock()
	if workers.ch == nil {
		workers.ch = make(chan *job, 2*maxTasks)
	}
	for ; workers.n < n; workers.n++ {
		go worker(workers.ch)
	}
}

// spinWait is how long a worker keeps polling for the next job before it
// parks. Waking a parked goroutine's thread costs 10–30µs on virtual
// machines, more than a whole mid-sized product; back-to-back Sgemm calls
// (a training step, streaming inference) find the worker still awake.
const spinWait = 50 * time.Microsecond

// worker runs jobs from ch for the life of the process.
func worker(ch <-chan *job) {
	for j := range ch {
		for j != nil {
			j.work()
			j = nil
			// Poll, yielding the processor to other goroutines meanwhile.
			for start := time.Now(); j == nil && time.Since(start) < spinWait; {
				select {
				case j = <-ch:
				default:
					runtime.Gosched()
				}
			}
		}
	}
}

// parallel runs p on a tm×tn grid of goroutines over tile-aligned ranges.
func (p *problem) parallel(kn *kernel, tm, tn int) {
	mt := (p.m + kn.mr - 1) / kn.mr
	nt := (p.n + kn.nr - 1) / kn.nr
	p.run(tm*tn, func(t int) task {
		r, s := t/tn, t%tn
		return task{
			kn: kn,
			i0: min(p.m, r*mt/tm*kn.mr), i1: min(p.m, (r+1)*mt/tm*kn.mr),
			j0: min(p.n, s*nt/tn*kn.nr), j1: min(p.n, (s+1)*nt/tn*kn.nr),
		}
	})
}

// run executes the tasks mk(0..n-1) (n ≤ maxTasks) on up to n goroutines,
// the caller's included, and waits for them. Tasks see a copy of p owned by
// the job.
func (p *problem) run(n int, mk func(int) task) {
	startWorkers(n - 1)
	j := freeJobs.get()
	j.p = *p
	for i := 0; i < n; i++ {
		t := mk(i)
		t.p = &j.p
		j.tasks[i] = t
	}
	j.wg.Add(n)
	j.n.Store(int64(n))
	j.next.Store(0) // open: tasks may be claimed from here on
	for i := 1; i < n; i++ {
		select {
		case workers.ch <- j:
		default: // workers are swamped; the caller will do the work
		}
	}
	j.work()
	j.wg.Wait()
	j.next.Store(closed)
	clear(j.tasks[:n]) // drop references to the caller's matrices
	j.p = problem{}
	freeJobs.put(j)
}
