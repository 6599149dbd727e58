package sgemm

// leakyTail is the scalar LeakyReLU.
func leakyTail(y, x []float32, p float32) {
	y = y[:len(x)]
	for i, v := range x {
		if v < 0 {
			v *= p
		}
		y[i] = v
	}
}

// leakyGradTail is the scalar LeakyReLUGrad.
func leakyGradTail(gx, gy, x []float32, p float32, acc bool) {
	gx, x = gx[:len(gy)], x[:len(gy)]
	for i, g := range gy {
		if x[i] < 0 {
			g *= p
		}
		if acc {
			gx[i] += g
		} else {
			gx[i] = g
		}
	}
}
