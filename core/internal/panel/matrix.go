package panel

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Precision is the storage format of a Matrix's elements; products are
// computed in float32 arithmetic whatever it is.
type Precision uint8

const (
	// Float32 stores the elements exactly (4 bytes each).
	Float32 Precision = iota
	// Half stores them in IEEE 754 binary16 (2 bytes, relative rounding
	// error ≤ 2⁻¹¹).
	Half
	// Int8 stores each row as signed bytes times one float32 scale per row
	// (symmetric: scale = max|row|/127, elements rounded to the nearest
	// multiple of it; 1 byte each, absolute error ≤ scale/2). Products
	// round each column of B the same way to Matrix.Levels levels either
	// side of zero (int16) and sum the integer products exactly.
	Int8
)

// String returns "f32", "f16" or "int8".
func (p Precision) String() string {
	switch p {
	case Float32:
		return "f32"
	case Half:
		return "f16"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("Precision(%d)", uint8(p))
}

// Matrix is an M×K weight matrix packed for the kernels (see the package
// documentation), in float32, half precision or int8 with per-row scales.
// Products on the same Matrix must not run concurrently.
type Matrix struct {
	// M and K are the dimensions; Stride is K rounded up to a multiple of
	// 16: the length of the rows of the Bᵀ operand.
	M, K, Stride int
	prec         Precision
	d8           []int8
	d16          []uint16
	d32          []float32
	scale        []float32 // Int8: per row, M rounded up to a multiple of 4
	levels       float32   // Int8: the largest code of a column of B
	qb           []int16   // Int8: the columns of B as codes, n × 2·Stride (each 16 twice)
	qs           []float32 // Int8: their scales
	w16          []int16   // Int8, where Reserve made it: the codes widened for the AVX2 kernels (widenInt8)
	job          job
}

// NewMatrix packs the M×K row-major matrix a (rows lda apart), rounded to
// the precision p.
func NewMatrix(a []float32, m, k, lda int, p Precision) *Matrix {
	if m < 1 || k < 1 || lda < k || len(a) < (m-1)*lda+k || p > Int8 {
		panic(fmt.Sprintf("panel: NewMatrix(%d values, %d×%d, lda %d, %v)", len(a), m, k, lda, p))
	}
	s := (k + 15) &^ 15
	n := (m + 3) &^ 3 * s
	x := &Matrix{M: m, K: k, Stride: s, prec: p}
	x.job.a = x
	x.job.next.Store(closed)
	switch p {
	case Float32:
		x.d32 = make([]float32, n)
	case Half:
		x.d16 = make([]uint16, n)
	case Int8:
		x.d8 = make([]int8, n)
		x.scale = make([]float32, (m+3)&^3)
		// Σ_q |a_q·b_q| ≤ Stride·127·levels must fit in an int32.
		x.levels = float32(min(32767, math.MaxInt32/(127*s)))
	}
	for i := range m {
		row := a[i*lda : i*lda+k]
		switch p {
		case Float32:
			for q, v := range row {
				x.d32[x.index(i, q)] = v
			}
		case Half:
			for q, v := range row {
				x.d16[x.index(i, q)] = FromFloat32(v)
			}
		case Int8:
			sc, codes := quantizeRow(row)
			x.scale[i] = sc
			for q, c := range codes {
				x.d8[x.index(i, q)] = c
			}
		}
	}
	return x
}

// quantizeRow returns the symmetric int8 quantisation of row: the scale
// max|row|/127 and the codes round(v/scale) (ties away from zero); a row
// of zeros has scale 0 and zero codes. Non-finite values panic.
func quantizeRow(row []float32) (float32, []int8) {
	var peak float64
	for _, v := range row {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			panic(fmt.Sprintf("panel: NewMatrix: non-finite value %g cannot be stored in int8", v))
		}
		peak = max(peak, math.Abs(float64(v)))
	}
	codes := make([]int8, len(row))
	if peak == 0 {
		return 0, codes
	}
	sc := float32(peak / 127)
	for q, v := range row {
		codes[q] = int8(max(-127, min(127, math.Round(float64(v)/float64(sc)))))
	}
	return sc, codes
}

