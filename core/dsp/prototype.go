package dsp

import (
	"math"
	"sort"
)

// kaiserOrder returns the number of taps and the Kaiser β for a low-pass of
// the given attenuation (dB) and transition width (normalised so that the
// Nyquist frequency is 1), as scipy.signal.kaiserord computes them:
//
//	N = ⌈(A − 7.95)/2.285/(π·width) + 1⌉,
//	β = 0.1102·(A − 8.7)                       for A > 50,
//	    0.5842·(A − 21)^0.4 + 0.07886·(A − 21)  for 21 < A ≤ 50, else 0.
func kaiserOrder(atten, width float64) (int, float64) {
	var beta float64
	switch {
	case atten > 50:
		beta = 0.1102 * (atten - 8.7)
	case atten > 21:
		beta = 0.5842*math.Pow(atten-21, 0.4) + 0.07886*(atten-21)
	}
	n := (atten-7.95)/2.285/(math.Pi*width) + 1
	return int(math.Ceil(n)), beta
}

// npSinc is numpy.sinc: sin(πx)/(πx) with x = 0 replaced by 1e-20.
func npSinc(x float64) float64 {
	if x == 0 {
		x = 1e-20
	}
	y := math.Pi * x
	return math.Sin(y) / y
}

// kaiserLowpass is RAVE's kaiser_filter (rave/pqmf.py): the Kaiser order for
// attenuation atten and width wc/π, forced odd, then
// scipy.signal.firwin(N, wc, window=('kaiser', β), scale=False, nyq=π):
//
//	h[n] = (wc/π)·sinc((wc/π)·(n − (N−1)/2))·w_K[n]   (no gain rescaling).
func kaiserLowpass(wc, atten float64) []float64 {
	n, beta := kaiserOrder(atten, wc/math.Pi)
	n = 2*(n/2) + 1
	cut := wc / math.Pi
	alpha := 0.5 * float64(n-1)
	win := kaiserWindow(n, beta)
	h := make([]float64, n)
	for i := range h {
		m := float64(i) - alpha
		h[i] = cut * npSinc(cut*m) * win[i]
	}
	return h
}

// prototypeLoss is RAVE's loss_wc (Lin & Vaidyanathan 1998, IEEE 681427):
// with g = h ∗ reverse(h), the largest |g| at the lags 2M·k, k ≥ 1.
func prototypeLoss(wc, atten float64, bands int) float64 {
	h := kaiserLowpass(wc, atten)
	var worst float64
	for lag := 2 * bands; lag < len(h); lag += 2 * bands {
		var s float64
		for j := lag; j < len(h); j++ {
			s += h[j] * h[j-lag]
		}
		worst = max(worst, math.Abs(s))
	}
	return worst
}

// nelderMead1D minimises f from x0 exactly as scipy.optimize.fmin does for a
// one-dimensional problem with its defaults: initial simplex {x0, 1.05·x0},
// reflection 1, expansion 2, contraction 0.5, shrink 0.5, xatol = fatol =
// 1e-4, at most 200 iterations and 200 function evaluations. It returns the
// best vertex.
func nelderMead1D(f func(float64) float64, x0 float64) float64 {
	const (
		rho, chi, psi, sigma = 1.0, 2.0, 0.5, 0.5
		xatol, fatol         = 1e-4, 1e-4
		maxIter, maxFev      = 200, 200
	)
	sim := [2]float64{x0, x0}
	if x0 != 0 {
		sim[1] = (1 + 0.05) * x0
	} else {
		sim[1] = 0.00025
	}
	fev := 0
	eval := func(x float64) float64 { fev++; return f(x) }
	fs := [2]float64{eval(sim[0]), eval(sim[1])}
	order := func() {
		idx := []int{0, 1}
		sort.SliceStable(idx, func(a, b int) bool { return fs[idx[a]] < fs[idx[b]] })
		sim = [2]float64{sim[idx[0]], sim[idx[1]]}
		fs = [2]float64{fs[idx[0]], fs[idx[1]]}
	}
	order()
	for iter := 1; fev < maxFev && iter < maxIter; iter++ {
		if math.Abs(sim[1]-sim[0]) <= xatol && math.Abs(fs[0]-fs[1]) <= fatol {
			break
		}
		xbar := sim[0] // centroid of all vertices but the worst (N = 1)
		xr := (1+rho)*xbar - rho*sim[1]
		fxr := eval(xr)
		if fxr < fs[0] {
			xe := (1+rho*chi)*xbar - rho*chi*sim[1]
			fxe := eval(xe)
			if fxe < fxr {
				sim[1], fs[1] = xe, fxe
			} else {
				sim[1], fs[1] = xr, fxr
			}
		} else {
			// scipy accepts xr here when fxr < fsim[-2]; with two vertices
			// fsim[-2] is fsim[0] ≤ fxr, so it always contracts.
			shrink := false
			if fxr < fs[1] {
				xc := (1+psi*rho)*xbar - psi*rho*sim[1]
				fxc := eval(xc)
				if fxc <= fxr {
					sim[1], fs[1] = xc, fxc
				} else {
					shrink = true
				}
			} else {
				xcc := (1-psi)*xbar + psi*sim[1]
				fxcc := eval(xcc)
				if fxcc < fs[1] {
					sim[1], fs[1] = xcc, fxcc
				} else {
					shrink = true
				}
			}
			if shrink {
				sim[1] = sim[0] + sigma*(sim[1]-sim[0])
				fs[1] = eval(sim[1])
			}
		}
		order()
	}
	return sim[0]
}

// designPrototype returns RAVE's PQMF prototype low-pass (get_prototype in
// rave/pqmf.py, rave-spec §2.2) for the given attenuation and band count, in
// float64, together with the optimised cutoff ω_c (radians per sample).
func designPrototype(atten float64, bands int) (h []float64, wc float64) {
	wc = nelderMead1D(func(w float64) float64 { return prototypeLoss(w, atten, bands) }, 1/float64(bands))
	return kaiserLowpass(wc, atten), wc
}
