package model

// Strided convolutions through Winograd F(4, 3). A Conv1d of kernel k and
// stride s reads x̃[c][t·s + j] (x̃ the activated, zero-padded input); with
// j = q·s + p it is a sum over the s phases X_p[c][m] = x̃[c][m·s + p] of
// undilated correlations of Q = ⌈k/s⌉ taps:
//
//	y[o][t] = Σ_{c,p} Σ_q W[o][c][q·s + p] · X_p[c][t + q],
//
// i.e. one stride-1 convolution over s·Cin channels with taps W' (zero where
// q·s + p ≥ k). With Q ≤ 3 it runs through conv3Winograd: the encoder's
// kernel-9 stride-4 layers then take 6·4 instead of 9·4 products per four
// outputs and channel (a third fewer), and its kernel-5 stride-2 layer 6·2
// instead of 5·4 (40 % fewer).

// stridedWinoUsable reports whether a Conv1d runs through
// convStridedWinograd.
func stridedWinoUsable(g convGeom) bool {
	return useWinograd && g.groups == 1 && g.stride > 1 && g.dil == 1 &&
		(g.k+g.stride-1)/g.stride <= 3 && g.cin*g.stride >= winoMinChannels
}

// stridedWinoWeights returns U = winoWeights(W') for the phase-split
// weight W' (Cout, s·Cin, 3) of a (Cout, Cin, k) weight.
func stridedWinoWeights(w []float32, g convGeom) []float32 {
	s := g.stride
	cin := g.cin * s
	wp := make([]float32, g.cout*cin*3)
	for o := range g.cout {
		for c := range g.cin {
			for j := range g.k {
				q, p := j/s, j%s
				wp[(o*cin+c*s+p)*3+q] = w[(o*g.cin+c)*g.k+j]
			}
		}
	}
	return winoWeights(wp, g.cout, cin)
}

// convStridedWinograd computes out (Cout, Tout) (+)= conv(a(x)) + bias for
// one batch element x (Cin, T) from U = stridedWinoWeights(w, g). It builds
// the phases once (Tout + 2 samples each, so that conv3Winograd's "same"
// convolution with one sample of padding covers every output) and keeps
// outputs 1 … Tout of its result.
func convStridedWinograd(out, x, u, bias []float32, T int, g convGeom, a act, accumulate bool) {
	s := g.stride
	Tout := g.outLen(T)
	Tz := Tout + 2
	cin := g.cin * s
	z := bufs.Get(cin * Tz)
	y := bufs.Get(g.cout * Tz)
	defer bufs.Put(z)
	defer bufs.Put(y)
	split.For(g.cin, g.cin*T, func(lo, hi int) {
		row := bufs.Get(T)
		defer bufs.Put(row)
		for c := lo; c < hi; c++ {
			a.apply(row, x[c*T:(c+1)*T], c)
			for p := range s {
				dst := z[(c*s+p)*Tz : (c*s+p+1)*Tz]
				for m := range dst {
					v := float32(0)
					if i := m*s + p - g.padL; i >= 0 && i < T {
						v = row[i]
					}
					dst[m] = v
				}
			}
		}
	})
	conv3Winograd(y, z, u, bias, cin, g.cout, Tz, 1, 1, act{}, false, nil)
	split.For(g.cout, g.cout*Tout, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			dst, src := out[o*Tout:(o+1)*Tout], y[o*Tz+1:o*Tz+1+Tout]
			if accumulate {
				for i, v := range src {
					dst[i] += v
				}
				continue
			}
			copy(dst, src)
		}
	})
}
