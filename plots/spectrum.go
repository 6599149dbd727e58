package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ravestation/rave/core/latent"
)

// spectrumFloor is the lowest explained variance ratio drawn, relative to
// the largest.
const spectrumFloor = 1e-12

// DefaultFidelity is the fidelity WriteAll marks when Inputs.Fidelity is 0,
// the reference exporter's default (--fidelity 0.95).
const DefaultFidelity = 0.95

// spectrumData is what Spectrum draws.
type spectrumData struct {
	// ratio[i] is the share of variance explained by PCA dimension i+1.
	ratio []float64
	// cum[i] is the cumulative share of the first i+1 dimensions (the
	// analysis' fidelity curve).
	cum []float64
	// exact is the number of dimensions reaching the fidelity; reference
	// the reference exporter's power-of-two count.
	exact, reference int
}

// label names the fidelity marker: "f=0.95 → 5 dims".
func (s spectrumData) label(fidelity float64) string {
	d := len(s.cum)
	if d > 0 && s.cum[d-1] < fidelity {
		return fmt.Sprintf("f=%g not reached (max %.4g) → all %d dims", fidelity, s.cum[d-1], d)
	}
	return fmt.Sprintf("f=%g → %d dims", fidelity, s.exact)
}

// spectrumSeries derives the bars and the cumulative curve of a. Ratios
// come from the per-component variances when present, else from the
// differences of the fidelity curve.
func spectrumSeries(a *latent.Analysis, fidelity float64) (spectrumData, error) {
	var s spectrumData
	if !(fidelity > 0 && fidelity <= 1) {
		return s, fmt.Errorf("plots: spectrum: fidelity %v outside (0, 1]", fidelity)
	}
	if a == nil || len(a.Fidelity) == 0 {
		return s, fmt.Errorf("%w: spectrum: no latent analysis (run the analysis first)", ErrNoData)
	}
	d := len(a.Fidelity)
	s.cum = make([]float64, d)
	for i, v := range a.Fidelity {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return s, fmt.Errorf("plots: spectrum: fidelity[%d] is %v", i, v)
		}
		s.cum[i] = float64(v)
	}
	var total float64
	if len(a.Variance) == d {
		for _, v := range a.Variance {
			if !(v >= 0) || math.IsInf(v, 0) {
				total = math.NaN()
				break
			}
			total += v
		}
	}
	s.ratio = make([]float64, d)
	if total > 0 {
		for i, v := range a.Variance {
			s.ratio[i] = v / total
		}
	} else {
		prev := 0.0
		for i, c := range s.cum {
			s.ratio[i] = max(c-prev, 0)
			prev = c
		}
	}
	if s.cum[d-1] <= 0 || !slices.ContainsFunc(s.ratio, func(r float64) bool { return r > 0 }) {
		return s, fmt.Errorf("%w: spectrum: the analysis explains no variance (untrained model, or the analysis has not run)", ErrNoData)
	}
	s.exact, s.reference = a.DimsForFidelity(fidelity)
	return s, nil
}

