//go:build amd64 && !purego

package panel

import "golang.org/x/sys/cpu"

// useAsm selects the AVX-512 kernels (a variable for tests).
var useAsm = cpu.X86.HasAVX512F

// The assembly kernels (kernel_amd64.s) set out[4r+c] = Σ_q a_r[q]·b_c[q]
// (…4x4) or out[r] = Σ_q a_r[q]·b0[q] (…4x1) for r, c < 4 and q < k, k a
// multiple of 16, a the packed group of 4 rows in float32 (s…) or half
// precision (h…).

//go:noescape
func sdot4x4(k int, a *float32, b0, b1, b2, b3 *float32, out *float32)

//go:noescape
func sdot4x1(k int, a *float32, b0 *float32, out *float32)

//go:noescape
func hdot4x4(k int, a *uint16, b0, b1, b2, b3 *float32, out *float32)

//go:noescape
func hdot4x1(k int, a *uint16, b0 *float32, out *float32)

func dot4x4s(k int, g []float32, b0, b1, b2, b3 []float32, out *[16]float32) {
	if !useAsm {
		dot4x4sGo(k, g, b0, b1, b2, b3, out)
		return
	}
	_, _, _, _, _ = g[4*k-1], b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	sdot4x4(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
}

func dot4x1s(k int, g []float32, b0 []float32, out *[16]float32) {
	if !useAsm {
		dot4x1sGo(k, g, b0, out)
		return
	}
	_, _ = g[4*k-1], b0[k-1]
	sdot4x1(k, &g[0], &b0[0], &out[0])
}

func dot4x4h(k int, g []uint16, b0, b1, b2, b3 []float32, out *[16]float32) {
	if !useAsm {
		dot4x4hGo(k, g, b0, b1, b2, b3, out)
		return
	}
	_, _, _, _, _ = g[4*k-1], b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	hdot4x4(k, &g[0], &b0[0], &b1[0], &b2[0], &b3[0], &out[0])
}

func dot4x1h(k int, g []uint16, b0 []float32, out *[16]float32) {
	if !useAsm {
		dot4x1hGo(k, g, b0, out)
		return
	}
	_, _ = g[4*k-1], b0[k-1]
	hdot4x1(k, &g[0], &b0[0], &out[0])
}
