//go:build amd64 && !purego

package sgemm

import "github.com/ravestation/rave/core/internal/isa"

// bf16AVX512 is the BF16Matrix path of CPUs with AVX512_BF16 (VDPBF16PS,
// VCVTNE2PS2BF16) on the avx512 isa path.
var bf16AVX512 = &bf16Kernels{name: "avx512bf16", hw: true, dot: bdot12x32, pack: packBF16}

// bf16AVX2 is the BF16Matrix path of the avx2 isa path, and of the avx512
// one on CPUs without AVX512_BF16.
var bf16AVX2 = &bf16Kernels{name: "avx2", dot: bdot12x32AVX2, pack: packBF16AVX2}

// bf16For returns the BF16Matrix path of isa path p.
func bf16For(p isa.Path) *bf16Kernels {
	switch {
	case p == isa.AVX512 && isa.HasBF16():
		return bf16AVX512
	case p == isa.AVX512 || p == isa.AVX2:
		return bf16AVX2
	}
	return bf16Go
}

// bdot12x32 computes a 12×32 tile of C from kp ≥ 1 packed pairs with
// AVX512_BF16 (bf16_amd64.s): C[i][j] (+)= Σ_p Σ_{h<2} A[i][2p+h]·B[2p+h][j],
// a holding 12 pairs per p and b 32, one VDPBF16PS per pair (the odd
// product, then the even one, added to the float32 sum; denormals flushed
// to zero). acc != 0 adds the sums to C, otherwise they are stored.
//
//go:noescape
func bdot12x32(kp int, a, b *uint32, c *float32, ldc int, acc int)

// packBF16 packs kp pairs of 32-column rows for bdot12x32 with
// VCVTNE2PS2BF16 (bf16_amd64.s): dst[32p+j] = bf16(r0[j]) | bf16(r1[j])<<16
// for the rows at base+offs[2p] and base+offs[2p+1], rounding to nearest
// even as ToBF16 but flushing denormal inputs to zero; odd != 0 means the
// last pair has no second row (zero high halves).
//
//go:noescape
func packBF16(dst *uint32, base *float32, offs *int, kp, odd int)

// bdot12x32AVX2 is bdot12x32 with AVX2+FMA (bf16_amd64.s) for kp ≤
// bfAVX2Pairs: the same sums in the same order, bit-identical on normal
// numbers (it keeps denormals, which VDPBF16PS flushes to zero).
//
//go:noescape
func bdot12x32AVX2(kp int, a, b *uint32, c *float32, ldc int, acc int)

// packBF16AVX2 is packBF16 with AVX2 (bf16_amd64.s), rounding exactly as
// ToBF16 (denormal inputs kept).
//
//go:noescape
func packBF16AVX2(dst *uint32, base *float32, offs *int, kp, odd int)

// bfAVX2Pairs is the most pairs bdot12x32AVX2 takes in one call: its
// frame holds the widened A panel, 96 bytes per pair (bf16_amd64.s).
const bfAVX2Pairs = 256

// BF16Matrix products call the kernels with at most bfKC pairs; this
// fails to compile if that outgrows bdot12x32AVX2's frame.
var _ [bfAVX2Pairs - bfKC]struct{}
