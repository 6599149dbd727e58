package dsp

import (
	"fmt"
	"math"
	"slices"

	"github.com/ravestation/rave/core"
)

// SpectralVariant selects the per-scale formula of MultiScaleDistance.
type SpectralVariant int

const (
	// SpectralV1 is tag v1's distance (rave/model.py distance, rave-spec
	// §6.1): D_n = ‖S_x − S_y‖_F / ‖S_x‖_F + mean|log(S_x+ε) − log(S_y+ε)|.
	SpectralV1 SpectralVariant = iota
	// SpectralV2 is v2's AudioDistanceV1 (rave/core.py, rave-spec §6.2):
	// D_n = mean((S_x − S_y)²) / mean(S_x²) + mean|log(S_x+ε) − log(S_y+ε)|.
	SpectralV2
)

// MultiScaleDistance configures the multiscale spectral distance. For each
// scale n, S = |STFT| with n_fft = n, hop n/4, periodic Hann window, centre
// (reflect padding), scaled by 1/√n when Normalized; every input signal of
// shape (…, T) is one row of the batch ((B, C, T) → (B·C, T), as the
// reference's rearrange).
type MultiScaleDistance struct {
	// Scales are the FFT sizes, powers of two; Lin and Log follow this order.
	Scales []int
	// Variant selects the linear term.
	Variant SpectralVariant
	// Normalized scales every STFT by 1/√n (torch.stft normalized=True).
	Normalized bool
	// LogEpsilon is ε > 0 in the log term.
	LogEpsilon float64
}

// DistanceV1 returns RAVE v1's distance: scales 2048…128, normalized
// STFTs, Frobenius-ratio linear term, ε = 1e-7.
func DistanceV1() MultiScaleDistance {
	return MultiScaleDistance{Scales: []int{2048, 1024, 512, 256, 128}, Variant: SpectralV1, Normalized: true, LogEpsilon: 1e-7}
}

// DistanceV2 returns RAVE v2's AudioDistanceV1: scales 2048…128,
// unnormalized STFTs, mean-square-ratio linear term and the given ε
// (1e-7 in v2.gin from v2.1.15 on, 1 before and in discrete.gin).
func DistanceV2(logEpsilon float64) MultiScaleDistance {
	return MultiScaleDistance{Scales: []int{2048, 1024, 512, 256, 128}, Variant: SpectralV2, LogEpsilon: logEpsilon}
}

// SpectralTerms is the result of MultiScaleDistance.Distance.
type SpectralTerms struct {
	// Total is Σ_scales (Lin + Log), a differentiable scalar.
	Total *core.Tensor
	// Lin and Log are the two terms of every scale (not differentiable),
	// in Scales order, for logging and parity checks.
	Lin, Log []float64
}

// MultiScaleSpectralDistance returns DistanceV1().Distance(tp, x, y).Total,
// the spectral term of RAVE v1's reconstruction loss.
func MultiScaleSpectralDistance(tp *core.Tape, x, y *core.Tensor) *core.Tensor {
	return DistanceV1().Distance(tp, x, y).Total
}

