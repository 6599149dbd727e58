//go:build !amd64 || purego

package sgemm

// AddTo sets d[i] += s[i] for every i < len(s); d must be at least as long
// as s.
func AddTo(d, s []float32) {
	d = d[:len(s)]
	for i, v := range s {
		d[i] += v
	}
}

// LeakyReLU sets y[i] = x[i]·p where x[i] < 0 and x[i] elsewhere.
func LeakyReLU(y, x []float32, p float32) { leakyTail(y, x, p) }

// LeakyReLUGrad sets gx[i] = g (or adds g to it if acc) with g = gy[i]·p
// where x[i] < 0 and gy[i] elsewhere.
func LeakyReLUGrad(gx, gy, x []float32, p float32, acc bool) { leakyGradTail(gx, gy, x, p, acc) }
