package audio

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/gonum/dsp/window"
	"gonum.org/v1/gonum/mat"
)

// sine returns n samples of amp·sin(2π·f·i/rate).
func sine(n int, f, rate, amp float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*f*float64(i)/rate))
	}
	return x
}

// thdN fits a·sin + b·cos + c at frequency f (least squares) to y[skip:len-skip]
// and returns 10·log10(residual power / fitted tone power), i.e. THD+N in dB.
func thdN(t *testing.T, y []float32, f, rate float64, skip int) float64 {
	t.Helper()
	_, db := sineFit(t, y, f, rate, skip)
	return db
}

// sineFit is thdN that also returns the fitted amplitude √(a²+b²).
func sineFit(t *testing.T, y []float32, f, rate float64, skip int) (amp, db float64) {
	t.Helper()
	seg := y[skip : len(y)-skip]
	a := mat.NewDense(len(seg), 3, nil)
	b := mat.NewVecDense(len(seg), nil)
	for i, v := range seg {
		w := 2 * math.Pi * f * float64(i+skip) / rate
		a.Set(i, 0, math.Sin(w))
		a.Set(i, 1, math.Cos(w))
		a.Set(i, 2, 1)
		b.SetVec(i, float64(v))
	}
	var coef mat.VecDense
	if err := coef.SolveVec(a, b); err != nil {
		t.Fatalf("least squares: %v", err)
	}
	var fit mat.VecDense
	fit.MulVec(a, &coef)
	var sig, res float64
	for i := range seg {
		tone := fit.AtVec(i) - coef.AtVec(2)
		sig += tone * tone
		d := b.AtVec(i) - fit.AtVec(i)
		res += d * d
	}
	return math.Hypot(coef.AtVec(0), coef.AtVec(1)), 10 * math.Log10(res/sig)
}

func TestResampleTHDN(t *testing.T) {
	tests := []struct {
		from, to int
		f        float64
		maxDB    float64
	}{
		{44100, 48000, 1000, -90}, // the acceptance case
		{48000, 44100, 1000, -90},
		{48000, 22050, 1000, -90},
		{22050, 48000, 1000, -90},
		{8000, 48000, 440, -90},
		{96000, 48000, 1000, -90},
		{44101, 48000, 1000, -90}, // L = 48000: interpolated phase table
		{48000, 16000, 3000, -90},
	}
	for _, tt := range tests {
		x := sine(tt.from/2, tt.f, float64(tt.from), 0.5)
		y, err := Resample(x, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		if want := int(math.Round(float64(len(x)) * float64(tt.to) / float64(tt.from))); len(y) != want {
			t.Errorf("Resample %d→%d: len = %d, want %d", tt.from, tt.to, len(y), want)
		}
		skip := len(y) / 8
		db := thdN(t, y, tt.f, float64(tt.to), skip)
		// Zero delay and unity gain: compare with the ideal output directly.
		var errP, sigP float64
		for j := skip; j < len(y)-skip; j++ {
			ideal := 0.5 * math.Sin(2*math.Pi*tt.f*float64(j)/float64(tt.to))
			d := float64(y[j]) - ideal
			errP += d * d
			sigP += ideal * ideal
		}
		ideal := 10 * math.Log10(errP/sigP)
		t.Logf("%6d→%6d Hz, %4.0f Hz tone: THD+N %.1f dB, error vs ideal output %.1f dB", tt.from, tt.to, tt.f, db, ideal)
		if db > tt.maxDB || ideal > tt.maxDB {
			t.Errorf("Resample %d→%d: THD+N = %.1f dB, error vs ideal = %.1f dB, want both < %.0f dB",
				tt.from, tt.to, db, ideal, tt.maxDB)
		}
	}
}

// sweep returns a linear chirp from f0 to f1 Hz over n samples with 10 ms
// raised-cosine fades, and the instantaneous frequency at each sample.
func sweep(n int, rate, f0, f1, amp float64) (x []float32, freq []float64) {
	x = make([]float32, n)
	freq = make([]float64, n)
	T := float64(n) / rate
	fade := int(0.01 * rate)
	for i := range x {
		t := float64(i) / rate
		g := amp
		if i < fade {
			g *= 0.5 - 0.5*math.Cos(math.Pi*float64(i)/float64(fade))
		} else if n-1-i < fade {
			g *= 0.5 - 0.5*math.Cos(math.Pi*float64(n-1-i)/float64(fade))
		}
		x[i] = float32(g * math.Sin(2*math.Pi*(f0*t+(f1-f0)*t*t/(2*T))))
		freq[i] = f0 + (f1-f0)*t/T
	}
	return x, freq
}

// peakDB returns the largest Blackman–Harris-windowed FFT magnitude of seg,
// in dB relative to a full-scale (amplitude 1) sine of the same length.
func peakDB(seg []float32) float64 {
	n := len(seg)
	w := window.BlackmanHarris(ones(n))
	v := make([]float64, n)
	coherent := 0.0
	for i := range v {
		v[i] = float64(seg[i]) * w[i]
		coherent += w[i]
	}
	c := fourier.NewFFT(n).Coefficients(nil, v)
	peak := 0.0
	for _, z := range c {
		peak = max(peak, math.Hypot(real(z), imag(z)))
	}
	// A unit sine gives a peak of coherent/2.
	return 20 * math.Log10(peak/(coherent/2)+1e-300)
}

// rmsDB returns the RMS level of seg relative to a full-scale sine (RMS 1/√2).
func rmsDB(seg []float32) float64 {
	p := 0.0
	for _, v := range seg {
		p += float64(v) * float64(v)
	}
	return 10 * math.Log10(p/float64(len(seg))/0.5+1e-300)
}

func ones(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1
	}
	return w
}

