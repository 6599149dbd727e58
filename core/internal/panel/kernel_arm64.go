//go:build arm64 && !purego

package panel

import "github.com/ravestation/rave/core/internal/isa"

// useNEON selects the Advanced SIMD kernels (kernel_arm64.s): it follows
// the isa path (neon, or generic for the pure-Go kernels).
var useNEON bool

func init() {
	isa.Register(func(p isa.Path) { useNEON = p == isa.NEON })
}

// The assembly kernels (kernel_arm64.s) set out[4r+c] = Σ_q a_r[q]·b_c[q]
// (…4x4) or out[r] = Σ_q a_r[q]·b0[q] (…4x1) for r, c < 4 and q < k, k a
// multiple of 16, a the packed group of 4 rows in float32 (s…) or half
// precision (h…); the i… kernels take int8 codes a and int16 codes b
// (each 16 stored twice) and return the exact integer sums as float32.

// sdot4x4 is the float32 4×4 kernel.
//
//go:noescape
func sdot4x4(k int, a *float32, b0, b1, b2, b3 *float32, out *float32)

// sdot4x1 is the float32 4×1 kernel.
//
//go:noescape
func sdot4x1(k int, a *float32, b0 *float32, out *float32)

// hdot4x4 is the 4×4 kernel for half-precision weights.
//
//go:noescape
func hdot4x4(k int, a *uint16, b0, b1, b2, b3 *float32, out *float32)

// hdot4x1 is the 4×1 kernel for half-precision weights.
//
//go:noescape
func hdot4x1(k int, a *uint16, b0 *float32, out *float32)

// idot4x4 is the int8 × int16 4×4 kernel (exact sums).
//
//go:noescape
func idot4x4(k int, a *int8, b0, b1, b2, b3 *int16, out *float32)

// idot4x1 is the int8 × int16 4×1 kernel (exact sums).
//
//go:noescape
func idot4x1(k int, a *int8, b0 *int16, out *float32)

// absBits returns the largest of the magnitudes' bit patterns of x[:n],
// n a multiple of 16.
//
//go:noescape
func absBits(n int, x *float32) uint32

// quant16 sets the codes round(x[i]·inv) (the product rounded to float32,
// then to the nearest integer, ties to even) for i < n, n a multiple of
// 16 (|x[i]·inv| ≤ 32767), each 16 stored twice in q.
//
//go:noescape
func quant16(n int, x *float32, inv float32, q *int16)

// dot4x4s is the float32 4×4 product of the packed group g with b0…b3.
func dot4x4s(k int, g []float32, b0, b1, b2, b3 []float32, out *[16]float32) {
	if !useNEON {
		dot4x4sGo(k, g, b0, b1, b2, b3, out)
		return
	}
	_, _, _, _, _ = g[4*k-1], b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	sdot4x4(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
}

// dot4x1s is the float32 4×1 product of the packed group g with b0.
func dot4x1s(k int, g []float32, b0 []float32, out *[16]float32) {
	if !useNEON {
		dot4x1sGo(k, g, b0, out)
		return
	}
	_, _ = g[4*k-1], b0[k-1]
	sdot4x1(k, &g[0], &b0[0], &out[0])
}

// dot4x4h is dot4x4s for half-precision weights.
func dot4x4h(k int, g []uint16, b0, b1, b2, b3 []float32, out *[16]float32) {
	if !useNEON {
		dot4x4hGo(k, g, b0, b1, b2, b3, out)
		return
	}
	_, _, _, _, _ = g[4*k-1], b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	hdot4x4(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
}

// dot4x1h is dot4x1s for half-precision weights.
func dot4x1h(k int, g []uint16, b0 []float32, out *[16]float32) {
	if !useNEON {
		dot4x1hGo(k, g, b0, out)
		return
	}
	_, _ = g[4*k-1], b0[k-1]
	hdot4x1(k, &g[0], &b0[0], &out[0])
}

// dot4x4i is the exact int8 × int16 4×4 product (codes b each 16 twice).
func dot4x4i(k int, g []int8, b0, b1, b2, b3 []int16, out *[16]float32) {
	if !useNEON {
		dot4x4iGo(k, g, b0, b1, b2, b3, out)
		return
	}
	_, _, _, _, _ = g[4*k-1], b0[2*k-1], b1[2*k-1], b2[2*k-1], b3[2*k-1]
	idot4x4(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
}

// dot4x1i is the exact int8 × int16 4×1 product.
func dot4x1i(k int, g []int8, b0 []int16, out *[16]float32) {
	if !useNEON {
		dot4x1iGo(k, g, b0, out)
		return
	}
	_, _ = g[4*k-1], b0[2*k-1]
	idot4x1(k, &g[0], &b0[0], &out[0])
}

// peakBits returns the bits of max_i |x[i]| (≥ 0x7f800000 for a NaN or
// ±Inf), len(x) a multiple of 16.
func peakBits(x []float32) uint32 {
	if !useNEON || len(x) == 0 {
		return peakBitsGo(x)
	}
	return absBits(len(x), &x[0])
}

// quantize sets the codes round(x[i]·inv), ties to even, each 16 stored
// twice in q (len(q) ≥ 2·len(x), len(x) a multiple of 16).
func quantize(q []int16, x []float32, inv float32) {
	if !useNEON || len(x) == 0 {
		quantizeGo(q, x, inv)
		return
	}
	_ = q[2*len(x)-1]
	quant16(len(x), &x[0], inv, &q[0])
}