// Distance returns the multiscale spectral distance between the target x
// and the prediction y (same shape (…, T)), Σ_n D_n(x, y) with D_n as the
// Variant defines it; the log term's mean and the norms run over every bin
// of every frame of every signal. It is one op on the tape, differentiable
// with respect to y and x. Where S_y = 0 the gradient through the
// magnitude is 0, as in PyTorch; where S_x = S_y the log term contributes
// 0 (sign(0) = 0); where ‖S_x − S_y‖ = 0 the v1 linear term contributes 0
// (torch.norm's backward at 0).
func (d MultiScaleDistance) Distance(tp *core.Tape, x, y *core.Tensor) SpectralTerms {
	if !slices.Equal(x.Shape(), y.Shape()) {
		panic(fmt.Sprintf("dsp: MultiScaleDistance: target %v and prediction %v differ in shape", x.Shape(), y.Shape()))
	}
	if len(d.Scales) == 0 {
		panic("dsp: MultiScaleDistance: no scales")
	}
	if !(d.LogEpsilon > 0) {
		panic(fmt.Sprintf("dsp: MultiScaleDistance: LogEpsilon %g must be positive", d.LogEpsilon))
	}
	signals, t := signalShape("MultiScaleDistance", x)
	rec := tp != nil && (x.RequiresGrad() || y.RequiresGrad())
	op := &mssOp{d: d, x: x, y: y, out: core.New(nil)}
	res := SpectralTerms{Total: op.out, Lin: make([]float64, len(d.Scales)), Log: make([]float64, len(d.Scales))}
	var total float64
	for i, n := range d.Scales {
		sc := d.scale(n, signals, t, x, y, rec && x.RequiresGrad(), rec)
		res.Lin[i], res.Log[i] = sc.lin, sc.log
		total += sc.lin + sc.log
		if rec {
			op.scales = append(op.scales, sc)
		} else {
			sc.release()
		}
	}
	op.out.Data()[0] = float32(total)
	if rec {
		tp.Record(op, op.out, x, y)
	}
	return res
}

// mssScale holds one scale's forward results and what its backward needs.
type mssScale struct {
	n          int
	pl         *stftPlan
	fx, fy     *framing
	magX       []float32 // |X| per slot (chunk after chunk), then Nyquist
	magY       []float32 // |Y| per slot, kept when only y needs a gradient
	specX      []float32 // X in slot layout, only if x needs a gradient
	specY      []float32 // Y in slot layout, kept whenever the op is recorded
	nyqX, nyqY []float32
	sumD2      float64 // Σ (S_x − S_y)²
	sumX2      float64 // Σ S_x²
	count      float64 // bins in all
	lin, log   float64
}

// scale computes one scale's terms, keeping the spectra the backward needs.
func (d MultiScaleDistance) scale(n, signals, t int, x, y *core.Tensor, keepX, keepY bool) *mssScale {
	pl := getPlan(n, d.Normalized)
	sc := &mssScale{n: n, pl: pl}
	sc.fx = newFraming(x.Data(), signals, t, n, n/4, true)
	sc.fy = newFraming(y.Data(), signals, t, n, n/4, true)
	total := sc.fx.total()
	cf := pl.chunkFrames(total)
	half := n / 2
	sc.magX = bufs.GetSlice(total*half + total)
	sc.nyqX, sc.nyqY = bufs.GetSlice(total), bufs.GetSlice(total)
	if keepX {
		sc.specX = bufs.GetSlice(total * n)
	}
	if keepY {
		sc.specY = bufs.GetSlice(total * n)
		if !keepX {
			// The prediction's magnitudes, for its gradient (predGrad).
			sc.magY = bufs.GetSlice(total * half)
		}
	}
	var zx, zy []float32
	if !keepX {
		zx = bufs.GetSlice(cf * n)
		defer bufs.PutSlice(zx)
	}
	if !keepY {
		zy = bufs.GetSlice(cf * n)
		defer bufs.PutSlice(zy)
	}
	eps := d.LogEpsilon
	eps32 := float32(eps)
	// Per-row partial sums (one row per stage-2 bin k2 and chunk), added in
	// a fixed order at the end so the result does not depend on the number
	// of threads.
	rowsPerChunk := pl.m2
	chunks := (total + cf - 1) / cf
	part := make([]float64, 3*(chunks*rowsPerChunk+total))
	for ci, g0 := 0, 0; g0 < total; ci, g0 = ci+1, g0+cf {
		c := min(cf, total-g0)
		if keepX {
			zx = sc.specX[g0*n:]
		}
		if keepY {
			zy = sc.specY[g0*n:]
		}
		pl.forward(zx, sc.nyqX[g0:], sc.fx, g0, c)
		pl.forward(zy, sc.nyqY[g0:], sc.fy, g0, c)
		mag := sc.magX[g0*half:]
		var magY []float32
		if sc.magY != nil {
			magY = sc.magY[g0*half:]
		}
		l := pl.cols(c)
		pl.eachBinRow(zx, c, func(k2 int, xr, xi []float32) {
			yr, yi := zy[k2*l:][:l], zy[(pl.m2+k2)*l:][:l]
			var my []float32
			if magY != nil {
				my = magY[k2*l:][:l]
			}
			p := part[3*(ci*rowsPerChunk+k2):]
			p[0], p[1], p[2] = binTerms(xr, xi, yr, yi, mag[k2*l:][:l], my, eps32)
		})
	}
	sc.fx.release() // the backward needs only the framing geometry
	sc.fy.release()
	// Nyquist bins, one per frame.
	nyqBase := chunks * rowsPerChunk
	split.For(total, 32*total, func(lo, hi int) {
		for g := lo; g < hi; g++ {
			sx := math.Abs(float64(sc.nyqX[g]))
			sy := math.Abs(float64(sc.nyqY[g]))
			sc.magX[total*half+g] = float32(sx)
			p := part[3*(nyqBase+g):]
			p[0], p[1], p[2] = (sx-sy)*(sx-sy), sx*sx, math.Abs(math.Log((sx+eps)/(sy+eps)))
		}
	})
	var sumLog float64
	for i := 0; i < len(part); i += 3 {
		sc.sumD2 += part[i]
		sc.sumX2 += part[i+1]
		sumLog += part[i+2]
	}
	sc.count = float64(total * (half + 1))
	sc.log = sumLog / sc.count
	switch d.Variant {
	case SpectralV1:
		sc.lin = math.Sqrt(sc.sumD2) / math.Sqrt(sc.sumX2)
	case SpectralV2:
		sc.lin = sc.sumD2 / sc.sumX2
	default:
		panic(fmt.Sprintf("dsp: MultiScaleDistance: unknown variant %d", d.Variant))
	}
	return sc
}