func TestResampleAliasing(t *testing.T) {
	tests := []struct{ from, to int }{
		{48000, 22050},
		{96000, 48000},
		{44100, 16000},
	}
	for _, tt := range tests {
		n := 2 * tt.from
		nyqIn, nyqOut := float64(tt.from)/2, float64(tt.to)/2
		x, freq := sweep(n, float64(tt.from), 20, 0.995*nyqIn, 0.9)
		y, err := Resample(x, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		// Output samples whose input-time frequency lies in [lo, hi] Hz.
		section := func(lo, hi float64) []float32 {
			first, last := -1, -1
			for j := range y {
				i := int(float64(j) * float64(tt.from) / float64(tt.to))
				if i >= n {
					break
				}
				if freq[i] >= lo && freq[i] <= hi && (i > n/100 && i < n-n/100) {
					if first < 0 {
						first = j
					}
					last = j
				}
			}
			return y[first : last+1]
		}
		// Above the new Nyquist (plus a margin for the sweep moving during
		// the filter's 3.5 ms span) the ideal output is silence: all that
		// remains is aliasing.
		stop := section(nyqOut*1.03, 0.99*nyqIn)
		alias, aliasRMS := peakDB(stop), rmsDB(stop)
		// Inside the passband the sweep must pass at full level.
		pass := rmsDB(section(100, 0.85*nyqOut)) - 20*math.Log10(0.9)
		t.Logf("%d→%d Hz sweep: largest alias %.1f dBFS (FFT bin), alias energy %.1f dBFS, passband level %.3f dB",
			tt.from, tt.to, alias, aliasRMS, pass)
		if alias > -80 || aliasRMS > -80 {
			t.Errorf("Resample %d→%d: aliasing peak %.1f dBFS, energy %.1f dBFS, want both < -80", tt.from, tt.to, alias, aliasRMS)
		}
		if math.Abs(pass) > 0.01 {
			t.Errorf("Resample %d→%d: passband level %.2f dB, want within ±0.01 dB", tt.from, tt.to, pass)
		}
	}
}

func TestResampleTonesAboveNyquist(t *testing.T) {
	// A pure tone above the new Nyquist frequency must vanish; below it, pass.
	tests := []struct {
		from, to int
		f        float64
		wantDB   float64 // output peak relative to the input tone, dB
		tol      float64
	}{
		{48000, 22050, 15000, -120, 10}, // stopband: at most -110 dB
		{48000, 22050, 11100, -120, 10}, // just above the new Nyquist
		{48000, 22050, 9000, 0, 0.01},   // passband (0.82 of the new Nyquist)
		{96000, 44100, 30000, -120, 10},
	}
	for _, tt := range tests {
		x := sine(tt.from, tt.f, float64(tt.from), 1)
		y, err := Resample(x, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		got := peakDB(y[len(y)/4 : 3*len(y)/4])
		t.Logf("%d→%d Hz, %.0f Hz tone: %.1f dB", tt.from, tt.to, tt.f, got)
		if tt.wantDB == 0 && math.Abs(got) > tt.tol || tt.wantDB < 0 && got > tt.wantDB+tt.tol {
			t.Errorf("Resample %d→%d of %.0f Hz: level %.2f dB, want %.0f ± %.2f", tt.from, tt.to, tt.f, got, tt.wantDB, tt.tol)
		}
	}
}

func TestResampleIdentityAndLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 1001)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	y, err := Resample(x, 44100, 44100)
	if err != nil {
		t.Fatal(err)
	}
	if &y[0] == &x[0] {
		t.Error("Resample(from == to) returned its input, want a copy")
	}
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("Resample(from == to)[%d] = %v, want %v", i, y[i], x[i])
		}
	}
	lengths := []struct{ n, from, to, want int }{
		{0, 44100, 48000, 0},
		{1, 44100, 48000, 1},
		{3, 48000, 1000, 0},  // 0.0625 rounds to 0
		{24, 48000, 1000, 1}, // 0.5 rounds up
		{147, 44100, 48000, 160},
		{1000, 48000, 22050, 459},  // 459.375
		{1001, 22050, 48000, 2179}, // 2179.0476
	}
	for _, l := range lengths {
		y, err := Resample(make([]float32, l.n), l.from, l.to)
		if err != nil {
			t.Fatal(err)
		}
		if len(y) != l.want {
			t.Errorf("len(Resample(%d samples, %d, %d)) = %d, want %d", l.n, l.from, l.to, len(y), l.want)
		}
	}
	for _, bad := range [][2]int{{0, 48000}, {48000, -1}, {999, 48000}, {48000, 768001}} {
		if _, err := Resample(x, bad[0], bad[1]); err == nil {
			t.Errorf("Resample(%d, %d) succeeded, want an error", bad[0], bad[1])
		}
	}
}

