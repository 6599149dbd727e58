package audio

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Resampler design. The filter is a Kaiser-windowed sinc (Kaiser 1974;
// J. O. Smith, "Digital Audio Resampling Home Page", bandlimited
// interpolation), applied as a polyphase bank:
//
//	y[j] = Σ_k x[k] · h(k − j·from/to)
//	h(t) = 2fc·sinc(2fc·t) · w(t/W),  sinc(u) = sin(πu)/(πu)
//	w(u) = I0(β·√(1−u²)) / I0(β) for |u| ≤ 1, else 0
//
// with t in input samples. Frequencies below are relative to the lower of the
// two rates (fs_low): the passband ends at resamplePass·fs_low/2 and the
// stopband begins at fs_low/2, so nothing above the new Nyquist frequency
// folds back above −resampleAtten dB. The cut-off fc is the middle of the
// transition band. The Kaiser estimates (Oppenheim & Schafer, 3rd ed., eq.
// 7.62–7.63) give β = 0.1102·(A − 8.7) and N = (A − 7.95)/(14.36·Δf) + 1 taps
// at fs_low for a transition width Δf = (1 − resamplePass)/2 cycles/sample.
const (
	resampleAtten = 120.0 // stopband attenuation A, dB
	resamplePass  = 0.90  // passband edge as a fraction of the lower Nyquist

	// maxExactPhases is the largest upsampling factor L (after reducing
	// to/from by their gcd) that gets one table row per output phase; larger
	// L (odd rate pairs) use resampleFinePhases rows with linear
	// interpolation between neighbouring rows. With 4096 rows the
	// interpolation error is below −130 dB.
	maxExactPhases     = 4096
	resampleFinePhases = 4096
	// maxTableFloats caps the coefficient table size (16 MiB).
	maxTableFloats = 1 << 22
	// parallelOutputs is the output length from which Resample splits the
	// work across GOMAXPROCS goroutines.
	parallelOutputs = 1 << 17
)

// Resample converts the signal x sampled at from Hz to the rate to Hz with a
// linear-phase band-limited filter (≥120 dB stopband starting at the lower
// Nyquist frequency, passband flat to 90% of it). Output sample j is aligned
// to input time j·from/to: there is no delay. Samples outside x are taken as
// zero. The output has round(len(x)·to/from) samples. When from == to it
// returns a copy of x.
func Resample(x []float32, from, to int) ([]float32, error) {
	if from < MinSampleRate || from > MaxSampleRate || to < MinSampleRate || to > MaxSampleRate {
		return nil, fmt.Errorf("audio: resample %d Hz to %d Hz: %w: rates must be in %d..%d",
			from, to, ErrUnsupportedFormat, MinSampleRate, MaxSampleRate)
	}
	n := (int64(len(x))*int64(to) + int64(from)/2) / int64(from)
	if from == to {
		return append([]float32(nil), x...), nil
	}
	if n > MaxSamples {
		return nil, fmt.Errorf("audio: resample %d Hz to %d Hz: %w: %d samples", from, to, ErrTooLarge, n)
	}
	k := kernelFor(from, to)
	y := make([]float32, n)
	workers := 1
	if len(y) >= parallelOutputs {
		workers = min(runtime.GOMAXPROCS(0), len(y)/(parallelOutputs/4))
	}
	if workers <= 1 {
		k.run(y, x, 0)
		return y, nil
	}
	var wg sync.WaitGroup
	per := (len(y) + workers - 1) / workers
	for start := 0; start < len(y); start += per {
		end := min(start+per, len(y))
		wg.Go(func() { k.run(y[start:end], x, start) })
	}
	wg.Wait()
	return y, nil
}

// resampleKernel is the polyphase table for one rate pair.
type resampleKernel struct {
	up, down int       // L and M: to/g and from/g with g = gcd(from, to)
	rows     int       // table rows: L (exact) or resampleFinePhases+1
	exact    bool      // one row per phase; otherwise interpolate rows
	taps     int       // 2K coefficients per row
	half     int       // K: row i covers x[n−K+1 .. n+K]
	coef     []float32 // rows × taps
}

var kernelCache struct {
	sync.Mutex
	m map[[2]int]*resampleKernel
}

// kernelFor returns the (cached) kernel for a rate pair.
func kernelFor(from, to int) *resampleKernel {
	kernelCache.Lock()
	defer kernelCache.Unlock()
	key := [2]int{from, to}
	if k, ok := kernelCache.m[key]; ok {
		return k
	}
	if kernelCache.m == nil || len(kernelCache.m) >= 16 {
		kernelCache.m = make(map[[2]int]*resampleKernel)
	}
	k := newResampleKernel(from, to)
	kernelCache.m[key] = k
	return k
}

func newResampleKernel(from, to int) *resampleKernel {
	g := gcd(from, to)
	k := &resampleKernel{up: to / g, down: from / g}
	ratio := min(1, float64(to)/float64(from)) // fs_low in input-rate units
	dfLow := (1 - resamplePass) / 2
	nLow := (resampleAtten-7.95)/(14.36*dfLow) + 1
	width := (nLow - 1) / 2 / ratio // W, half-width in input samples
	fc := (1 + resamplePass) / 4 * ratio
	beta := 0.1102 * (resampleAtten - 8.7)
	k.half = int(math.Ceil(width))
	k.taps = 2 * k.half
	k.exact = k.up <= maxExactPhases && k.up*k.taps <= maxTableFloats
	if k.exact {
		k.rows = k.up
	} else {
		k.rows = min(resampleFinePhases, max(64, maxTableFloats/k.taps-1)) + 1
	}
	k.coef = make([]float32, k.rows*k.taps)
	i0b := besselI0(beta)
	row := make([]float64, k.taps)
	for r := range k.rows {
		var frac float64
		if k.exact {
			frac = float64(r) / float64(k.up)
		} else {
			frac = float64(r) / float64(k.rows-1)
		}
		sum := 0.0
		for i := range row {
			t := float64(i-k.half+1) - frac
			u := t / width
			v := 0.0
			if math.Abs(u) < 1 {
				v = 2 * fc * sinc(2*fc*t) * besselI0(beta*math.Sqrt(1-u*u)) / i0b
			}
			row[i] = v
			sum += v
		}
		// Unity DC gain in every phase, so constant input gives constant output.
		for i, v := range row {
			k.coef[r*k.taps+i] = float32(v / sum)
		}
	}
	return k
}

// run computes y[j] = out[first+j] for j in range y.
func (k *resampleKernel) run(y, x []float32, first int) { k.runAt(y, x, first, 0) }

// runAt is run for an input of which x holds the samples from index base
// on: samples outside x count as zero, so x must hold every sample the
// outputs read that lies inside the signal.
func (k *resampleKernel) runAt(y, x []float32, first int, base int64) {
	L, M, K := int64(k.up), int64(k.down), k.half
	num := int64(first) * M
	n, p := int(num/L-base), num%L // output j sits at input time base + n + p/L
	window := make([]float32, k.taps)
	for j := range y {
		lo := n - K + 1
		var w []float32
		if lo >= 0 && lo+k.taps <= len(x) {
			w = x[lo : lo+k.taps]
		} else {
			clear(window)
			for i := max(0, -lo); i < k.taps && lo+i < len(x); i++ {
				window[i] = x[lo+i]
			}
			w = window
		}
		if k.exact {
			y[j] = dot32(k.coef[int(p)*k.taps:][:k.taps], w)
		} else {
			pos := float64(p) / float64(L) * float64(k.rows-1)
			r := int(pos)
			a := float32(pos - float64(r))
			y0 := dot32(k.coef[r*k.taps:][:k.taps], w)
			y1 := dot32(k.coef[(r+1)*k.taps:][:k.taps], w)
			y[j] = y0 + a*(y1-y0)
		}
		p += M
		n += int(p / L)
		p %= L
	}
}

// dot32 returns Σ a[i]·b[i] with four partial sums.
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// sinc returns sin(πx)/(πx).
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 returns the modified Bessel function of the first kind of order
// zero, I0(x) = Σ_k ((x/2)^k / k!)², summed until the terms stop mattering.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1.0; term > 1e-17*sum; k++ {
		term *= q / (k * k)
		sum += term
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
