//go:build amd64 && !purego

package panel

import "github.com/ravestation/rave/core/internal/isa"

// kernelSet names a set of kernels: the pure-Go ones, the AVX2 ones
// (kernel_avx2_amd64.s) or the AVX-512 ones (kernel_amd64.s).
type kernelSet uint8

const (
	goKernels     kernelSet = iota // the pure-Go kernels: the generic path
	avx2Kernels                    // kernel_avx2_amd64.s: the avx2 path
	avx512Kernels                  // kernel_amd64.s: the avx512 path
)

// kernels is the set of the float32 and half dot products and of the
// column rounding (absBits, quant16); intKernels that of the int8 dot
// products, whose AVX-512 versions need AVX512-VNNI (the avx512 path
// without it uses the AVX2 ones). Both follow the isa path.
var kernels, intKernels kernelSet

func init() {
	isa.Register(func(p isa.Path) {
		switch p {
		case isa.AVX512:
			kernels, intKernels = avx512Kernels, avx2Kernels
			if isa.HasVNNI() {
				intKernels = avx512Kernels
			}
		case isa.AVX2:
			kernels, intKernels = avx2Kernels, avx2Kernels
		default:
			kernels, intKernels = goKernels, goKernels
		}
		mulInt8Block, widenInt8 = nil, false
		if intKernels == avx2Kernels {
			mulInt8Block, widenInt8 = mulInt8BlockAVX2, true
		}
		transpose8 = nil
		if kernels != goKernels {
			transpose8 = transpose8Strip
		}
	})
}

// The assembly kernels set out[4r+c] = Σ_q a_r[q]·b_c[q] (…4x4) or
// out[r] = Σ_q a_r[q]·b0[q] (…4x1) for r, c < 4 and q < k, k a multiple
// of 16, a the packed group of 4 rows in float32 (s…) or half precision
// (h…); the i… kernels take int8 codes a and int16 codes b (each 16 stored
// twice) and return the exact integer sums as float32. The AVX-512
// versions are in kernel_amd64.s, the …avx2 ones (AVX2, FMA, F16C) in
// kernel_avx2_amd64.s.

// sdot4x4 is the float32 4×4 kernel (AVX-512).
//
//go:noescape
func sdot4x4(k int, a *float32, b0, b1, b2, b3 *float32, out *float32)

// sdot4x1 is the float32 4×1 kernel (AVX-512).
//
//go:noescape
func sdot4x1(k int, a *float32, b0 *float32, out *float32)

// hdot4x4 is the 4×4 kernel for half-precision weights (AVX-512).
//
//go:noescape
func hdot4x4(k int, a *uint16, b0, b1, b2, b3 *float32, out *float32)

// hdot4x1 is the 4×1 kernel for half-precision weights (AVX-512).
//
//go:noescape
func hdot4x1(k int, a *uint16, b0 *float32, out *float32)

// idot4x4 is the int8 × int16 4×4 kernel (exact sums; AVX512-VNNI).
//
//go:noescape
func idot4x4(k int, a *int8, b0, b1, b2, b3 *int16, out *float32)

// idot4x1 is the int8 × int16 4×1 kernel (exact sums; AVX512-VNNI).
//
//go:noescape
func idot4x1(k int, a *int8, b0 *int16, out *float32)

// sdot4x4avx2 is the float32 4×4 kernel (AVX2, FMA).
//
//go:noescape
func sdot4x4avx2(k int, a *float32, b0, b1, b2, b3 *float32, out *float32)

// sdot4x1avx2 is the float32 4×1 kernel (AVX2, FMA).
//
//go:noescape
func sdot4x1avx2(k int, a *float32, b0 *float32, out *float32)

// hdot4x4avx2 is the 4×4 kernel for half-precision weights (AVX2, FMA,
// F16C).
//
//go:noescape
func hdot4x4avx2(k int, a *uint16, b0, b1, b2, b3 *float32, out *float32)

// hdot4x1avx2 is the 4×1 kernel for half-precision weights (AVX2, FMA,
// F16C).
//
//go:noescape
func hdot4x1avx2(k int, a *uint16, b0 *float32, out *float32)

// idot4x4avx2 is the int8 × int16 4×4 kernel (exact sums; AVX2).
//
//go:noescape
func idot4x4avx2(k int, a *int8, b0, b1, b2, b3 *int16, out *float32)

// idot4x4nAVX2 runs idot4x4avx2 on n4 blocks of 4 columns (bs words
// apart) of a packed group and stores the results scaled, as
// Matrix.store does (AVX2).
//
//go:noescape
func idot4x4nAVX2(k int, a *int8, aw *int16, b *int16, bs int, n4 int, c *float32, ldc int, rs *float32, qs *float32, beta float32)

// mulInt8BlockAVX2 is mulInt8Block with idot4x4nAVX2, reading the
// widened weights where Reserve made them.
func mulInt8BlockAVX2(a *Matrix, i, j, n4 int, c []float32, ldc int, beta float32) {
	s := a.Stride
	g := a.d8[i*s : (i+4)*s]
	var aw *int16
	if a.w16 != nil {
		aw = &a.w16[i*s : (i+4)*s][0]
	}
	q := a.qb[2*j*s : 2*(j+4*n4)*s]
	rs := a.scale[i : i+4]
	qs := a.qs[j : j+4*n4]
	_ = c[(i+3)*ldc+j+4*n4-1]
	idot4x4nAVX2(s, &g[0], aw, &q[0], 2*s, n4, &c[i*ldc+j], ldc, &rs[0], &qs[0], beta)
}

