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

// Bytes returns the size of the packed matrix (with the Int8 scales).
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
	a.check(n, bt, c, ldc)
	if i0 < 0 || i1 > a.M || i0 > i1 || i0%4 != 0 || (i1%4 != 0 && i1 != a.M) {
		panic(fmt.Sprintf("panel: MulTRows: rows %d…%d of %d", i0, i1, a.M))
	}
	a.mulRows(i0, i1, n, bt, beta, c, ldc)
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
func (a *Matrix) Reserve(n int) {
	if a.prec == Int8 && len(a.qb) < 2*n*a.Stride {
		a.qb = make([]int16, 2*n*a.Stride)
		a.qs = make([]float32, n)
	}
}

// tinyColumn is the largest magnitude below which a column of B counts as
// zeros in an Int8 product (levels/peak must stay a finite float32).
const tinyColumn = 0x1p-100

// quantizeB rounds the n rows of bt to int16 codes (qb) and scales (qs):
// scale = max|row|/levels, code = round(v/scale); each 16 codes are stored
// twice in a row (64 bytes), the operand of both halves of VPDPWSSD.
func (a *Matrix) quantizeB(n int, bt []float32) {
	a.Reserve(n)
	a.quantizeRange(0, n, bt)
}

// quantizeRange is quantizeB for rows j0 … j1−1 (the room is there).
func (a *Matrix) quantizeRange(j0, j1 int, bt []float32) {
	s := a.Stride
	for j := j0; j < j1; j++ {
		row := bt[j*s : (j+1)*s]
		q := a.qb[2*j*s : 2*(j+1)*s]
		pb := peakBits(row)
		peak := math.Float32frombits(pb)
		if peak < tinyColumn || pb >= 0x7f800000 { // (nearly) zeros, or a NaN or ±Inf
			clear(q)
			a.qs[j] = 0
			if pb >= 0x7f800000 {
				a.qs[j] = float32(math.NaN())
			}
			continue
		}
		a.qs[j] = peak / a.levels
		// |v·inv| ≤ levels·(1 + 2⁻²³) rounds to at most levels.
		quantize(q, row, a.levels/peak)
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

// quantizeGo is quantize in Go: adding and subtracting roundMagic rounds
// as VCVTPS2DQ does (to nearest, ties to even) below 2²².
func quantizeGo(q []int16, x []float32, inv float32) {
	q = q[:2*len(x)]
	for i, v := range x {
		c := int16(v*inv + roundMagic - roundMagic)
		q[i+i&^15] = c
		q[i+i&^15+16] = c
	}
}

func (a *Matrix) mulRows(i0, i1, n int, bt []float32, beta float32, c []float32, ldc int) {
	var out [16]float32
	s := a.Stride
	for i := i0; i < i1; i += 4 {
		rows := min(4, i1-i)
		j := 0
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
