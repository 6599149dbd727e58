package sgemm

import (
	"fmt"
	"math"
	"sync"
)

// BF16Matrix is a weight matrix rounded to bfloat16 (8 significant bits,
// float32's range) and packed for BF16Matrix.Mul, which multiplies it by
// float32 operands rounded the same way and sums the exact products in
// float32. With AVX512_BF16 (VDPBF16PS) that is twice the multiply-adds
// per instruction of float32 FMA, for products whose inputs carry about
// 3 significant decimal digits: an opt-in precision for inference. The
// avx2 path (and avx512 without AVX512_BF16) runs the same sums with
// AVX2+FMA, and the generic path in Go; every path gives the same bits
// on normal numbers. Only the AVX512_BF16 path flushes denormals (below
// 2⁻¹²⁶ ≈ 1.2e-38, in the inputs or the sums) to zero.
//
// Layout: rows in tiles of 12 (the last zero-padded), k in pairs
// (the last zero-padded when K is odd); tile t, pair p holds 12 uint32,
// row i's pair as bf16(a[i][2p]) | bf16(a[i][2p+1])<<16.
type BF16Matrix struct {
	// M and K are the dimensions of the matrix.
	M, K int
	kp   int // pairs of k: ⌈K/2⌉
	data []uint32
}

const (
	bfMR = 12
	bfNR = 32
	// bfKC is the pairs of k in one packed block of B: a 12×bfKC panel of
	// A (12 KiB) stays in L1, a bfKC×bfNC block of B (256 KiB) in L2.
	bfKC = 256
	bfNC = 256
)

// BF16Supported reports whether the path in use multiplies bfloat16 in
// hardware (AVX512_BF16 on the avx512 path); elsewhere Mul runs the same
// sums with float32 arithmetic: AVX2+FMA on the avx2 path, at about the
// speed of a float32 product, or Go on the generic path (slowly).
func BF16Supported() bool { return bf16Path.hw }

// bf16Kernels is a BF16Matrix path: the kernels of an isa path for the
// 12×32 tile (bdot12x32's contract) and the packing of 32-column B panels
// (packBF16's), nil where the Go code runs.
type bf16Kernels struct {
	name string
	hw   bool // hardware bfloat16 dot products (BF16Supported)
	dot  func(kp int, a, b *uint32, c *float32, ldc int, acc int)
	pack func(dst *uint32, base *float32, offs *int, kp, odd int)
}

// bf16Go is the portable BF16Matrix path: bdotGo and packing with ToBF16.
var bf16Go = &bf16Kernels{name: "generic"}

// bf16Path is the BF16Matrix path of the isa path in use (setArchPath).
var bf16Path = bf16Go

// NewBF16Matrix rounds and packs op(A), m×k, where op(A) is A (rows lda
// apart) or, with transA, Aᵀ for A stored k×m (rows lda apart).
func NewBF16Matrix(transA bool, m, k int, a []float32, lda int) *BF16Matrix {
	if transA {
		checkMatrix("A", k, m, len(a), lda)
	} else {
		checkMatrix("A", m, k, len(a), lda)
	}
	kp := (k + 1) / 2
	tiles := (m + bfMR - 1) / bfMR
	p := &BF16Matrix{M: m, K: k, kp: kp, data: make([]uint32, tiles*kp*bfMR)}
	at := func(i, q int) float32 {
		if i >= m || q >= k {
			return 0
		}
		if transA {
			return a[q*lda+i]
		}
		return a[i*lda+q]
	}
	for t := range tiles {
		for q := range kp {
			dst := p.data[(t*kp+q)*bfMR : (t*kp+q+1)*bfMR]
			for i := range dst {
				r := t*bfMR + i
				dst[i] = uint32(ToBF16(at(r, 2*q))) | uint32(ToBF16(at(r, 2*q+1)))<<16
			}
		}
	}
	return p
}

// ToBF16 rounds v to bfloat16, to nearest with ties to even (NaN stays a
// NaN).
func ToBF16(v float32) uint16 {
	b := math.Float32bits(v)
	if v != v {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7FFF + (b>>16)&1) >> 16)
}

// FromBF16 widens a bfloat16 to float32 (exactly).
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Mul computes C = A·B (+ C when accumulate) for B K×n (rows ldb apart)
// and C M×n (rows ldc apart), with B rounded to bfloat16 as it is packed.
// The result does not depend on the number of threads. Mul is safe for
// concurrent use on disjoint C.
func (a *BF16Matrix) Mul(n int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	if n == 0 || a.M == 0 {
		return
	}
	checkMatrix("B", a.K, n, len(b), ldb)
	off := offPool.Get().(*[]int)
	defer offPool.Put(off)
	if cap(*off) < a.K {
		*off = make([]int, a.K)
	}
	rows := (*off)[:a.K]
	for r := range rows {
		rows[r] = r * ldb
	}
	a.MulRows(n, b, rows, accumulate, c, ldc)
}

var offPool = sync.Pool{New: func() any { return new([]int) }}

