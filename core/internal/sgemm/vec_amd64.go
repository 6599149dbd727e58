//go:build amd64 && !purego

package sgemm

// addToAVX sets d[i] += s[i] for i < n (vec_amd64.s). It needs AVX.
//
//go:noescape
func addToAVX(d, s *float32, n int)

// AddTo sets d[i] += s[i] for every i < len(s); d must be at least as long
// as s. It is the element-wise accumulation of core's backward passes,
// vectorised: each element is the same single addition as d[i] += s[i].
func AddTo(d, s []float32) {
	if len(s) == 0 {
		return
	}
	d = d[:len(s)]
	if hasAsmPack {
		addToAVX(&d[0], &s[0], len(s))
		return
	}
	for i, v := range s {
		d[i] += v
	}
}

// leakyAVX and leakyGradAVX are the eight-lane bodies of LeakyReLU and
// LeakyReLUGrad (vec_amd64.s); they handle n&^7 elements.
//
//go:noescape
func leakyAVX(y, x *float32, n int, p float32)

//go:noescape
func leakyGradAVX(gx, gy, x *float32, n int, p float32, acc bool)

// LeakyReLU sets y[i] = x[i]·p where x[i] < 0 and x[i] elsewhere, for
// i < len(x), with the same rounding as the scalar expression.
func LeakyReLU(y, x []float32, p float32) {
	y = y[:len(x)]
	n := 0
	if hasAsmPack && len(x) >= 8 {
		n = len(x) &^ 7
		leakyAVX(&y[0], &x[0], n, p)
	}
	leakyTail(y[n:], x[n:], p)
}

// LeakyReLUGrad sets gx[i] = g (or adds g to it if acc) with g = gy[i]·p
// where x[i] < 0 and gy[i] elsewhere, for i < len(gy).
func LeakyReLUGrad(gx, gy, x []float32, p float32, acc bool) {
	gx, x = gx[:len(gy)], x[:len(gy)]
	n := 0
	if hasAsmPack && len(gy) >= 8 {
		n = len(gy) &^ 7
		leakyGradAVX(&gx[0], &gy[0], &x[0], n, p, acc)
	}
	leakyGradTail(gx[n:], gy[n:], x[n:], p, acc)
}