// binTerms returns, for one row of bins of the target and prediction
// spectra (real and imaginary parts), Σ(S_x − S_y)², ΣS_x² and
// Σ|log((S_x+ε)/(S_y+ε))|, writing S_x to mag and, unless magY is nil, S_y
// to magY. The per-bin arithmetic is
// float32, as the reference's (its STFT, magnitude and logs are float32);
// the row sums are returned as float64 and added in float64 by the caller.
// log32 is written out inline: as a call it made this loop three times
// slower.
func binTerms(xr, xi, yr, yi, mag, magY []float32, eps float32) (d2, x2, lg float64) {
	xr, xi, yr, yi = xr[:len(mag)], xi[:len(mag)], yr[:len(mag)], yi[:len(mag)]
	if magY != nil {
		magY = magY[:len(mag)]
	}
	var a1, a2, a3 float32
	for k := range mag {
		sx := float32(math.Sqrt(float64(xr[k]*xr[k] + xi[k]*xi[k])))
		sy := float32(math.Sqrt(float64(yr[k]*yr[k] + yi[k]*yi[k])))
		mag[k] = sx
		if magY != nil {
			magY[k] = sy
		}
		d := sx - sy
		a1 += d * d
		a2 += sx * sx
		b := math.Float32bits((sx + eps) / (sy + eps))
		t := &logTable[b>>15&0xff]
		q := math.Float32frombits(b&0x7fffff|0x3f800000)*t[0] - 1
		l := float32(int32(b>>23)-127)*math.Ln2 + (t[1] + q*(1-q*(0.5-q*(1.0/3))))
		a3 += math.Float32frombits(math.Float32bits(l) &^ (1 << 31))
	}
	return float64(a1), float64(a2), float64(a3)
}

// release hands the scale's buffers back to the pool.
func (sc *mssScale) release() {
	for _, b := range [][]float32{sc.magX, sc.magY, sc.specX, sc.specY, sc.nyqX, sc.nyqY} {
		if b != nil {
			bufs.PutSlice(b)
		}
	}
	sc.magX, sc.magY, sc.specX, sc.specY, sc.nyqX, sc.nyqY = nil, nil, nil, nil, nil, nil
}

