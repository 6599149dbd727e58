package model

import "math"

// aWeighting returns the loudness module's A-weighting table in dB (the
// loudness.a_weight buffer, (nFFT/2+1, 1)) for an nFFT-point FFT at sample
// rate sr, at f = linspace(0, sr/2, nFFT/2+1) + 1e-7 (rave/core.py
// Loudness, rave-spec.md §6.1):
//
//	A(f) = max(−80, 2 + 20·log10(c0·f⁴ / ((f²+c0)(f²+c1)·√((f²+c2)(f²+c3)))))
//
// with c = (12194.217², 20.598997², 107.65265², 737.86223²), the constants
// of librosa ≥ 0.9. The reference fixture's stored buffer was made with
// these (it differs from the librosa 0.8 constants 12200, 20.6, 107.7,
// 737.9 by up to 0.0065 dB), so a model rebuilt here matches it exactly.
func aWeighting(nFFT int, sr float64) []float32 {
	n := nFFT/2 + 1
	c := [4]float64{12194.217, 20.598997, 107.65265, 737.86223}
	for i := range c {
		c[i] *= c[i]
	}
	out := make([]float32, n)
	step := sr / 2 / float64(n-1)
	for i := range n {
		f := float64(i)*step + 1e-7
		if i == n-1 {
			f = sr/2 + 1e-7
		}
		f2 := f * f
		w := 2 + 20*(math.Log10(c[0])+2*math.Log10(f2)-math.Log10(f2+c[0])-math.Log10(f2+c[1])-
			0.5*math.Log10(f2+c[2])-0.5*math.Log10(f2+c[3]))
		out[i] = float32(max(-80, w))
	}
	return out
}
