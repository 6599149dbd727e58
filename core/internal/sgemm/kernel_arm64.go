//go:build arm64 && !purego

package sgemm

import "github.com/ravestation/rave/core/internal/isa"

const (
	// mrNEON and nrNEON are the neon micro-tile: 8 rows by 12 columns,
	// 24 of the 32 vector registers as accumulators.
	mrNEON = 8
	nrNEON = 12

	// kcNEON is the depth of a packed block: an 8×kc A micro-panel (12 KiB)
	// and a kc×12 B micro-panel (18 KiB) share half of a 64 KiB L1 data
	// cache (Neoverse N1/V1/V2; Apple M-series cores have 128 KiB).
	kcNEON = 384
	// ncNEON is the columns of a packed B block: kc×nc floats, 504 KiB, half
	// of a Neoverse core's 1 MiB L2 and a small part of an M-series
	// cluster's 12–16 MiB.
	ncNEON = 336
	// mcNEON is the rows of op(A) packed at once (2.25 MiB, streamed once
	// per B block).
	mcNEON = 1536
)

// kernNEON is the 8×12 NEON micro-kernel (kernel_arm64.s). It always
// updates a full 8×12 tile of C: a packed A micro-panel a (8 floats per k)
// times a packed B micro-panel b (12 floats per k), k ≥ 1, under the
// microKernel contract.
//
//go:noescape
func kernNEON(k int, a, b, c *float32, ldc int, alpha, beta float32)

// dot4x4NEON sets out[4r+c] = Σ_q a_r[q]·b_c[q] for r, c < 4 and q < k
// (kernel_arm64.s): the small-n kernel, which reads rows of A and of Bᵀ in
// place.
//
//go:noescape
func dot4x4NEON(k int, a0, a1, a2, a3, b0, b1, b2, b3, out *float32)

// dot4x1NEON sets out[r] = Σ_q a_r[q]·b0[q] for r < 4, rounding exactly
// like column 0 of dot4x4NEON (kernel_arm64.s).
//
//go:noescape
func dot4x1NEON(k int, a0, a1, a2, a3, b0, out *float32)

// packT4x8 sets dst[q*w+l] = src[l*ld+q] for l < 4 and q < kc&^7
// (kernel_arm64.s).
//
//go:noescape
func packT4x8(dst, src *float32, ld, kc, w int)

// packRows sets dst[p*kc*w+q*w+l] = src[q*ld+p*w+l] for q < kc, p < np and
// l < w, where w is 32, 16, 12 or 6 (kernel_arm64.s).
//
//go:noescape
func packRows(dst, src *float32, ld, kc, np, w int)

// hasAsmPack reports whether the packing routines packT4x8 and packRows
// are used: on the neon path.
var hasAsmPack = false

// setArchPath sets the assembly helpers of path p.
func setArchPath(p isa.Path) { hasAsmPack = p == isa.NEON }

// microNEON adapts kernNEON to the microKernel contract. Edge tiles are
// computed into a scratch tile with the same instruction sequence and
// copied out, so they round exactly like full tiles.
func microNEON(mr, nr, k int, a, b, c *float32, ldc int, alpha, beta float32) {
	if mr == mrNEON && nr == nrNEON {
		kernNEON(k, a, b, c, ldc, alpha, beta)
		return
	}
	var t [mrNEON * nrNEON]float32
	cs := edgeIn(t[:], nrNEON, mr, nr, c, ldc, beta)
	kernNEON(k, a, b, &t[0], nrNEON, alpha, beta)
	edgeOut(cs, t[:], nrNEON, mr, nr, ldc)
}

// neonKernel is the arm64 Advanced SIMD kernel.
var neonKernel = &kernel{
	name: "neon", mr: mrNEON, nr: nrNEON,
	kc: kcNEON, mc: mcNEON, nc: ncNEON,
	micro: microNEON,
	dot44: dot4x4NEON, dot41: dot4x1NEON,
	// The thresholds of the AVX-512 kernels (measured on Zen 4), which
	// Sgemm used for every kernel before; not yet measured on arm64.
	dotMinK: []int{16, 16, 128, 128, 512, 512},
}

// archKernels returns the neon kernel: Advanced SIMD is part of every arm64
// CPU.
func archKernels() []*kernel { return []*kernel{neonKernel} }