type mssOp struct {
	d      MultiScaleDistance
	x, y   *core.Tensor
	out    *core.Tensor
	scales []*mssScale
	done   bool
}

// Backward propagates the gradient and then returns the kept spectra to the
// buffer pool, so it may run only once per recording.
func (o *mssOp) Backward() {
	if o.done {
		panic("dsp: MultiScaleDistance: backward ran twice on one recording (its spectra are released after the first)")
	}
	g := o.out.Grad()
	if g == nil {
		return
	}
	for _, sc := range o.scales {
		o.backwardScale(sc, float64(g[0]))
		sc.release()
	}
	o.scales, o.done = nil, true
}

// binGrad holds the per-scale constants of ∂D_n/∂S: for one bin with
// d = S_x − S_y and s = g·sign(d)/count,
//
//	∂D/∂S_y = −linD·d − s/(S_y + ε),  ∂D/∂S_x = linD·d − linX·S_x + s/(S_x + ε),
//
// where v1 (lin = ‖d‖/‖S_x‖) has linD = g/(‖d‖·‖S_x‖) (0 when ‖d‖ = 0, as
// torch.norm's backward) and linX = g·‖d‖/‖S_x‖³, and v2 (lin =
// Σd²/ΣS_x²) has linD = 2g/ΣS_x² and linX = 2g·Σd²/(ΣS_x²)².
type binGrad struct {
	linD, linX, logc, eps float64
}

// gradients returns the per-bin derivative constants of one scale's
// distance, scaled by the upstream gradient g.
func (o *mssOp) gradients(sc *mssScale, g float64) binGrad {
	bg := binGrad{logc: g / sc.count, eps: o.d.LogEpsilon}
	switch o.d.Variant {
	case SpectralV1:
		dn, xn := math.Sqrt(sc.sumD2), math.Sqrt(sc.sumX2)
		if dn > 0 {
			bg.linD = g / (dn * xn)
		}
		bg.linX = g * dn / (xn * xn * xn)
	case SpectralV2:
		bg.linD = 2 * g / sc.sumX2
		bg.linX = 2 * g * sc.sumD2 / (sc.sumX2 * sc.sumX2)
	}
	return bg
}

// at returns ∂D/∂S_x and ∂D/∂S_y for one bin.
func (bg *binGrad) at(sx, sy float64) (gx, gy float64) {
	d := sx - sy
	var s float64
	switch {
	case d > 0:
		s = bg.logc
	case d < 0:
		s = -bg.logc
	}
	return bg.linD*d - bg.linX*sx + s/(sx+bg.eps), -bg.linD*d - s/(sy+bg.eps)
}

// predGrad writes into (dyr, dyi) the gradient with respect to one row of
// the prediction spectrum (yr, yi), whose magnitudes the forward pass kept
// in sy, when the target needs none: dY = ∂D/∂S_y · Y/S_y, 0 where
// S_y = 0, in float32 with a single division per bin:
//
//	∂D/∂S_y / S_y = (−linD·d·(S_y+ε) − s) / (S_y·(S_y+ε)).
func predGrad(dyr, dyi, yr, yi, sx, sys []float32, bg *binGrad) {
	n := len(sx)
	dyr, dyi, yr, yi, sys = dyr[:n], dyi[:n], yr[:n], yi[:n], sys[:n]
	linD, logc, eps := float32(bg.linD), float32(bg.logc), float32(bg.eps)
	for k, x := range sx {
		a, b, sy := yr[k], yi[k], sys[k]
		if sy == 0 {
			dyr[k], dyi[k] = 0, 0
			continue
		}
		d := x - sy
		se := sy + eps
		num := -linD * d * se
		switch {
		case d > 0:
			num -= logc
		case d < 0:
			num += logc
		}
		q := num / (sy * se)
		dyr[k], dyi[k] = q*a, q*b
	}
}

