//go:build !(amd64 || arm64) || purego

package panel

// Only the pure-Go kernels exist in this build: each function below is
// its …Go kernel.

// dot4x4s is the float32 4×4 product of the packed group g with b0…b3.
func dot4x4s(k int, g []float32, b0, b1, b2, b3 []float32, out *[16]float32) {
	dot4x4sGo(k, g, b0, b1, b2, b3, out)
}

// dot4x1s is the float32 4×1 product of the packed group g with b0.
func dot4x1s(k int, g []float32, b0 []float32, out *[16]float32) { dot4x1sGo(k, g, b0, out) }

// dot4x4h is dot4x4s for half-precision weights.
func dot4x4h(k int, g []uint16, b0, b1, b2, b3 []float32, out *[16]float32) {
	dot4x4hGo(k, g, b0, b1, b2, b3, out)
}

// dot4x1h is dot4x1s for half-precision weights.
func dot4x1h(k int, g []uint16, b0 []float32, out *[16]float32) { dot4x1hGo(k, g, b0, out) }

// dot4x4i is the exact int8 × int16 4×4 product (codes b each 16 twice).
func dot4x4i(k int, g []int8, b0, b1, b2, b3 []int16, out *[16]float32) {
	dot4x4iGo(k, g, b0, b1, b2, b3, out)
}

// dot4x1i is the exact int8 × int16 4×1 product.
func dot4x1i(k int, g []int8, b0 []int16, out *[16]float32) { dot4x1iGo(k, g, b0, out) }

// peakBits returns the bits of max_i |x[i]| (≥ 0x7f800000 for a NaN or
// ±Inf).
func peakBits(x []float32) uint32 { return peakBitsGo(x) }

// quantize sets the codes round(x[i]·inv), ties to even, each 16 stored
// twice in q.
func quantize(q []int16, x []float32, inv float32) { quantizeGo(q, x, inv) }