// Spectrum returns spectrum.png: the latent PCA spectrum in two aligned
// panels over the PCA dimension. The top panel is the cumulative explained
// variance (linear, 0…1) with the fidelity f as a horizontal line and the k
// dimensions it needs as a vertical line, labelled "f=0.95 → k dims"; the
// reference exporter's power-of-two count is marked too when it differs.
// The bottom panel is the explained variance ratio of each dimension as bars
// on a log axis, with the same k line.
func Spectrum(a *latent.Analysis, fidelity float64) (*Figure, error) {
	s, err := spectrumSeries(a, fidelity)
	if err != nil {
		return nil, err
	}
	d := len(s.cum)
	xmin, xmax := 0.5, float64(d)+0.5
	kStyle := draw.LineStyle{Color: colFidelity, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}
	refStyle := draw.LineStyle{Color: colReference, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
	label := s.label(fidelity)

	title := fmt.Sprintf("latent PCA spectrum: %d dims", d)
	if a.Frames > 0 {
		title += fmt.Sprintf(", %d frames", a.Frames)
	}
	top := newPlot(title, "", "cumulative explained variance")
	top.X.Tick.Marker = plot.TickerFunc(dimTicks)
	addGrid(top)
	cum := make(plotter.XYs, d)
	for i, v := range s.cum {
		cum[i] = plotter.XY{X: float64(i + 1), Y: v}
	}
	line, err := newPolyline(cum, draw.LineStyle{Color: colSmooth, Width: vg.Points(1.5)})
	if err != nil {
		return nil, fmt.Errorf("plots: spectrum: %w", err)
	}
	pts, err := plotter.NewScatter(cum)
	if err != nil {
		return nil, fmt.Errorf("plots: spectrum: %w", err)
	}
	pts.Color, pts.Radius, pts.Shape = colSmooth, vg.Points(2), draw.CircleGlyph{}
	if d > 64 {
		pts.Radius = vg.Points(1)
	}
	top.Add(line, pts)
	legend := &legendBox{Bottom: true}
	legend.Add("cumulative explained variance", line, pts)
	fLine := &refLine{At: fidelity, Style: kStyle}
	kLine := &refLine{Vertical: true, At: float64(s.exact), Style: kStyle}
	top.Add(fLine, kLine)
	legend.Add(label, kLine)
	if s.reference != s.exact {
		rLine := &refLine{Vertical: true, At: float64(s.reference), Style: refStyle}
		top.Add(rLine)
		legend.Add(fmt.Sprintf("reference exporter keeps %d (index of first > f, up to a power of two)", s.reference), rLine)
	}
	top.Add(&note{
		X: float64(s.exact), Y: fidelity, DX: vg.Points(6), DY: -vg.Points(6), Text: label,
		Style: labelStyle(vg.Points(11), colFidelity, draw.XLeft, draw.YTop),
	})
	top.Add(legend)
	top.X.Min, top.X.Max = xmin, xmax
	top.Y.Min, top.Y.Max = 0, 1

	bottom := newPlot("", "PCA dimension", "explained variance ratio (log)")
	bottom.X.Tick.Marker = plot.TickerFunc(dimTicks)
	bottom.Y.Scale = plot.LogScale{}
	bottom.Y.Tick.Marker = plot.TickerFunc(logTicks)
	addGrid(bottom)
	bars := &logBars{Values: s.ratio, Color: colBars}
	bottom.Add(bars)
	bottom.Add(&refLine{Vertical: true, At: float64(s.exact), Style: kStyle})
	if s.reference != s.exact {
		bottom.Add(&refLine{Vertical: true, At: float64(s.reference), Style: refStyle})
	}
	bottom.X.Min, bottom.X.Max = xmin, xmax
	fixLogRange(bottom, true)
	bottom.Y.Min /= 2   // the smallest bar keeps some height
	bottom.Y.Max *= 1.5 // and the largest some headroom
	// Ratios far below the largest are rounding noise of the SVD; showing
	// them down to 1e-30 would squash the dims that matter.
	if floor := bottom.Y.Max * spectrumFloor; bottom.Y.Min < floor {
		bottom.Y.Min = floor
	}
	if hidden := d - bars.above(bottom.Y.Min); hidden > 0 {
		bottom.Title.Text = fmt.Sprintf("%d dims below %g of the largest ratio (SVD rounding noise) not drawn", hidden, spectrumFloor)
	}
	return &Figure{Name: "spectrum.png", Rows: [][]*plot.Plot{{top}, {bottom}}}, nil
}

// logBars is a bar chart that works on a log axis: bar i (value Values[i])
// is centred on x = i+1 and rises from the bottom of the data area, since a
// log axis has no zero to start from. Values ≤ 0 are not drawn.
type logBars struct {
	Values []float64
	Color  color.Color
}

// above counts the finite bars taller than floor.
func (b *logBars) above(floor float64) int {
	n := 0
	for _, v := range b.Values {
		if v > floor && !math.IsInf(v, 0) {
			n++
		}
	}
	return n
}

// Plot implements plot.Plotter.
func (b *logBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, v := range b.Values {
		if !(v > 0) || math.IsInf(v, 0) {
			continue
		}
		x0, x1 := trX(float64(i+1)-0.4), trX(float64(i+1)+0.4)
		if x1-x0 < 1 {
			x1 = x0 + 1
		}
		y := trY(v)
		poly := c.ClipPolygonXY([]vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: y}, {X: x0, Y: y}})
		if len(poly) > 0 {
			c.FillPolygon(b.Color, poly)
		}
	}
}

// DataRange implements plot.DataRanger.
func (b *logBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, v := range b.Values {
		if v > 0 && !math.IsInf(v, 0) {
			ymin, ymax = min(ymin, v), max(ymax, v)
		}
	}
	return 0.5, float64(len(b.Values)) + 0.5, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer.
func (b *logBars) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(b.Color, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}
