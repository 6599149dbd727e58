//go:build amd64 && !purego

package sgemm

import (
	"unsafe"

	"github.com/ravestation/rave/core/internal/isa"

	"golang.org/x/sys/cpu"
)

// kernAVX512 is the 12×32 AVX-512 micro-kernel (kernel_amd64.s). It handles
// edge tiles itself: only mr ≤ 12 rows and nr ≤ 32 columns of C are touched.
// With bdst == nil, b is a packed micro-panel; otherwise b points into the
// source matrix (rows ldb apart) and the kernel also packs the micro-panel
// into bdst, rounding exactly as with a packed b.
//
//go:noescape
func kernAVX512(mr, nr, k int, a, b *float32, ldb int, bdst, c *float32, ldc int, alpha, beta float32)

// microAVX512 adapts kernAVX512 to the microKernel contract.
func microAVX512(mr, nr, k int, a, b, c *float32, ldc int, alpha, beta float32) {
	kernAVX512(mr, nr, k, a, b, 0, nil, c, ldc, alpha, beta)
}

// kernAVX2 is the 6×16 AVX2+FMA micro-kernel (kernel_amd64.s). It always
// updates a full 6×16 tile of C.
//
//go:noescape
func kernAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)

// kernAVX2F is kernAVX2 with the packing of B fused in (kernel_amd64.s):
// b points at a full 16-column micro-panel in the source matrix (rows ldb
// apart), which the kernel copies into bdst (16 floats per k) while
// computing the full 6×16 tile of C, rounding exactly as kernAVX2 with
// the packed panel.
//
//go:noescape
func kernAVX2F(k int, a, b *float32, ldb int, bdst, c *float32, ldc int, alpha, beta float32)

// dot4x4AVX512 sets out[4r+c] = Σ_q a_r[q]·b_c[q] for r, c < 4 and q < k
// (kernel_amd64.s): the small-n kernel, which reads rows of A and of Bᵀ in
// place.
//
//go:noescape
func dot4x4AVX512(k int, a0, a1, a2, a3, b0, b1, b2, b3, out *float32)

// dot4x1AVX512 sets out[r] = Σ_q a_r[q]·b0[q] for r < 4, rounding exactly
// like dot4x4AVX512 (kernel_amd64.s).
//
//go:noescape
func dot4x1AVX512(k int, a0, a1, a2, a3, b0, out *float32)

// dot4x4AVX2 is dot4x4AVX512 for AVX2+FMA (kernel_amd64.s): out[4r+c] =
// Σ_q a_r[q]·b_c[q] for r, c < 4 and q < k, lane l of 8 summing the q ≡ l
// (mod 8) in q order, then the lanes summed in a fixed tree. Rows of A and
// of Bᵀ are read in place.
//
//go:noescape
func dot4x4AVX2(k int, a0, a1, a2, a3, b0, b1, b2, b3, out *float32)

// dot4x1AVX2 sets out[r] = Σ_q a_r[q]·b0[q] for r < 4, rounding exactly
// like dot4x4AVX2 (kernel_amd64.s).
//
//go:noescape
func dot4x1AVX2(k int, a0, a1, a2, a3, b0, out *float32)

// packT4x8 sets dst[q*w+l] = src[l*ld+q] for l < 4 and q < kc&^7
// (kernel_amd64.s). It needs AVX, which every assembly kernel implies.
//
//go:noescape
func packT4x8(dst, src *float32, ld, kc, w int)

// packRows sets dst[p*kc*w+q*w+l] = src[q*ld+p*w+l] for q < kc, p < np and
// l < w, where w is 32, 16, 12 or 6 (kernel_amd64.s). It needs AVX.
//
//go:noescape
func packRows(dst, src *float32, ld, kc, np, w int)

// hasAsmPack reports whether packT4x8 and packRows (and the AVX
// element-wise helpers) may be called: on every path but generic.
var hasAsmPack = cpu.X86.HasAVX