// index returns the position of element (i, q) in the packed storage.
func (a *Matrix) index(i, q int) int {
	return (i/4)*4*a.Stride + (q/16)*64 + (i%4)*16 + q%16
}

// At returns element (i, q) as stored (rounded to the precision; for Int8
// the code times the row's scale, rounded to float32).
func (a *Matrix) At(i, q int) float32 {
	switch a.prec {
	case Half:
		return ToFloat32(a.d16[a.index(i, q)])
	case Int8:
		return float32(a.d8[a.index(i, q)]) * a.scale[i]
	}
	return a.d32[a.index(i, q)]
}

// Precision returns the storage format of the matrix.
func (a *Matrix) Precision() Precision { return a.prec }

// Levels returns, for Int8, the largest code of a column of B in a
// product: 32767 (int16) when K ≤ 512, less for longer rows so that the
// integer sums cannot overflow (2047 at K = 8256); 0 for other precisions.
func (a *Matrix) Levels() int { return int(a.levels) }

// Bytes returns the size of the packed matrix (with the Int8 scales; not
// counting the widened copy Reserve may keep).
func (a *Matrix) Bytes() int { return len(a.d8) + 2*len(a.d16) + 4*len(a.d32) + 4*len(a.scale) }

// MinParallel is the least number of multiply-adds (M·Stride·n) of a
// product split over goroutines.
var MinParallel = 1 << 17