func TestResampleDC(t *testing.T) {
	// Every phase has unity DC gain: a constant stays constant away from the edges.
	x := make([]float32, 20000)
	for i := range x {
		x[i] = 0.25
	}
	for _, r := range [][2]int{{44100, 48000}, {48000, 22050}, {44101, 48000}} {
		y, _ := Resample(x, r[0], r[1])
		for j := len(y) / 4; j < 3*len(y)/4; j++ {
			if d := math.Abs(float64(y[j]) - 0.25); d > 1e-6 {
				t.Fatalf("Resample(DC, %d, %d)[%d] = %v, want 0.25", r[0], r[1], j, y[j])
			}
		}
	}
}

func TestResampleParallelMatchesSerial(t *testing.T) {
	x := sine(3*parallelOutputs, 440, 44100, 0.5)
	y, _ := Resample(x, 44100, 48000)
	k := kernelFor(44100, 48000)
	want := make([]float32, len(y))
	k.run(want, x, 0)
	for i := range y {
		if y[i] != want[i] {
			t.Fatalf("parallel Resample[%d] = %v, serial = %v", i, y[i], want[i])
		}
	}
}

func benchmarkResample(b *testing.B, from, to int) {
	x := sine(from, 1000, float64(from), 0.5) // one second
	b.SetBytes(int64(4 * len(x)))
	b.ReportAllocs()
	kernelFor(from, to)
	b.ResetTimer()
	for range b.N {
		if _, err := Resample(x, from, to); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResample44100To48000(b *testing.B) { benchmarkResample(b, 44100, 48000) }
func BenchmarkResample48000To22050(b *testing.B) { benchmarkResample(b, 48000, 22050) }
func BenchmarkResample44101To48000(b *testing.B) { benchmarkResample(b, 44101, 48000) }