// idot4x1avx2 is the int8 × int16 4×1 kernel (exact sums; AVX2).
//
//go:noescape
func idot4x1avx2(k int, a *int8, b0 *int16, out *float32)

// dot4x4s is the float32 4×4 product of the packed group g with b0…b3,
// by the kernels in use.
func dot4x4s(k int, g []float32, b0, b1, b2, b3 []float32, out *[16]float32) {
	if kernels == goKernels {
		dot4x4sGo(k, g, b0, b1, b2, b3, out)
		return
	}
	_, _, _, _, _ = g[4*k-1], b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	if kernels == avx512Kernels {
		sdot4x4(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
	} else {
		sdot4x4avx2(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
	}
}

// dot4x1s is the float32 4×1 product of the packed group g with b0.
func dot4x1s(k int, g []float32, b0 []float32, out *[16]float32) {
	if kernels == goKernels {
		dot4x1sGo(k, g, b0, out)
		return
	}
	_, _ = g[4*k-1], b0[k-1]
	if kernels == avx512Kernels {
		sdot4x1(k, &g[0], &b0[0], &out[0])
	} else {
		sdot4x1avx2(k, &g[0], &b0[0], &out[0])
	}
}

// dot4x4h is dot4x4s for half-precision weights.
func dot4x4h(k int, g []uint16, b0, b1, b2, b3 []float32, out *[16]float32) {
	if kernels == goKernels {
		dot4x4hGo(k, g, b0, b1, b2, b3, out)
		return
	}
	_, _, _, _, _ = g[4*k-1], b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	if kernels == avx512Kernels {
		hdot4x4(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
	} else {
		hdot4x4avx2(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
	}
}

// dot4x1h is dot4x1s for half-precision weights.
func dot4x1h(k int, g []uint16, b0 []float32, out *[16]float32) {
	if kernels == goKernels {
		dot4x1hGo(k, g, b0, out)
		return
	}
	_, _ = g[4*k-1], b0[k-1]
	if kernels == avx512Kernels {
		hdot4x1(k, &g[0], &b0[0], &out[0])
	} else {
		hdot4x1avx2(k, &g[0], &b0[0], &out[0])
	}
}

// dot4x4i is the exact int8 × int16 4×4 product (codes b each 16 twice).
func dot4x4i(k int, g []int8, b0, b1, b2, b3 []int16, out *[16]float32) {
	if intKernels == goKernels {
		dot4x4iGo(k, g, b0, b1, b2, b3, out)
		return
	}
	_, _, _, _, _ = g[4*k-1], b0[2*k-1], b1[2*k-1], b2[2*k-1], b3[2*k-1]
	if intKernels == avx512Kernels {
		idot4x4(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
	} else {
		idot4x4avx2(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
	}
}

// dot4x1i is the exact int8 × int16 4×1 product.
func dot4x1i(k int, g []int8, b0 []int16, out *[16]float32) {
	if intKernels == goKernels {
		dot4x1iGo(k, g, b0, out)
		return
	}
	_, _ = g[4*k-1], b0[2*k-1]
	if intKernels == avx512Kernels {
		idot4x1(k, &g[0], &b0[0], &out[0])
	} else {
		idot4x1avx2(k, &g[0], &b0[0], &out[0])
	}
}

// absBits returns the largest of the magnitudes' bit patterns of x[:n],
// n a multiple of 16 (AVX-512).
//
//go:noescape
func absBits(n int, x *float32) uint32

// absBitsAVX2 is absBits with AVX2.
//
//go:noescape
func absBitsAVX2(n int, x *float32) uint32

// quant16 sets the codes round(x[i]·inv) (the product rounded to float32,
// then to the nearest integer, ties to even) for i < n, n a multiple of 16
// (|x[i]·inv| ≤ 32767; a non-finite product gives −32768), each 16 stored
// twice in q (AVX-512).
//
//go:noescape
func quant16(n int, x *float32, inv float32, q *int16)

// quant16AVX2 is quant16 with AVX2.
//
//go:noescape
func quant16AVX2(n int, x *float32, inv float32, q *int16)

// peakBits returns the bits of max_i |x[i]| (≥ 0x7f800000 for a NaN or
// ±Inf), len(x) a multiple of 16.
func peakBits(x []float32) uint32 {
	switch {
	case kernels == goKernels || len(x) == 0:
		return peakBitsGo(x)
	case kernels == avx512Kernels:
		return absBits(len(x), &x[0])
	}
	return absBitsAVX2(len(x), &x[0])
}

// quantize sets the codes round(x[i]·inv), ties to even, each 16 stored
// twice in q (len(q) ≥ 2·len(x), len(x) a multiple of 16).
func quantize(q []int16, x []float32, inv float32) {
	if kernels == goKernels || len(x) == 0 {
		quantizeGo(q, x, inv)
		return
	}
	_ = q[2*len(x)-1]
	if kernels == avx512Kernels {
		quant16(len(x), &x[0], inv, &q[0])
	} else {
		quant16AVX2(len(x), &x[0], inv, &q[0])
	}
}

// transpose8AVX2 sets dst[t·ldd + r] = src[r·lds + t] for r < 8, t <
// 8·nb (AVX).
//
//go:noescape
func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, nb int)

// transpose8Strip is transpose8 with transpose8AVX2.
func transpose8Strip(dst []float32, ldd int, src []float32, lds, nb int) {
	if nb == 0 {
		return
	}
	_, _ = dst[(8*nb-1)*ldd+7], src[7*lds+8*nb-1]
	transpose8AVX2(&dst[0], ldd, &src[0], lds, nb)
}
