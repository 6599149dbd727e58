package plots

import (
	"math"

	"gonum.org/v1/plot"
)

// Log-frequency display of a spectrogram.
const (
	// SpecMinHz is the lowest frequency shown, just under a piano's A0
	// (27.5 Hz).
	SpecMinHz = 20
	// specLogRows is the number of log-spaced rows drawn.
	specLogRows = 480
)

// logFreq presents a spectrogram on log-spaced frequency rows for
// plotter.HeatMap: row r is centred on f_r = lo·(hi/lo)^(r/(rows−1)) and
// its Y is log10(f_r), so a heat map drawn linearly in Y is logarithmic in
// frequency (gonum's rasterised heat map ignores an axis scale). A row that
// spans whole STFT bins takes their loudest; a row narrower than a bin, as
// the low octaves are, interpolates the two nearest bins in dB.
type logFreq struct {
	s      *spectrogram
	rows   int
	y0, dy float64 // log10 of row 0's centre and the row spacing
	// Per row: bins [k0, k1] pooled by max when k1 > k0, else the value
	// at fractional bin k0 + frac.
	k0, k1 []int
	frac   []float64
}

func newLogFreq(s *spectrogram, lo, hi float64, rows int) *logFreq {
	lo = max(lo, s.binHz/4)
	hi = max(hi, lo*1.01)
	l := &logFreq{s: s, rows: rows, y0: math.Log10(lo), dy: math.Log10(hi/lo) / float64(rows-1),
		k0: make([]int, rows), k1: make([]int, rows), frac: make([]float64, rows)}
	last, edge := s.rows-1, math.Pow(10, l.dy/2) // a row spans f/edge … f·edge
	for r := range rows {
		f := math.Pow(10, l.y0+float64(r)*l.dy)
		a := int(math.Ceil(f / edge / s.binHz))
		b := int(math.Floor(f * edge / s.binHz))
		b = min(b, last)
		if b > a {
			l.k0[r], l.k1[r] = a, b
			continue
		}
		k := min(f/s.binHz, float64(last))
		l.k0[r] = min(int(k), last-1)
		l.k1[r] = l.k0[r]
		l.frac[r] = k - float64(l.k0[r])
	}
	return l
}

// Dims, Z, X and Y implement plotter.GridXYZ.
func (l *logFreq) Dims() (c, r int) { return l.s.cols, l.rows }
func (l *logFreq) X(c int) float64  { return l.s.X(c) }
func (l *logFreq) Y(r int) float64  { return l.y0 + float64(r)*l.dy }
func (l *logFreq) Z(c, r int) float64 {
	col := l.s.column(c)
	if k0, k1 := l.k0[r], l.k1[r]; k1 > k0 {
		return maxOf(col[k0 : k1+1])
	}
	k, t := l.k0[r], l.frac[r]
	if l.s.rows == 1 {
		return col[0]
	}
	return (1-t)*col[k] + t*col[k+1]
}

// logHzTicks marks an axis whose values are log10(Hz): labels at 1-2-5
// steps of each decade (in Hz below 1 kHz and in kHz above: 50, 100, 200 …
// 1k, 2k …) and minor ticks at the other integer multiples.
func logHzTicks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := int(math.Floor(min)); e <= int(math.Ceil(max)); e++ {
		for m := 1; m <= 9; m++ {
			f := float64(m) * math.Pow10(e)
			v := math.Log10(f)
			if v < min-1e-9 || v > max+1e-9 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = fmtHz(f)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// fmtHz formats a frequency compactly: 50, 500, 1k, 2.5k, 20k.
func fmtHz(f float64) string {
	f = math.Round(f*100) / 100
	if f >= 1000 {
		return fmtNum(f/1000) + "k"
	}
	return fmtNum(f)
}