// adjointScratch returns, from the buffer pool, the buffers of the
// backward pass through the STFT of one input framed as fr, cf frames of
// n samples at a time: its padded signal's gradient (zeroed), a chunk's
// spectrum gradient and its Nyquist bins. putSlices returns them.
func adjointScratch(fr *framing, cf, n int) (dpad, dz, dnyq []float32) {
	return getZeroed(fr.signals * fr.padded), bufs.GetSlice(cf * n), bufs.GetSlice(cf)
}

// putSlices returns buffers to the pool.
func putSlices(s ...[]float32) {
	for _, b := range s {
		bufs.PutSlice(b)
	}
}

// backwardScale propagates the gradient g of the total through one scale.
func (o *mssOp) backwardScale(sc *mssScale, g float64) {
	pl, n := sc.pl, sc.n
	total := sc.fx.total()
	cf := pl.chunkFrames(total)
	half := n / 2
	bg := o.gradients(sc, g)
	wantX, wantY := sc.specX != nil, o.y.RequiresGrad()
	var dpadX, dpadY, dzx, dzy, dnx, dny []float32
	if wantX {
		dpadX, dzx, dnx = adjointScratch(sc.fx, cf, n)
		defer putSlices(dpadX, dzx, dnx)
	}
	if wantY {
		dpadY, dzy, dny = adjointScratch(sc.fy, cf, n)
		defer putSlices(dpadY, dzy, dny)
	}
	m2 := pl.m2
	for g0 := 0; g0 < total; g0 += cf {
		c := min(cf, total-g0)
		l := pl.cols(c)
		mag := sc.magX[g0*half:]
		spy := sc.specY[g0*n:]
		pl.eachBinRow(spy, c, func(k2 int, yr, yi []float32) {
			mr := mag[k2*l:][:l]
			if !wantX { // the training case: ∂/∂Y only, in float32
				predGrad(dzy[k2*l:][:l], dzy[(m2+k2)*l:][:l], yr, yi, mr, sc.magY[g0*half+k2*l:][:l], &bg)
				return
			}
			xr, xi := sc.specX[g0*n+k2*l:][:l], sc.specX[g0*n+(m2+k2)*l:][:l]
			dxr, dxi := dzx[k2*l:][:l], dzx[(m2+k2)*l:][:l]
			var dyr, dyi []float32
			if wantY {
				dyr, dyi = dzy[k2*l:][:l], dzy[(m2+k2)*l:][:l]
			}
			for k, m := range mr {
				sx := float64(m)
				a, b := float64(yr[k]), float64(yi[k])
				sy := math.Sqrt(a*a + b*b)
				gx, gy := bg.at(sx, sy)
				if wantY {
					if sy > 0 {
						dyr[k], dyi[k] = float32(gy*a/sy), float32(gy*b/sy)
					} else {
						dyr[k], dyi[k] = 0, 0
					}
				}
				if sx > 0 {
					dxr[k], dxi[k] = float32(gx*float64(xr[k])/sx), float32(gx*float64(xi[k])/sx)
				} else {
					dxr[k], dxi[k] = 0, 0
				}
			}
		})
		for fl := range c {
			gidx := g0 + fl
			vx, vy := float64(sc.nyqX[gidx]), float64(sc.nyqY[gidx])
			gx, gy := bg.at(math.Abs(vx), math.Abs(vy))
			if wantX {
				dnx[fl] = float32(gx) * sign32(float32(vx))
			}
			if wantY {
				dny[fl] = float32(gy) * sign32(float32(vy))
			}
		}
		if wantX {
			pl.adjoint(dpadX, dzx, dnx, sc.fx, g0, c)
		}
		if wantY {
			pl.adjoint(dpadY, dzy, dny, sc.fy, g0, c)
		}
	}
	if wantX {
		sc.fx.foldInto(o.x.EnsureGrad(), dpadX)
	}
	if wantY {
		sc.fy.foldInto(o.y.EnsureGrad(), dpadY)
	}
}