// setArchPath sets the assembly helpers of path p.
func setArchPath(p isa.Path) {
	hasAsmPack = p != isa.Generic && cpu.X86.HasAVX
	bf16Path = bf16For(p)
}

const (
	mrAVX2 = 6
	nrAVX2 = 16
)

// microAVX2 adapts kernAVX2 to the microKernel contract. Edge tiles are
// computed into a scratch tile with the same instruction sequence and copied
// out, so they round exactly like full tiles.
func microAVX2(mr, nr, k int, a, b, c *float32, ldc int, alpha, beta float32) {
	if mr == mrAVX2 && nr == nrAVX2 {
		kernAVX2(k, a, b, c, ldc, alpha, beta)
		return
	}
	var t [mrAVX2 * nrAVX2]float32
	cs := edgeIn(t[:], nrAVX2, mr, nr, c, ldc, beta)
	kernAVX2(k, a, b, &t[0], nrAVX2, alpha, beta)
	edgeOut(cs, t[:], nrAVX2, mr, nr, ldc)
}

// fusedAVX2 adapts kernAVX2F to the kernel.fused contract. Edge tiles of
// C go through a scratch tile as in microAVX2; a panel of fewer than 16
// columns is packed here (zero-padded) and computed by microAVX2.
func fusedAVX2(mr, nr, k int, a, b *float32, ldb int, bdst, c *float32, ldc int, alpha, beta float32) {
	if nr < nrAVX2 {
		src := unsafe.Slice(b, (k-1)*ldb+nr)
		dst := unsafe.Slice(bdst, k*nrAVX2)
		for q := 0; q < k; q++ {
			d := dst[q*nrAVX2 : q*nrAVX2+nrAVX2]
			copy(d, src[q*ldb:q*ldb+nr])
			clear(d[nr:])
		}
		microAVX2(mr, nr, k, a, bdst, c, ldc, alpha, beta)
		return
	}
	if mr == mrAVX2 {
		kernAVX2F(k, a, b, ldb, bdst, c, ldc, alpha, beta)
		return
	}
	var t [mrAVX2 * nrAVX2]float32
	cs := edgeIn(t[:], nrAVX2, mr, nr, c, ldc, beta)
	kernAVX2F(k, a, b, ldb, bdst, &t[0], nrAVX2, alpha, beta)
	edgeOut(cs, t[:], nrAVX2, mr, nr, ldc)
}

// ncFor returns the columns of a packed B block (kc×nc float32s) that fill
// about half of the L2 cache, leaving the rest for the A micro-panel, the C
// tile and whatever the other half of the loop nest streams through.
func ncFor(l2, kc, nr int) int {
	nc := l2 / 2 / (kc * 4) / nr * nr
	return min(max(nc, 4*nr), 4096)
}

// archKernels returns the assembly kernels this CPU supports, best last.
func archKernels() []*kernel {
	l2 := isa.L2Bytes()
	var ks []*kernel
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, &kernel{
			name: "avx2", mr: mrAVX2, nr: nrAVX2,
			kc: 256, mc: 1536, nc: ncFor(l2, 256, nrAVX2),
			micro: microAVX2, fused: fusedAVX2,
			dot44: dot4x4AVX2, dot41: dot4x1AVX2,
			// Measured on Zen 5 (avx2 path, one thread, m = 512): the
			// packed path's 16-column tiles are hard to beat at n = 13…16.
			dotMinK: []int{16, 32, 64, 512, 128, 256},
		})
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW {
		ks = append(ks, &kernel{
			name: "avx512", mr: 12, nr: 32,
			kc: 256, mc: 1536, nc: ncFor(l2, 256, 32),
			micro: microAVX512, fused: kernAVX512,
			dot44: dot4x4AVX512, dot41: dot4x1AVX512,
			// Measured on Zen 4.
			dotMinK: []int{16, 16, 128, 128, 512, 512},
		})
	}
	return ks
}
