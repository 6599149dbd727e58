package plots

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// logTicks marks a log axis so that at least two ticks carry labels whatever
// the range: decades when the range spans two or more, else 1-2-5 steps,
// else every integer multiple, else plain linear ticks for a range that sits
// between two adjacent multiples. gonum's plot.LogTicks labels only powers
// of ten, so a loss moving between 0.3 and 0.5 would get no label at all.
// Non-positive or non-finite bounds give no ticks rather than a panic.
func logTicks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max >= min) || math.IsInf(max, 0) {
		return nil
	}
	if max == min {
		return []plot.Tick{{Value: min, Label: fmtNum(min)}}
	}
	lo := int(math.Floor(math.Log10(min)))
	hi := int(math.Ceil(math.Log10(max)))
	decades := hi - lo
	every := 1 // label every n-th decade on very wide ranges
	if decades > 8 {
		every = (decades + 7) / 8
	}
	in := func(v float64) bool { return v >= min*(1-1e-9) && v <= max*(1+1e-9) }
	for _, mults := range [][]int{{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		var ticks []plot.Tick
		labelled := 0
		for e := lo; e <= hi; e++ {
			base := math.Pow10(e)
			for m := 1; m <= 9; m++ {
				v := float64(m) * base
				if !in(v) {
					continue
				}
				major := (m == 1 && (e-lo)%every == 0) || (m != 1 && every == 1 && slices.Contains(mults, m))
				switch {
				case major:
					ticks = append(ticks, plot.Tick{Value: v, Label: fmtNum(v)})
					labelled++
				case decades <= 6 || m == 1: // minor ticks, thinned on wide ranges
					ticks = append(ticks, plot.Tick{Value: v})
				}
			}
		}
		if labelled >= 2 {
			return ticks
		}
	}
	var ticks []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(min, max) {
		if t.Value <= 0 {
			continue
		}
		if t.Label != "" {
			t.Label = fmtNum(t.Value)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// stepTicks is gonum's default ticker with compact labels for step counts
// (250k, 1.5M instead of 250000, 1.5e+06).
func stepTicks(min, max float64) []plot.Tick {
	ticks := (plot.DefaultTicks{}).Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = fmtCount(ticks[i].Value)
		}
	}
	return ticks
}

// dimTicks marks integer dimension numbers: 1 and multiples of a power-of-two
// step chosen for at most about ten labels, with minor ticks at every
// integer when there are few.
func dimTicks(min, max float64) []plot.Tick {
	lo, hi := int(math.Ceil(min)), int(math.Floor(max))
	if hi < lo || hi-lo > 1<<20 {
		return nil
	}
	n := hi - lo + 1
	step := 1
	for n/step > 10 {
		step *= 2
	}
	var ticks []plot.Tick
	for d := lo; d <= hi; d++ {
		switch {
		case d == 1 || d%step == 0:
			ticks = append(ticks, plot.Tick{Value: float64(d), Label: strconv.Itoa(d)})
		case n <= 64:
			ticks = append(ticks, plot.Tick{Value: float64(d)})
		}
	}
	return ticks
}

// fmtNum formats a tick value with at most four significant digits and a
// short exponent: 0.3, 1500, 1e-5, 2.5e6.
func fmtNum(v float64) string {
	s := strconv.FormatFloat(v, 'g', 4, 64)
	i := strings.IndexByte(s, 'e')
	if i < 0 {
		return s
	}
	mant, exp := s[:i], s[i+1:]
	sign := ""
	if exp[0] == '-' {
		sign = "-"
	}
	return mant + "e" + sign + strings.TrimLeft(exp[1:], "0")
}

// fmtCount formats a count compactly: 950, 12k, 1.5M.
func fmtCount(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
