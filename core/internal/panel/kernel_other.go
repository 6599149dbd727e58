//go:build !amd64 || purego

package panel

// useAsm is false: there are no assembly kernels here.
var useAsm = false

func dot4x4s(k int, g []float32, b0, b1, b2, b3 []float32, out *[16]float32) {
	dot4x4sGo(k, g, b0, b1, b2, b3, out)
}

func dot4x1s(k int, g []float32, b0 []float32, out *[16]float32) { dot4x1sGo(k, g, b0, out) }

func dot4x4h(k int, g []uint16, b0, b1, b2, b3 []float32, out *[16]float32) {
	dot4x4hGo(k, g, b0, b1, b2, b3, out)
}

func dot4x1h(k int, g []uint16, b0 []float32, out *[16]float32) { dot4x1hGo(k, g, b0, out) }

func dot4x4i(k int, g []int8, b0, b1, b2, b3 []int16, out *[16]float32) {
	dot4x4iGo(k, g, b0, b1, b2, b3, out)
}

func dot4x1i(k int, g []int8, b0 []int16, out *[16]float32) { dot4x1iGo(k, g, b0, out) }

func peakBits(x []float32) uint32 { return peakBitsGo(x) }

func quantize(q []int16, x []float32, inv float32) { quantizeGo(q, x, inv) }
