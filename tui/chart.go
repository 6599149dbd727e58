package tui

import (
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Text charts: sparklines, filled area charts, progress bars and centred
// meters, drawn with block characters. Values that are NaN or ±Inf are
// skipped when scaling and drawn as gaps.

var eighths = []rune(" ▁▂▃▄▅▆▇█")

// finite reports whether v is a usable number.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// bucket resamples vals to n columns, each the mean of its finite values
// (NaN for a column with none). Fewer values than columns are not
// stretched: the result is shorter.
func bucket(vals []float64, n int) []float64 {
	if n <= 0 {
		return nil
	}
	if len(vals) <= n {
		return vals
	}
	out := make([]float64, n)
	for c := range n {
		lo, hi := c*len(vals)/n, (c+1)*len(vals)/n
		var s float64
		k := 0
		for _, v := range vals[lo:hi] {
			if finite(v) {
				s += v
				k++
			}
		}
		out[c] = math.NaN()
		if k > 0 {
			out[c] = s / float64(k)
		}
	}
	return out
}

// span returns the finite minimum and maximum of vals (ok false if none).
func span(vals []float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if finite(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	return lo, hi, lo <= hi
}

// scale maps values to [0, 1]: linearly, or on a log scale when every
// value is positive and they span more than a factor of 20 (loss curves).
type scale struct {
	lo, hi float64
	log    bool
}

func newScale(vals []float64) (scale, bool) {
	lo, hi, ok := span(vals)
	if !ok {
		return scale{}, false
	}
	s := scale{lo: lo, hi: hi}
	if lo > 0 && hi/lo > 20 {
		s = scale{lo: math.Log(lo), hi: math.Log(hi), log: true}
	}
	return s, true
}

func (s scale) at(v float64) float64 {
	if s.log {
		v = math.Log(v)
	}
	if s.hi == s.lo {
		return 0.5
	}
	return max(0, min(1, (v-s.lo)/(s.hi-s.lo)))
}

// sparkline draws vals (resampled to at most w cells) as one line of
// eighth blocks, scaled to their own range.
func sparkline(vals []float64, w int) string {
	cols := bucket(vals, w)
	sc, ok := newScale(cols)
	var b strings.Builder
	for _, v := range cols {
		if !ok || !finite(v) {
			b.WriteRune(' ')
			continue
		}
		b.WriteRune(eighths[1+int(math.Round(sc.at(v)*7))])
	}
	return b.String()
}

// areaChart draws vals as a filled area of w×h cells and returns its h
// lines, top first. sc fixes the scale; nil scales to the values' range
// (see newScale). cursor, if in [0, w), marks one column with the cursor
// style over the whole height.
func areaChart(vals []float64, w, h int, fill, cur lipgloss.Style, cursor int, sc *scale) []string {
	cols := bucket(vals, w)
	auto, ok := newScale(cols)
	if sc != nil {
		auto, ok = *sc, true
	}
	sc = &auto
	levels := make([]int, len(cols))
	for i, v := range cols {
		levels[i] = -1
		if ok && finite(v) {
			levels[i] = max(1, int(math.Round(sc.at(v)*float64(h*8))))
		}
	}
	lines := make([]string, h)
	for r := range h {
		base := (h - 1 - r) * 8 // eighths below this row
		var b strings.Builder
		for c := range w {
			ch := ' '
			if c < len(levels) && levels[c] >= 0 {
				ch = eighths[max(0, min(8, levels[c]-base))]
			}
			switch {
			case c == cursor:
				if ch == ' ' {
					ch = '│'
				}
				b.WriteString(cur.Render(string(ch)))
			case ch == ' ':
				b.WriteRune(' ')
			default:
				b.WriteString(fill.Render(string(ch)))
			}
		}
		lines[r] = b.String()
	}
	return lines
}

// progressBar draws frac ∈ [0, 1] as w cells of full and empty blocks.
func progressBar(frac float64, w int, st *Styles) string {
	if !finite(frac) {
		frac = 0
	}
	n := int(math.Round(max(0, min(1, frac)) * float64(w)))
	return st.BarFull.Render(strings.Repeat("█", n)) + st.BarEmpty.Render(strings.Repeat("░", w-n))
}

// positionBar draws a playhead at frac ∈ [0, 1] on a w-cell line.
func positionBar(frac float64, w int, st *Styles) string {
	if w < 1 {
		return ""
	}
	if !finite(frac) {
		frac = 0
	}
	at := min(w-1, int(float64(w)*max(0, min(1, frac))))
	return st.BarFull.Render(strings.Repeat("━", at)) + st.Playhead.Render("●") + st.BarEmpty.Render(strings.Repeat("─", w-1-at))
}

// meter draws v on a centred scale of ±lim over w cells: a mid mark, and
// a run of blocks from the middle towards v (right for positive values).
// Values past ±lim end in an arrow.
func meter(v, lim float64, w int, st *Styles) string {
	if w < 3 {
		return ""
	}
	mid := w / 2
	half := float64(w - 1 - mid)
	n := 0
	if finite(v) && lim > 0 {
		n = int(math.Round(v / lim * half))
	}
	over := n > int(half) || -n > mid
	n = max(-mid, min(int(half), n))
	var b strings.Builder
	for i := range w {
		d := i - mid
		switch {
		case d == 0:
			b.WriteString(st.MeterMid.Render("│"))
		case n > 0 && d > 0 && d <= n:
			ch := "█"
			if over && d == n {
				ch = "▶"
			}
			b.WriteString(st.MeterPos.Render(ch))
		case n < 0 && d < 0 && d >= n:
			ch := "█"
			if over && d == n {
				ch = "◀"
			}
			b.WriteString(st.MeterNeg.Render(ch))
		default:
			b.WriteString(st.Faint.Render("·"))
		}
	}
	return b.String()
}
