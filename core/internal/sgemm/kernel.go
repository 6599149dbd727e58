package sgemm

import (
	"fmt"

	"github.com/ravestation/rave/core/internal/isa"
	"sync/atomic"
	"unsafe"
)

// microKernel computes one mr×nr tile of C (mr ≤ MR, nr ≤ NR of its kernel)
// from a packed MR×k micro-panel of op(A) (a[p*MR+i]) and a packed k×NR
// micro-panel of op(B) (b[p*NR+j]):
//
//	C[i][j] = alpha·Σ_p a[p*MR+i]·b[p*NR+j]                    if beta == +0
//	C[i][j] = beta·C[i][j] + alpha·Σ_p a[p*MR+i]·b[p*NR+j]     otherwise
//
// C rows are ldc elements apart. k ≥ 1. The rounding of an element must not
// depend on where it sits in the tile or on mr, nr: this is what makes Sgemm
// bit-identical across thread counts.
type microKernel func(mr, nr, k int, a, b, c *float32, ldc int, alpha, beta float32)

// kernel describes a micro-kernel and the cache blocking tuned for it.
type kernel struct {
	name   string
	mr, nr int // micro-tile of C
	kc     int // depth of a packed block (A micro-panel mr×kc stays in L1)
	mc     int // rows of op(A) packed at once (mc×kc block, L2/L3)
	nc     int // columns of op(B) packed at once (kc×nc block, L2)
	micro  microKernel

	// fused, when set, is the micro-kernel with B packing fused in: b points
	// at the source (op(B) not transposed, rows ldb apart) and the kernel
	// packs the micro-panel into bdst while computing the first A panel, with
	// the same rounding as micro. A nil bdst means b is packed.
	fused func(mr, nr, k int, a, b *float32, ldb int, bdst, c *float32, ldc int, alpha, beta float32)

	// dot44 and dot41, when set, compute small-n products with A read in
	// place (see problem.dotRows): out[4r+c] = Σ_q a_r[q]·b_c[q] for r < 4
	// and c < 4 (dot44) or c < 1 (dot41), rounding identically.
	dot44 func(k int, a0, a1, a2, a3, b0, b1, b2, b3, out *float32)
	dot41 func(k int, a0, a1, a2, a3, b0, out *float32)
	// dotMinK[(n-1)/4] is the least depth k from which a product with n
	// columns runs faster through dot44 and dot41 than packed (0 or past
	// the end: never); see useDot.
	dotMinK []int
}

const (
	mrGeneric = 4
	nrGeneric = 4
)

// genericKernel is the pure-Go fallback, available everywhere.
var genericKernel = &kernel{
	name: "generic", mr: mrGeneric, nr: nrGeneric,
	kc: 256, mc: 512, nc: 512,
	micro: microGeneric,
}

// kernels lists the kernels usable on this CPU, from worst to best.
var kernels = append([]*kernel{genericKernel}, archKernels()...)

// knownKernels are all kernel names, whether or not this CPU supports them.
var knownKernels = []string{"avx512", "avx2", "neon", "generic"}

// active is the kernel Sgemm uses.
var active atomic.Pointer[kernel]

// init follows the instruction-set path of core/internal/isa: the kernel
// of the path's name (generic where the path has no sgemm kernel of its
// own), and the path's packing and element-wise helpers.
func init() {
	isa.Register(func(p isa.Path) {
		k := genericKernel
		for _, c := range kernels {
			if c.name == string(p) {
				k = c
			}
		}
		active.Store(k)
		setArchPath(p)
	})
}

// Kernel names the micro-kernel in use: "avx512", "avx2", "neon" or
// "generic".
func Kernel() string { return active.Load().name }

// UseKernel forces the micro-kernel named name ("avx512", "avx2", "neon" or
// "generic"), for tests and benchmarks. It returns a function restoring the
// previous kernel. If the CPU (or the build) lacks the kernel, UseKernel
// changes nothing, returns an error and a restore function that does nothing.
// UseKernel is safe to call concurrently with Sgemm; a call already running
// finishes with the kernel it started with.
func UseKernel(name string) (restore func(), err error) {
	for _, k := range kernels {
		if k.name == name {
			prev := active.Swap(k)
			return func() { active.Store(prev) }, nil
		}
	}
	for _, known := range knownKernels {
		if known == name {
			return func() {}, fmt.Errorf("sgemm: kernel %q is not supported on this CPU", name)
		}
	}
	return func() {}, fmt.Errorf("sgemm: unknown kernel %q", name)
}

// microGeneric is the pure-Go 4×4 micro-kernel.
func microGeneric(mr, nr, k int, a, b, c *float32, ldc int, alpha, beta float32) {
	as := unsafe.Slice(a, k*mrGeneric)
	bs := unsafe.Slice(b, k*nrGeneric)
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		ap := as[p*mrGeneric : p*mrGeneric+mrGeneric : p*mrGeneric+mrGeneric]
		bp := bs[p*nrGeneric : p*nrGeneric+nrGeneric : p*nrGeneric+nrGeneric]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	acc := [mrGeneric * nrGeneric]float32{
		c00, c01, c02, c03,
		c10, c11, c12, c13,
		c20, c21, c22, c23,
		c30, c31, c32, c33,
	}
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := 0; i < mr; i++ {
		row := cs[i*ldc : i*ldc+nr]
		for j := range row {
			v := alpha * acc[i*nrGeneric+j]
			if beta == 0 {
				row[j] = v
			} else {
				row[j] = beta*row[j] + v
			}
		}
	}
}
