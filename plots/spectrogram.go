package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// Spectrogram analysis settings.
const (
	// SpecFFT is the STFT frame length in samples.
	SpecFFT = 2048
	// SpecHop is the STFT hop in samples.
	SpecHop = 512
	// SpecRange is the dynamic range shown, in dB below the loudest bin.
	SpecRange = 80
	// specMaxCols bounds the time columns of a spectrogram; longer audio is
	// max-pooled over neighbouring frames so that no transient disappears.
	specMaxCols = 2000
	// specFloorDB is the level given to exact silence.
	specFloorDB = -200
)

// spectrogram is a log-magnitude STFT in dBFS (a full-scale sine reads
// 0 dB), laid out for plotter.HeatMap: columns are time, rows frequency.
type spectrogram struct {
	db     []float64 // cols × rows, column-major: db[c*rows + r]
	cols   int
	rows   int
	t0, dt float64 // centre time of column 0 and column spacing, seconds
	binHz  float64
	// nonFinite counts NaN/±Inf input samples, read as 0.
	nonFinite int
	seconds   float64
}

// Dims, Z, X and Y implement plotter.GridXYZ without copying the matrix.
func (s *spectrogram) Dims() (c, r int)       { return s.cols, s.rows }
func (s *spectrogram) Z(c, r int) float64     { return s.db[c*s.rows+r] }
func (s *spectrogram) X(c int) float64        { return s.t0 + float64(c)*s.dt }
func (s *spectrogram) Y(r int) float64        { return float64(r) * s.binHz }
func (s *spectrogram) peak() (db float64)     { return maxOf(s.db) }
func (s *spectrogram) column(c int) []float64 { return s.db[c*s.rows : (c+1)*s.rows] }

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// hann returns the periodic Hann window of length n (torch.hann_window's
// default): w[i] = 0.5 − 0.5·cos(2πi/n).
func hann(n int) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
	}
	return w
}

// computeSpectrogram returns the STFT of x as 20·log10(2|X|/Σw) dBFS in
// nFFT/2+1 bins: Hann window of nFFT samples, frames hop samples apart and
// centred on samples 0, hop, 2·hop … (torch.stft's center=True, with zero
// rather than reflect padding), so 1 + ⌊len(x)/hop⌋ frames. More than
// maxCols frames are max-pooled in groups.
func computeSpectrogram(x []float32, sampleRate, nFFT, hop, maxCols int) (*spectrogram, error) {
	if len(x) == 0 {
		return nil, fmt.Errorf("%w: spectrogram: no samples", ErrNoData)
	}
	if sampleRate <= 0 {
		return nil, fmt.Errorf("plots: spectrogram: sample rate %d", sampleRate)
	}
	if nFFT < 2 || hop < 1 || maxCols < 1 {
		return nil, fmt.Errorf("plots: spectrogram: n_fft %d, hop %d", nFFT, hop)
	}
	frames := 1 + len(x)/hop
	pool := (frames + maxCols - 1) / maxCols
	s := &spectrogram{
		cols:    (frames + pool - 1) / pool,
		rows:    nFFT/2 + 1,
		binHz:   float64(sampleRate) / float64(nFFT),
		seconds: float64(len(x)) / float64(sampleRate),
	}
	s.dt = float64(pool*hop) / float64(sampleRate)
	s.t0 = float64(pool-1) / 2 * float64(hop) / float64(sampleRate)
	s.db = make([]float64, s.cols*s.rows)
	for i := range s.db {
		s.db[i] = math.Inf(-1)
	}
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			s.nonFinite++
		}
	}

	w := hann(nFFT)
	var wsum float64
	for _, v := range w {
		wsum += v
	}
	scale := 2 / wsum
	fft := fourier.NewFFT(nFFT)
	frame := make([]float64, nFFT)
	coef := make([]complex128, s.rows)
	for f := range frames {
		start := f*hop - nFFT/2
		for i := range frame {
			v := 0.0
			if j := start + i; j >= 0 && j < len(x) {
				v = float64(x[j])
				if math.IsNaN(v) || math.IsInf(v, 0) {
					v = 0
				}
			}
			frame[i] = v * w[i]
		}
		coef = fft.Coefficients(coef, frame)
		col := s.column(f / pool)
		for k, c := range coef {
			m := math.Hypot(real(c), imag(c)) * scale
			db := float64(specFloorDB)
			if m > 0 {
				db = max(20*math.Log10(m), specFloorDB)
			}
			col[k] = max(col[k], db)
		}
	}
	return s, nil
}