// MulT computes C = A·Bᵀ + beta·C for the n×K matrix B given as bt, with
// rows Stride apart (columns K … Stride−1 must be finite, normally zero),
// and C M×n with rows ldc apart. When beta == 0, C is not read. For Int8,
// each row of bt is first rounded to codes times a scale, max|row|/Levels
// (so A·Bᵀ has a relative error of about 1/(2·Levels) besides A's); a
// non-finite value makes the row's products NaN, and a row whose values
// are all below 2⁻¹⁰⁰ in magnitude counts as zeros.
func (a *Matrix) MulT(n int, bt []float32, beta float32, c []float32, ldc int) {
	a.check(n, bt, c, ldc)
	if a.prec == Int8 {
		a.quantizeB(n, bt)
	}
	groups := (a.M + 3) / 4
	t := 1
	if a.M*a.Stride*max(n, 1) >= MinParallel {
		t = min(runtime.GOMAXPROCS(0), groups, maxWorkers+1)
	}
	if t <= 1 {
		a.mulRows(0, a.M, 0, n, bt, beta, c, ldc)
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

// PrepareT rounds rows j0 … j1−1 of the Bᵀ operand bt (as MulT takes
// it) for a product of n columns: for Int8 into the codes MulTRows reads
// (Reserve(n) must have made room: PrepareT allocates nothing), for other
// precisions nothing. With MulTRows it lets a caller split a product over
// its own goroutines: PrepareT on disjoint row ranges of bt, then, once
// all are done, MulTRows on disjoint ranges of rows of A; the result is
// MulT's, whatever the split.
func (a *Matrix) PrepareT(j0, j1, n int, bt []float32) {
	if j0 < 0 || j1 > n || j0 > j1 || len(bt) < n*a.Stride {
		panic(fmt.Sprintf("panel: PrepareT: rows %d…%d of %d (bt has %d values, rows of %d)", j0, j1, n, len(bt), a.Stride))
	}
	if a.prec != Int8 {
		return
	}
	if len(a.qb) < 2*n*a.Stride {
		panic(fmt.Sprintf("panel: PrepareT: room for %d columns, %d needed (Reserve)", len(a.qs), n))
	}
	a.quantizeRange(j0, j1, bt)
}

// MulTRows computes rows i0 … i1−1 of MulT's C = A·Bᵀ + beta·C (i0 and
// i1 multiples of 4, or i1 = M), on the calling goroutine, once PrepareT
// has prepared all n rows of bt.
func (a *Matrix) MulTRows(i0, i1, n int, bt []float32, beta float32, c []float32, ldc int) {
	a.MulTPart(i0, i1, 0, n, n, bt, beta, c, ldc)
}

// MulTPart computes rows i0 … i1−1 and columns j0 … j1−1 of MulT's C =
// A·Bᵀ + beta·C (i0 and i1 as for MulTRows; j0 a multiple of 4, j1 one
// too or n; or an empty range) on the calling goroutine, once PrepareT has prepared rows j0
// … j1−1 of bt (of n): a caller splitting a product by columns can have
// each part prepare and multiply its own. Every element is MulT's, bit
// for bit.
func (a *Matrix) MulTPart(i0, i1, j0, j1, n int, bt []float32, beta float32, c []float32, ldc int) {
	a.check(n, bt, c, ldc)
	if i0 < 0 || i1 > a.M || i0 > i1 || i0%4 != 0 || (i1%4 != 0 && i1 != a.M) ||
		j0 < 0 || j1 > n || j0 > j1 || (j0%4 != 0 && j0 != j1) || (j1%4 != 0 && j1 != n) {
		panic(fmt.Sprintf("panel: MulTPart: rows %d…%d of %d, columns %d…%d of %d", i0, i1, a.M, j0, j1, n))
	}
	a.mulRows(i0, i1, j0, j1, bt, beta, c, ldc)
}

func (a *Matrix) check(n int, bt, c []float32, ldc int) {
	if n < 0 || ldc < n || (n > 0 && (len(bt) < n*a.Stride || len(c) < (a.M-1)*ldc+n)) {
		panic(fmt.Sprintf("panel: MulT: %d×%d times %d columns: bt has %d values (rows of %d), c %d (ldc %d)",
			a.M, a.K, n, len(bt), a.Stride, len(c), ldc))
	}
}

// roundMagic is 1.5·2²³: adding and subtracting it rounds a float32 of
// magnitude below 2²² to the nearest integer (ties to even).
const roundMagic = 0x1.8p23

// Reserve makes room for products of up to n columns, so that an Int8
// product of no more columns allocates nothing (other precisions need no
// room).
//
// For Int8 products of at least widenMinCols columns on kernels that
// multiply 16-bit words (the avx2 path), it also keeps a copy of the
// weights widened to int16 in their kernels' order, which the 4×4 blocks
// read instead of the bytes: twice the bytes of the codes, for the
// widening the kernels would otherwise repeat for every block of 4
// columns.
func (a *Matrix) Reserve(n int) {
	if a.prec != Int8 {
		return
	}
	if len(a.qb) < 2*n*a.Stride {
		a.qb = make([]int16, 2*n*a.Stride)
		a.qs = make([]float32, n)
	}
	if n >= widenMinCols && widenInt8 && a.w16 == nil {
		a.w16 = widen(a.d8)
	}
}

// widenMinCols is the least number of columns for which Reserve widens
// Int8 weights (where widenInt8): with fewer, the kernels reuse each row
// group for too few blocks of 4 columns to repay the second copy.
const widenMinCols = 8

// widenInt8 is set where the int8 kernels in use read widened weights
// (Matrix.Reserve).
var widenInt8 bool

// widen returns the codes of the packed groups g as int16 in the order of
// the AVX2 int8 kernels: per group and per 16 columns, 4 runs of 16
// words, the codes 8–15 of row 0 then 0–7 of row 1; 0–7 of row 0 then
// 8–15 of row 1; the same for rows 2 and 3.
func widen(g []int8) []int16 {
	w := make([]int16, len(g))
	for c := 0; c < len(g); c += 64 { // a chunk: 16 codes of each of 4 rows
		ch, out := g[c:c+64], w[c:c+64]
		for p := range 2 { // row pairs
			r0, r1 := ch[32*p:32*p+16], ch[32*p+16:32*p+32]
			o := out[32*p : 32*p+32]
			for q := range 8 {
				o[q], o[8+q] = int16(r0[8+q]), int16(r1[q])
				o[16+q], o[24+q] = int16(r0[q]), int16(r1[8+q])
			}
		}
	}
	return w
}

// tinyColumn is the largest magnitude below which a column of B counts as
// zeros in an Int8 product (levels/peak must stay a finite float32).
const tinyColumn = 0x1p-100

// quantizeB rounds the n rows of bt to int16 codes (qb) and scales (qs):
// scale = max|row|/levels, code = round(v/scale); each 16 codes are stored
// twice in a row (64 bytes): the operand of both halves of VPDPWSSD, and
// from its middle codes 8–15 then 0–7 for the AVX2 int8 4×4 kernel.
func (a *Matrix) quantizeB(n int, bt []float32) {
	a.Reserve(n)
	a.quantizeRange(0, n, bt)
}

// quantizeRange is quantizeB for rows j0 … j1−1 (the room is there).
func (a *Matrix) quantizeRange(j0, j1 int, bt []float32) {
	s := a.Stride
	for j := j0; j < j1; j++ {
		row := bt[j*s : (j+1)*s]
		if inv, ok := a.columnScale(j, peakBits(row)); ok {
			quantize(a.qb[2*j*s:2*(j+1)*s], row, inv)
		}
	}
}

// columnScale sets the scale of column j of B from the bits of its peak
// magnitude pb and returns the factor its values are rounded with, or,
// for a column of (nearly) zeros, a NaN or ±Inf, clears its codes and
// returns false.
func (a *Matrix) columnScale(j int, pb uint32) (inv float32, ok bool) {
	peak := math.Float32frombits(pb)
	if peak < tinyColumn || pb >= 0x7f800000 { // (nearly) zeros, or a NaN or ±Inf
		clear(a.qb[2*j*a.Stride : 2*(j+1)*a.Stride])
		a.qs[j] = 0
		if pb >= 0x7f800000 {
			a.qs[j] = float32(math.NaN())
		}
		return 0, false
	}
	a.qs[j] = peak / a.levels
	// |v·inv| ≤ levels·(1 + 2⁻²³) rounds to at most levels.
	return a.levels / peak, true
}

// PrepareRuns is PrepareT for an Int8 matrix whose Bᵀ operand is not
// stored whole: row j (j0 ≤ j < j1, of n) is the concatenation of the
// runs src[j·step+o : j·step+o+run] for o in offs, len(offs)·run = K and
// run a multiple of 16 (so K = Stride), such as the columns of a
// convolution's im2col matrix read from its time-major input. The codes
// and scales are PrepareT's of that Bᵀ, bit for bit; MulTRows and
// MulTPart then read them only (their bt need not hold the rows).
func (a *Matrix) PrepareRuns(j0, j1, n int, src []float32, step int, offs []int, run int) {
	if a.prec != Int8 || run <= 0 || run%16 != 0 || len(offs)*run != a.K || j0 < 0 || j1 > n || j0 > j1 {
		panic(fmt.Sprintf("panel: PrepareRuns: %v matrix of %d columns, %d runs of %d, rows %d…%d of %d", a.prec, a.K, len(offs), run, j0, j1, n))
	}
	if len(a.qb) < 2*n*a.Stride {
		panic(fmt.Sprintf("panel: PrepareRuns: room for %d columns, %d needed (Reserve)", len(a.qs), n))
	}
	for j := j0; j < j1; j++ {
		var pb uint32
		for _, o := range offs {
			pb = max(pb, peakBits(src[j*step+o:j*step+o+run]))
		}
		inv, ok := a.columnScale(j, pb)
		if !ok {
			continue
		}
		q := a.qb[2*j*a.Stride : 2*(j+1)*a.Stride]
		for r, o := range offs {
			quantize(q[2*r*run:2*(r+1)*run], src[j*step+o:j*step+o+run], inv)
		}
	}
}

// peakBitsGo is peakBits in Go.
func peakBitsGo(x []float32) uint32 {
	var m uint32
	for _, v := range x {
		m = max(m, math.Float32bits(v)&^(1<<31))
	}
	return m
}

// quantizeGo is quantize in Go: the product rounded to float32 (the
// conversion forbids fusing it with the addition), then adding and
// subtracting roundMagic rounds as VCVTPS2DQ does (to nearest, ties to
// even) below 2²².
func quantizeGo(q []int16, x []float32, inv float32) {
	q = q[:2*len(x)]
	for i, v := range x {
		c := int16(float32(v*inv) + roundMagic - roundMagic)
		q[i+i&^15] = c
		q[i+i&^15+16] = c
	}
}

// mulInt8Block, where the int8 kernels in use have a fused form (set by
// the kernel selection), computes and stores what mulRows's loop computes
// and stores for the 4 rows from i (a multiple of 4, i+4 ≤ M) and the
// 4·n4 columns of C from j, with the same results, bit for bit; nil
// elsewhere.
var mulInt8Block func(a *Matrix, i, j, n4 int, c []float32, ldc int, beta float32)

// mulRows computes rows i0 … i1−1 and columns j0 … n−1 of C: 4×4 blocks
// from j0, then single columns.
func (a *Matrix) mulRows(i0, i1, j0, n int, bt []float32, beta float32, c []float32, ldc int) {
	var out [16]float32
	s := a.Stride
	for i := i0; i < i1; i += 4 {
		rows := min(4, i1-i)
		j := j0
		if a.prec == Int8 && rows == 4 && n-j0 >= 4 && mulInt8Block != nil {
			n4 := (n - j0) / 4
			mulInt8Block(a, i, j0, n4, c, ldc, beta)
			j += 4 * n4
		}
		var rs []float32
		if a.prec == Int8 {
			rs = a.scale[i : i+4]
		}
		for ; j+4 <= n; j += 4 {
			switch a.prec {
			case Float32:
				dot4x4s(s, a.d32[i*s:(i+4)*s], bt[j*s:(j+1)*s], bt[(j+1)*s:(j+2)*s], bt[(j+2)*s:(j+3)*s], bt[(j+3)*s:(j+4)*s], &out)
			case Half:
				dot4x4h(s, a.d16[i*s:(i+4)*s], bt[j*s:(j+1)*s], bt[(j+1)*s:(j+2)*s], bt[(j+2)*s:(j+3)*s], bt[(j+3)*s:(j+4)*s], &out)
			case Int8:
				q := a.qb
				dot4x4i(s, a.d8[i*s:(i+4)*s], q[2*j*s:2*(j+1)*s], q[2*(j+1)*s:2*(j+2)*s], q[2*(j+2)*s:2*(j+3)*s], q[2*(j+3)*s:2*(j+4)*s], &out)
			}
			a.store(c, ldc, i, rows, j, 4, &out, 4, rs, beta)
		}
		for ; j < n; j++ {
			switch a.prec {
			case Float32:
				dot4x1s(s, a.d32[i*s:(i+4)*s], bt[j*s:(j+1)*s], &out)
			case Half:
				dot4x1h(s, a.d16[i*s:(i+4)*s], bt[j*s:(j+1)*s], &out)
			case Int8:
				dot4x1i(s, a.d8[i*s:(i+4)*s], a.qb[2*j*s:2*(j+1)*s], &out)
			}
			a.store(c, ldc, i, rows, j, 1, &out, 1, rs, beta)
		}
	}
}

// store writes C[i+r][j+q] = out[r·stride+q] (+ beta·C[i+r][j+q]); with
// row scales rs (Int8) the value is out·rs[r]·qs[j+q].
func (a *Matrix) store(c []float32, ldc, i, rows, j, cols int, out *[16]float32, stride int, rs []float32, beta float32) {
	for r := range rows {
		row := c[(i+r)*ldc+j : (i+r)*ldc+j+cols]
		for q := range row {
			v := out[r*stride+q]
			if rs != nil {
				v = v * rs[r] * a.qs[j+q]
			}
			if beta != 0 {
				v += float32(beta * row[q]) // rounded: never fused (the kernels' stores round it too)
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
		j.a.mulRows(j.bounds[i], j.bounds[i+1], 0, j.n, j.bt, j.beta, j.c, j.ldc)
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

// Transpose sets dst[t·ldd + r] = src[r·lds + t] for r < rows and t <
// cols: the Bᵀ operand of MulT (rows of K values, ldd = Stride) from K
// rows of n values (lds ≥ n), such as a layer's channel-major input. The
// values are copied, not rounded; blocks of 8 × 8 stay in the registers
// (AVX on amd64).
func Transpose(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if ldd < rows || lds < cols || len(dst) < (cols-1)*ldd+rows || len(src) < (rows-1)*lds+cols {
		panic(fmt.Sprintf("panel: Transpose: %d×%d (src %d values, rows %d apart; dst %d, %d apart)", rows, cols, len(src), lds, len(dst), ldd))
	}
	r := 0
	if transpose8 != nil {
		for ; r+8 <= rows; r += 8 {
			nb := cols / 8
			transpose8(dst[r:], ldd, src[r*lds:], lds, nb)
			if t := 8 * nb; t < cols {
				transposeGo(dst[t*ldd+r:], ldd, src[r*lds+t:], lds, 8, cols-t)
			}
		}
	}
	if r < rows {
		transposeGo(dst[r:], ldd, src[r*lds:], lds, rows-r, cols)
	}
}

// transpose8, where the kernels in use have one, is Transpose for 8 rows
// and 8·nb columns; nil elsewhere.
var transpose8 func(dst []float32, ldd int, src []float32, lds, nb int)

// transposeGo is Transpose in Go, by blocks of 16 × 16 (fewer than 8
// columns: one pass per column).
func transposeGo(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if cols < 8 {
		for t := range cols {
			d, s := dst[t*ldd:t*ldd+rows], src[t:]
			for r := range d {
				d[r] = s[r*lds]
			}
		}
		return
	}
	const blk = 16
	for r0 := 0; r0 < rows; r0 += blk {
		r1 := min(r0+blk, rows)
		for t0 := 0; t0 < cols; t0 += blk {
			t1 := min(t0+blk, cols)
			for r := r0; r < r1; r++ {
				for t, v := range src[r*lds+t0 : r*lds+t1] {
					dst[(t0+t)*ldd+r] = v
				}
			}
		}
	}
}

// The pure-Go kernels: out[4r+c] = Σ_q a_r[q]·b_c[q] (4×4) or out[r] =
// Σ_q a_r[q]·b0[q] (4×1) for the packed group g of 4 rows, k a multiple of
// 16; for Int8 (…i) a_r[q] and b_c[q] are the codes (b_c[q] at 2q − q mod
// 16: each 16 codes of a column are stored twice), the sums exact int32
// (the scales are applied by store).

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

func dot4x4iGo(k int, g []int8, b0, b1, b2, b3 []int16, out *[16]float32) {
	var acc [16]int32
	bs := [4][]int16{b0[:2*k], b1[:2*k], b2[:2*k], b3[:2*k]}
	for c := 0; c < k; c += 16 {
		chunk := g[c*4 : c*4+64]
		for r := range 4 {
			for l, q := range chunk[r*16 : r*16+16] {
				for col, b := range bs {
					acc[4*r+col] += int32(q) * int32(b[2*c+l])
				}
			}
		}
	}
	for i, v := range acc {
		out[i] = float32(v)
	}
}

func dot4x1iGo(k int, g []int8, b0 []int16, out *[16]float32) {
	var acc [4]int32
	for c := 0; c < k; c += 16 {
		chunk := g[c*4 : c*4+64]
		for r := range 4 {
			for l, q := range chunk[r*16 : r*16+16] {
				acc[r] += int32(q) * int32(b0[2*c+l])
			}
		}
	}
	for r, v := range acc {
		out[r] = float32(v)
	}
}
