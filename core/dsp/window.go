package dsp

import "math"

// HannWindow returns the periodic Hann window of length n the way
// torch.hann_window(n) builds it in float32 (ATen hamming_window with
// α = β = 0.5 on n+1 points, last point dropped):
//
//	w[k] = 0.5 + (−0.5)·cos(float32(k)·float32(2π/n)),  k = 0…n−1,
//
// every operation rounded to float32 and the cosine correctly rounded.
// rave-spec §6.1 notes that a window built in float64 moves the log terms
// by ~6e-7; this one equals the reference buffer `loudness.window` except
// for 62 of 2048 values that differ by one float32 ulp of the cosine
// (PyTorch's vectorised SLEEF cosf is accurate to 1 ulp, not correctly
// rounded).
func HannWindow(n int) []float32 {
	if n <= 0 {
		panic("dsp: HannWindow: length must be positive")
	}
	w := make([]float32, n)
	if n == 1 {
		w[0] = 1
		return w
	}
	step := float32(2 * math.Pi / float64(n))
	for k := range w {
		a := float32(k) * step
		c := float32(math.Cos(float64(a)))
		w[k] = 0.5 + (-0.5)*c
	}
	return w
}

// besselI0 returns the modified Bessel function of the first kind of order
// zero, I0(x) = Σ_k ((x/2)^k / k!)², summed until the terms stop changing
// the result (float64; x ≤ 30 in every use here).
func besselI0(x float64) float64 {
	q := x * x / 4
	sum, term := 1.0, 1.0
	for k := 1; k < 500; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// kaiserWindow returns the symmetric Kaiser window of length n and shape
// beta, as scipy.signal.windows.kaiser(n, beta, sym=True):
//
//	w[k] = I0(β·√(1 − ((k−α)/α)²)) / I0(β),  α = (n−1)/2.
func kaiserWindow(n int, beta float64) []float64 {
	w := make([]float64, n)
	if n == 1 {
		w[0] = 1
		return w
	}
	alpha := float64(n-1) / 2
	den := besselI0(beta)
	for k := range w {
		r := (float64(k) - alpha) / alpha
		w[k] = besselI0(beta*math.Sqrt(max(0, 1-r*r))) / den
	}
	return w
}

// AWeightConstants are the four pole frequencies (Hz) of the A-weighting
// curve.
type AWeightConstants [4]float64

var (
	// AWeightLibrosa are the constants of librosa ≥ 0.9 (12194.217,
	// 20.598997, 107.65265, 737.86223). The rave-v1-small fixtures were
	// generated with them: their `loudness.a_weight` matches bit for bit.
	AWeightLibrosa = AWeightConstants{12194.217, 20.598997, 107.65265, 737.86223}
	// AWeightLibrosa08 are the rounded constants of librosa 0.8 (12200,
	// 20.6, 107.7, 737.9) that rave-spec §6.1 attributes to the pinned v1
	// environment; they move the curve by up to 0.0065 dB.
	AWeightLibrosa08 = AWeightConstants{12200, 20.6, 107.7, 737.9}
)

// AWeighting returns the A-weighting curve in dB at the given frequencies
// (Hz) as librosa.A_weighting computes it (rave-spec §6.1):
//
//	A(f) = max(−80, 2 + 20·(log10 c0 + 2·log10 f² − log10(f²+c0) − log10(f²+c1)
//	        − ½·log10(f²+c2) − ½·log10(f²+c3))),  c_i = consts[i]².
func AWeighting(freqs []float64, consts AWeightConstants) []float64 {
	c0, c1, c2, c3 := consts[0]*consts[0], consts[1]*consts[1], consts[2]*consts[2], consts[3]*consts[3]
	out := make([]float64, len(freqs))
	for i, f := range freqs {
		f2 := f * f
		w := 2 + 20*(math.Log10(c0)+2*math.Log10(f2)-math.Log10(f2+c0)-math.Log10(f2+c1)-
			0.5*math.Log10(f2+c2)-0.5*math.Log10(f2+c3))
		out[i] = max(-80, w)
	}
	return out
}

// LoudnessAWeight returns the reference `loudness.a_weight` buffer for an
// FFT of size nFFT at sample rate sr: AWeighting with AWeightLibrosa at
// f = linspace(0, sr/2, nFFT/2+1) + 1e-7, cast to float32 (RAVE v1
// rave/core.py Loudness; rave-spec §6.1).
func LoudnessAWeight(sr float64, nFFT int) []float32 {
	nb := nFFT/2 + 1
	f := make([]float64, nb)
	for i := range f {
		f[i] = linspaceAt(0, sr/2, nb, i) + 1e-7
	}
	a := AWeighting(f, AWeightLibrosa)
	out := make([]float32, nb)
	for i, v := range a {
		out[i] = float32(v)
	}
	return out
}

// linspaceAt returns element i of numpy.linspace(start, stop, num): start +
// i·step with step = (stop−start)/(num−1), and exactly stop at the end.
func linspaceAt(start, stop float64, num, i int) float64 {
	if num == 1 {
		return start
	}
	if i == num-1 {
		return stop
	}
	step := (stop - start) / float64(num-1)
	return start + float64(i)*step
}
