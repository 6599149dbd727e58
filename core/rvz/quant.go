package rvz

import (
	"fmt"
	"math"
	"sync"
)

// Quantize codes latents z (dims × frames) with a uniform quantiser of
// 2^bits levels per dimension and returns its offsets, steps and the codes
// (frame-major, as File.Codes).
//
// The levels of dimension d span [lo, hi] with
//
//	lo = max(min_d, μ_d − c·σ_d),  hi = min(max_d, μ_d + c·σ_d),
//
// μ_d and σ_d the dimension's mean and standard deviation over the frames,
// and c the loading factor of the uniform quantiser with 2^bits levels that
// minimises the squared error on a Gaussian (0.80 for 1 bit, 1.49 for 2,
// 2.05 for 3, 2.51 for 4, …), at most 4: values beyond ±c·σ are clipped.
// Clipping to the observed range means a dimension that fits inside
// ±c·σ loses nothing at its ends. A value is coded as
// round((v − lo)/step), step = (hi − lo)/(2^bits − 1); a constant dimension
// has step 0.
func Quantize(z [][]float32, bits int) (offset, step []float32, codes []uint16) {
	if bits < 1 || bits > MaxBits {
		panic(fmt.Sprintf("rvz: Quantize: %d bits (1–%d)", bits, MaxBits))
	}
	k := len(z)
	if k == 0 {
		return nil, nil, nil
	}
	n := len(z[0])
	c := Loading(bits)
	levels := float64(int(1)<<bits - 1)
	offset, step = make([]float32, k), make([]float32, k)
	codes = make([]uint16, n*k)
	for d, row := range z {
		if len(row) != n {
			panic(fmt.Sprintf("rvz: Quantize: dimension %d has %d frames, dimension 0 has %d", d, len(row), n))
		}
		var sum, sq float64
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range row {
			x := float64(v)
			sum += x
			lo, hi = min(lo, x), max(hi, x)
		}
		mu := sum / float64(max(n, 1))
		for _, v := range row {
			sq += (float64(v) - mu) * (float64(v) - mu)
		}
		sigma := math.Sqrt(sq / float64(max(n, 1)))
		lo, hi = max(lo, mu-c*sigma), min(hi, mu+c*sigma)
		if n == 0 || !(hi > lo) {
			offset[d] = float32(mu)
			if n == 0 || math.IsNaN(mu) || math.IsInf(mu, 0) {
				offset[d] = 0
			}
			continue
		}
		// Store the quantiser in float32 and code against the stored values
		// so decoding reproduces exactly the levels chosen here.
		o := float32(lo)
		s := float32((hi - lo) / levels)
		offset[d], step[d] = o, s
		if s == 0 {
			continue
		}
		for t, v := range row {
			q := math.Round((float64(v) - float64(o)) / float64(s))
			codes[t*k+d] = uint16(min(max(q, 0), levels))
		}
	}
	return offset, step, codes
}

// Loading returns the clipping range, in standard deviations, of the
// uniform quantiser with 2^bits levels: the loading factor that minimises
// its mean squared error on N(0, 1) (found numerically), at most 4.
func Loading(bits int) float64 {
	loadingOnce.Do(func() {
		for b := 1; b <= MaxBits; b++ {
			loadingTable[b] = 4
			if b <= 8 {
				loadingTable[b] = min(4, optimalLoading(1<<b))
			}
		}
	})
	return loadingTable[bits]
}

var (
	loadingOnce  sync.Once
	loadingTable [MaxBits + 1]float64
)

// optimalLoading returns (N−1)/2·Δ for the step Δ that minimises the mean
// squared error of a symmetric uniform quantiser with N levels on N(0, 1),
// by golden-section search.
func optimalLoading(levels int) float64 {
	a, b := 1e-4, 8.0/float64(levels-1)*2
	g := (math.Sqrt(5) - 1) / 2
	x1, x2 := b-g*(b-a), a+g*(b-a)
	f1, f2 := gaussianQuantMSE(levels, x1), gaussianQuantMSE(levels, x2)
	for range 100 {
		if f1 < f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - g*(b-a)
			f1 = gaussianQuantMSE(levels, x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + g*(b-a)
			f2 = gaussianQuantMSE(levels, x2)
		}
	}
	return float64(levels-1) / 2 * (a + b) / 2
}

// gaussianQuantMSE is E[(X − Q(X))²] for X ~ N(0,1) and the quantiser with
// levels q_i = (i − (N−1)/2)·Δ and decision thresholds halfway between them:
// over a cell [u, v] with level q, ∫(x − q)²φ = (1 + q²)(Φ(v) − Φ(u)) +
// (u − 2q)φ(u) − (v − 2q)φ(v).
func gaussianQuantMSE(levels int, delta float64) float64 {
	phi := func(x float64) float64 {
		if math.IsInf(x, 0) {
			return 0
		}
		return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi)
	}
	cdf := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	var mse float64
	for i := range levels {
		q := (float64(i) - float64(levels-1)/2) * delta
		u, v := q-delta/2, q+delta/2
		if i == 0 {
			u = math.Inf(-1)
		}
		if i == levels-1 {
			v = math.Inf(1)
		}
		term := (1 + q*q) * (cdf(v) - cdf(u))
		if !math.IsInf(u, 0) {
			term += (u - 2*q) * phi(u)
		}
		if !math.IsInf(v, 0) {
			term -= (v - 2*q) * phi(v)
		}
		mse += term
	}
	return mse
}