// heat draws a HeatMap rasterised. It hides the HeatMap's GlyphBoxes, which
// allocate one box per cell (a million for ten seconds of audio) on every
// layout pass.
type heat struct{ h *plotter.HeatMap }

// Plot implements plot.Plotter.
func (h heat) Plot(c draw.Canvas, p *plot.Plot) { h.h.Plot(c, p) }

// DataRange implements plot.DataRanger.
func (h heat) DataRange() (xmin, xmax, ymin, ymax float64) { return h.h.DataRange() }

// Spectrograms returns spectrogram.png: the log-magnitude spectrograms
// (dBFS, Hann window, n_fft SpecFFT, hop SpecHop) of original and
// reconstruction stacked on a shared time axis in seconds and a
// logarithmic frequency axis from SpecMinHz to the Nyquist frequency (where
// the fundamentals and partials of notes sit an equal distance apart), both on one colour scale spanning SpecRange dB
// below the louder of the two, with the colour bar underneath. Either input
// may be empty (one panel is drawn); both empty is ErrNoData. Non-finite
// samples are read as silence and counted in the panel title.
func Spectrograms(original, reconstruction []float32, sampleRate int) (*Figure, error) {
	if sampleRate <= 0 {
		return nil, fmt.Errorf("plots: spectrogram: sample rate %d", sampleRate)
	}
	if len(original) == 0 && len(reconstruction) == 0 {
		return nil, fmt.Errorf("%w: spectrogram: no audio", ErrNoData)
	}
	type panel struct {
		name string
		s    *spectrogram
		lf   *logFreq
	}
	var panels []panel
	for _, in := range []struct {
		name string
		x    []float32
	}{{"original", original}, {"reconstruction", reconstruction}} {
		if len(in.x) == 0 {
			continue
		}
		s, err := computeSpectrogram(in.x, sampleRate, SpecFFT, SpecHop, specMaxCols)
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %w", in.name, err)
		}
		panels = append(panels, panel{in.name, s, newLogFreq(s, SpecMinHz, float64(sampleRate)/2, specLogRows)})
	}
	// One colour scale and one time range for every panel.
	top, tmin, tmax := math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, pn := range panels {
		top = max(top, pn.s.peak())
		hm := plotter.HeatMap{GridXYZ: pn.s}
		x0, x1, _, _ := hm.DataRange()
		tmin, tmax = min(tmin, x0), max(tmax, x1)
	}
	top = math.Ceil(top/10) * 10
	lo := top - SpecRange

	cmap := moreland.ExtendedBlackBody()
	cmap.SetMin(lo)
	cmap.SetMax(top)
	pal := cmap.Palette(256)
	colors := pal.Colors()

	var rows [][]*plot.Plot
	for _, pn := range panels {
		title := fmt.Sprintf("%s (%.2f s, %d Hz)", pn.name, pn.s.seconds, sampleRate)
		if pn.s.nonFinite > 0 {
			title += fmt.Sprintf(" — %d NaN/Inf samples read as 0", pn.s.nonFinite)
		}
		p := newPlot(title, "time (s)", "frequency (Hz, log)")
		hm := plotter.NewHeatMap(pn.lf, pal)
		hm.Min, hm.Max = lo, top
		hm.Underflow, hm.Overflow, hm.NaN = colors[0], colors[len(colors)-1], colNaN
		hm.Rasterized = true
		p.Add(heat{hm})
		p.X.Min, p.X.Max = tmin, tmax
		_, _, p.Y.Min, p.Y.Max = hm.DataRange()
		p.X.Padding, p.Y.Padding = 0, 0
		p.Y.Tick.Marker = plot.TickerFunc(logHzTicks)
		rows = append(rows, []*plot.Plot{p})
	}

	bar := newPlot("", fmt.Sprintf("level (dBFS), n_fft %d, hop %d, Hann window", SpecFFT, SpecHop), "")
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Colors: 256})
	bar.HideY()
	bar.X.Padding = 0
	return &Figure{Name: "spectrogram.png", Rows: rows, Strip: bar, StripHeight: 0.13}, nil
}