// MulRows is Mul for a B whose row r is base[rowOff[r]:rowOff[r]+n]: rows
// may overlap (an im2col matrix is rows of its input shifted by the
// kernel taps, so it need not be formed).
func (a *BF16Matrix) MulRows(n int, base []float32, rowOff []int, accumulate bool, c []float32, ldc int) {
	if n == 0 || a.M == 0 {
		return
	}
	if len(rowOff) != a.K {
		panic(fmt.Sprintf("sgemm: MulRows: %d row offsets for K = %d", len(rowOff), a.K))
	}
	for r, o := range rowOff {
		if o < 0 || o+n > len(base) {
			panic(fmt.Sprintf("sgemm: MulRows: row %d at %d of %d columns overruns %d values", r, o, n, len(base)))
		}
	}
	checkMatrix("C", a.M, n, len(c), ldc)
	rowTiles := (a.M + bfMR - 1) / bfMR
	colTiles := (n + bfNR - 1) / bfNR
	threads := threadCount()
	if 2*a.M*a.K*n < minParallelFlops {
		threads = 1
	}
	// Split columns when there are enough of them (each thread packs only
	// its own B), rows otherwise (each thread packs all of B).
	type part struct{ t0, t1, j0, j1 int }
	var parts [maxBFThreads]part
	np := 0
	switch {
	case threads > 1 && colTiles >= 2*threads:
		threads = min(threads, maxBFThreads)
		for i := range threads {
			parts[i] = part{0, rowTiles, colTiles * i / threads * bfNR, min(n, colTiles*(i+1)/threads*bfNR)}
		}
		np = threads
	case threads > 1 && rowTiles >= 2:
		threads = min(threads, rowTiles, maxBFThreads)
		for i := range threads {
			parts[i] = part{rowTiles * i / threads, rowTiles * (i + 1) / threads, 0, n}
		}
		np = threads
	default:
		parts[0], np = part{0, rowTiles, 0, n}, 1
	}
	var wg sync.WaitGroup
	for _, p := range parts[1:np] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.mulPart(p.t0, p.t1, p.j0, p.j1, base, rowOff, accumulate, c, ldc)
		}()
	}
	a.mulPart(parts[0].t0, parts[0].t1, parts[0].j0, parts[0].j1, base, rowOff, accumulate, c, ldc)
	wg.Wait()
}

// maxBFThreads bounds the goroutines of one product.
const maxBFThreads = 64

// bfScratch is the per-call packing buffer of B and an edge tile of C.
type bfScratch struct {
	b    []uint32
	tile [bfMR * bfNR]float32
}

var bfPool = sync.Pool{New: func() any { return &bfScratch{b: make([]uint32, bfKC*bfNC)} }}

// mulPart computes row tiles [t0, t1) and columns [j0, j1) of C with a
// pooled scratch (see mulPartWith).
func (a *BF16Matrix) mulPart(t0, t1, j0, j1 int, base []float32, rowOff []int, accumulate bool, c []float32, ldc int) {
	s := bfPool.Get().(*bfScratch)
	defer bfPool.Put(s)
	a.mulPartWith(s, t0, t1, j0, j1, base, rowOff, accumulate, c, ldc)
}

// packBF16Panel packs pairs [0, np) of rows from q0 on (len(rowOff) rows
// in all), columns [j0, j0+nr), nr ≤ 32, into dst (32 lanes per pair,
// zero beyond nr and beyond the last row).
func packBF16Panel(dst []uint32, base []float32, rowOff []int, q0, np, j0, nr int) {
	k := len(rowOff)
	full := min(np, (k-q0)/2) // pairs with both rows present
	odd := q0+2*np > k && (k-q0)%2 == 1
	if pack := bf16Path.pack; nr == bfNR && pack != nil {
		n := full
		o := 0
		if odd {
			n, o = full+1, 1
		}
		if n > 0 {
			pack(&dst[0], &base[j0], &rowOff[q0], n, o)
		}
		return
	}
	for p := range np {
		out := dst[p*bfNR : (p+1)*bfNR]
		r0, r1 := q0+2*p, q0+2*p+1
		for j := range out {
			var lo, hi float32
			if j < nr {
				if r0 < k {
					lo = base[rowOff[r0]+j0+j]
				}
				if r1 < k {
					hi = base[rowOff[r1]+j0+j]
				}
			}
			out[j] = uint32(ToBF16(lo)) | uint32(ToBF16(hi))<<16
		}
	}
}

// bfKernel computes one 12×32 tile from np pairs (see bdot12x32).
func bfKernel(np int, a, b []uint32, c []float32, ldc int, acc bool) {
	_, _ = a[np*bfMR-1], b[np*bfNR-1]
	_ = c[11*ldc+bfNR-1]
	if dot := bf16Path.dot; dot != nil {
		f := 0
		if acc {
			f = 1
		}
		dot(np, &a[0], &b[0], &c[0], ldc, f)
		return
	}
	bdotGo(np, a, b, c, ldc, acc)
}

// bdotGo is the pure-Go kernel: per lane, the odd product then the even
// one is added to the float32 sum, as VDPBF16PS does (products of bfloat16
// are exact in float32).
func bdotGo(np int, a, b []uint32, c []float32, ldc int, acc bool) {
	var t [bfMR][bfNR]float32
	for p := range np {
		ap := a[p*bfMR : (p+1)*bfMR]
		bp := b[p*bfNR : (p+1)*bfNR]
		for i, av := range ap {
			a0, a1 := FromBF16(uint16(av)), FromBF16(uint16(av>>16))
			row := &t[i]
			for j, bv := range bp {
				s := row[j] + a1*FromBF16(uint16(bv>>16))
				row[j] = s + a0*FromBF16(uint16(bv))
			}
		}
	}
	for i := range bfMR {
		row := c[i*ldc : i*ldc+bfNR]
		for j := range row {
			if acc {
				row[j] += t[i][j]
			} else {
				row[j] = t[i][j]
			}
		}
	}
}

// String describes the matrix.
func (a *BF16Matrix) String() string { return fmt.Sprintf("bf16 %d×%d", a.M, a.K) }
