package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/train/runlog"
)

// YScale chooses the scale of a loss axis.
type YScale int

const (
	// ScaleAuto uses a log axis when every plotted value of the term is
	// positive and a linear one otherwise (adversarial terms can be negative).
	ScaleAuto YScale = iota
	// ScaleLog forces a log axis; values ≤ 0 are dropped and counted in the
	// legend.
	ScaleLog
	// ScaleLinear forces a linear axis.
	ScaleLinear
)

// DefaultSmooth is the EMA weight WriteAll uses when no LossOptions are given.
const DefaultSmooth = 0.9

// LossOptions tunes LossCurves. The zero value plots every term, raw, on a
// log axis where the values allow it.
type LossOptions struct {
	// Terms selects loss terms and their order; empty means every term found
	// in the records, sorted by name.
	Terms []string
	// Smooth is the weight w of an exponential moving average drawn over the
	// raw curve, which then turns faint: s_i = w·s_{i−1} + (1−w)·x_i,
	// debiased by 1 − wⁱ as TensorBoard's smoothing slider. 0 draws the raw
	// curve only; values outside [0, 1) are an error.
	Smooth float64
	// Scale chooses the y axis scale.
	Scale YScale
}

// DefaultLossOptions returns the options WriteAll uses when Inputs.Loss is
// nil: every term, EMA smoothing DefaultSmooth, automatic scale.
func DefaultLossOptions() LossOptions { return LossOptions{Smooth: DefaultSmooth} }

// lossData is one loss term cleaned for plotting: finite points sorted by
// step, with what was dropped counted.
type lossData struct {
	term string
	// train holds step records (kind "step"), valid validation records.
	train, valid plotter.XYs
	// nonFinite counts NaN and ±Inf values dropped (train and valid).
	nonFinite int
	// nonPositive counts finite values ≤ 0 (still in train/valid until a
	// log axis drops them).
	nonPositive int
}

// lossPoint is one logged value before cleaning.
type lossPoint struct {
	step int64
	v    float64
}

// appendResumed appends p to pts, first dropping points at or after p.step:
// when a run resumes from a checkpoint older than its last logged step, the
// log holds those steps twice and the later lines win.
func appendResumed(pts []lossPoint, p lossPoint) []lossPoint {
	if n := len(pts); n > 0 && pts[n-1].step >= p.step {
		i := sort.Search(n, func(i int) bool { return pts[i].step >= p.step })
		pts = pts[:i]
	}
	return append(pts, p)
}

// isTrainRecord reports whether r is a training step (old logs may carry no
// kind).
func isTrainRecord(r *sessions.MetricsRecord) bool {
	return r.Kind == runlog.EventStep || r.Kind == ""
}

// lossSeries extracts term from records: training steps and validation
// records as two series, NaN/±Inf dropped and counted, replayed steps after
// a resume superseded by the later lines.
func lossSeries(records []sessions.MetricsRecord, term string) lossData {
	var tr, va []lossPoint
	for i := range records {
		r := &records[i]
		v, ok := r.Losses[term]
		if !ok {
			continue
		}
		switch {
		case isTrainRecord(r):
			tr = appendResumed(tr, lossPoint{r.Step, v})
		case r.Kind == runlog.EventValidation:
			va = appendResumed(va, lossPoint{r.Step, v})
		}
	}
	d := lossData{term: term}
	clean := func(pts []lossPoint) plotter.XYs {
		xys := make(plotter.XYs, 0, len(pts))
		for _, p := range pts {
			if math.IsNaN(p.v) || math.IsInf(p.v, 0) {
				d.nonFinite++
				continue
			}
			if p.v <= 0 {
				d.nonPositive++
			}
			xys = append(xys, plotter.XY{X: float64(p.step), Y: p.v})
		}
		return xys
	}
	d.train, d.valid = clean(tr), clean(va)
	return d
}

// positiveOnly returns the points with y > 0.
func positiveOnly(xys plotter.XYs) plotter.XYs {
	out := make(plotter.XYs, 0, len(xys))
	for _, p := range xys {
		if p.Y > 0 {
			out = append(out, p)
		}
	}
	return out
}

// stageBoundary returns the step at which the log switches from stage 1 to
// stage 2: the step of the first stage-2 record that follows a stage-1
// record. After a resume back into stage 1 the last switch counts. ok is
// false when the log never switches.
func stageBoundary(records []sessions.MetricsRecord) (step int64, ok bool) {
	prev := 0
	for _, r := range records {
		switch r.Stage {
		case int(runlog.StageVAE):
			prev = r.Stage
		case int(runlog.StageAdversarial):
			if prev == int(runlog.StageVAE) {
				step, ok = r.Step, true
			}
			prev = r.Stage
		}
	}
	return step, ok
}

// stepRange returns the first and last step of the training and validation
// records that carry losses.
func stepRange(records []sessions.MetricsRecord) (first, last float64) {
	first, last = math.Inf(1), math.Inf(-1)
	for i := range records {
		r := &records[i]
		if len(r.Losses) > 0 && (isTrainRecord(r) || r.Kind == runlog.EventValidation) {
			first, last = min(first, float64(r.Step)), max(last, float64(r.Step))
		}
	}
	return first, last
}

// lossTerms returns every loss name in records, sorted.
func lossTerms(records []sessions.MetricsRecord) []string {
	seen := map[string]bool{}
	for _, r := range records {
		for k := range r.Losses {
			seen[k] = true
		}
	}
	terms := make([]string, 0, len(seen))
	for k := range seen {
		terms = append(terms, k)
	}
	sort.Strings(terms)
	return terms
}

// ema returns the debiased exponential moving average of xys with weight w.
func ema(xys plotter.XYs, w float64) plotter.XYs {
	out := make(plotter.XYs, len(xys))
	var acc, norm float64
	for i, p := range xys {
		acc = w*acc + (1-w)*p.Y
		norm = w*norm + (1 - w)
		out[i] = plotter.XY{X: p.X, Y: acc / norm}
	}
	return out
}

// fileSafe turns a loss name into a file-name fragment.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "term"
	}
	return b.String()
}

func checkLossOptions(o LossOptions) error {
	if !(o.Smooth >= 0 && o.Smooth < 1) {
		return fmt.Errorf("plots: loss smoothing %v outside [0, 1)", o.Smooth)
	}
	if o.Scale < ScaleAuto || o.Scale > ScaleLinear {
		return fmt.Errorf("plots: unknown loss scale %d", o.Scale)
	}
	return nil
}

// LossCurves returns one figure per loss term, named loss_<term>.png: the
// term against the training step, validation values as dots, the switch
// from stage 1 to stage 2 as a vertical line with the stage-2 side shaded,
// NaN/±Inf values dropped and counted in the legend, an optional EMA over a
// faint raw curve, on a log axis where the values allow it.
//
// A term with nothing finite to draw is left out, and the returned error
// (wrapping ErrNoData, one line per term) says why; the other figures are
// still returned. Records without any loss values give only an error.
func LossCurves(records []sessions.MetricsRecord, opts LossOptions) ([]*Figure, error) {
	panels, err := lossPanels(records, opts, false)
	figs := make([]*Figure, 0, len(panels))
	used := map[string]bool{}
	for _, pn := range panels {
		name := "loss_" + fileSafe(pn.term)
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("loss_%s_%d", fileSafe(pn.term), i)
		}
		used[name] = true
		figs = append(figs, &Figure{Name: name + ".png", Rows: [][]*plot.Plot{{pn.plot}}})
	}
	return figs, err
}

// LossOverview returns every loss term on one grid of small panels, named
// losses.png, with the same content as LossCurves but no legends. Terms with
// nothing to draw are left out and reported in the error as LossCurves does.
func LossOverview(records []sessions.MetricsRecord, opts LossOptions) (*Figure, error) {
	panels, err := lossPanels(records, opts, true)
	if len(panels) == 0 {
		return nil, err
	}
	cols := 1
	for cols*cols < len(panels) && cols < 3 {
		cols++
	}
	var rows [][]*plot.Plot
	for i, pn := range panels {
		if i%cols == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], pn.plot)
	}
	return &Figure{Name: "losses.png", Rows: rows}, err
}

type lossPanel struct {
	term string
	plot *plot.Plot
}

// lossPanels builds one plot per term. compact drops legends (for the
// overview grid).
func lossPanels(records []sessions.MetricsRecord, opts LossOptions, compact bool) ([]lossPanel, error) {
	if err := checkLossOptions(opts); err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%w: no metrics records (has training started?)", ErrNoData)
	}
	terms := opts.Terms
	if len(terms) == 0 {
		terms = lossTerms(records)
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("%w: %d metrics records hold no loss values", ErrNoData, len(records))
	}
	boundary, hasBoundary := stageBoundary(records)
	first, last := stepRange(records)
	var panels []lossPanel
	var errs []error
	seen := map[string]bool{}
	for _, term := range terms {
		if seen[term] {
			continue
		}
		seen[term] = true
		p, err := lossPlot(lossSeries(records, term), opts, boundary, hasBoundary, compact)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Every term spans the whole run, so a stage-2-only term still shows
		// where stage 1 was, and panels line up.
		p.X.Min, p.X.Max = min(p.X.Min, first), max(p.X.Max, last)
		panels = append(panels, lossPanel{term, p})
	}
	return panels, errors.Join(errs...)
}

// boundaryStyle draws the stage 1 → 2 line.
var boundaryStyle = draw.LineStyle{Color: colBoundary, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}

// lossPlot draws one cleaned term.
func lossPlot(d lossData, opts LossOptions, boundary int64, hasBoundary, compact bool) (*plot.Plot, error) {
	useLog := opts.Scale == ScaleLog || (opts.Scale == ScaleAuto && d.nonPositive == 0)
	trainPts, validPts := d.train, d.valid
	var nonPos int
	if useLog {
		trainPts, validPts = positiveOnly(trainPts), positiveOnly(validPts)
		nonPos = len(d.train) + len(d.valid) - len(trainPts) - len(validPts)
	}
	notes := dropNotes(d.nonFinite, nonPos)
	if len(trainPts)+len(validPts) == 0 {
		why := "not logged"
		if len(notes) > 0 {
			why = strings.Join(notes, ", ")
		}
		return nil, fmt.Errorf("%w: loss %q: no drawable values (%s)", ErrNoData, d.term, why)
	}

	title := d.term
	switch {
	case useLog:
		title += " (log scale)"
	case opts.Scale == ScaleAuto:
		title += " (linear scale: has values ≤ 0)"
	}
	if len(notes) > 0 && (compact || len(trainPts) == 0) {
		// No legend entry carries the drop counts here, so the title does.
		title += " — " + strings.Join(notes, ", ")
	}
	p := newPlot(title, "step", "loss")
	p.X.Tick.Marker = plot.TickerFunc(stepTicks)
	if useLog {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.TickerFunc(logTicks)
	}
	addGrid(p)
	if hasBoundary {
		p.Add(&refLine{Vertical: true, At: float64(boundary), Shade: colStage2, Style: boundaryStyle, Before: "stage 1", After: "stage 2"})
	}
	legend := &legendBox{YOffs: vg.Points(14)} // below the stage labels along the top
	if err := addTrain(p, legend, trainPts, opts.Smooth, notes); err != nil {
		return nil, fmt.Errorf("plots: loss %q: %w", d.term, err)
	}
	if err := addValidation(p, legend, validPts); err != nil {
		return nil, fmt.Errorf("plots: loss %q: %w", d.term, err)
	}
	if hasBoundary {
		legend.Add(fmt.Sprintf("stage 1 → 2 at step %s", fmtCount(float64(boundary))), &refLine{Style: boundaryStyle})
	}
	if !compact {
		p.Add(legend)
	}
	fixLogRange(p, useLog)
	return p, nil
}

// dropNotes says what cleaning removed, for legends and errors.
func dropNotes(nonFinite, nonPositive int) []string {
	var notes []string
	if nonFinite > 0 {
		notes = append(notes, fmt.Sprintf("%d NaN/Inf dropped", nonFinite))
	}
	if nonPositive > 0 {
		notes = append(notes, fmt.Sprintf("%d ≤ 0 dropped (log axis)", nonPositive))
	}
	return notes
}

// addTrain draws the training curve: raw, or faint raw under an EMA with
// weight smooth; dots when there are only a few points. notes go into the
// raw curve's legend entry.
func addTrain(p *plot.Plot, legend *legendBox, pts plotter.XYs, smooth float64, notes []string) error {
	if len(pts) == 0 {
		return nil
	}
	smoothed := smooth > 0 && len(pts) > 1
	name, col := "train", color.Color(colRaw)
	if smoothed {
		name, col = "train (raw)", colRawFaint
	}
	if len(notes) > 0 {
		name += " — " + strings.Join(notes, ", ")
	}
	raw, err := newPolyline(decimate(pts, maxLinePoints/4), draw.LineStyle{Color: col, Width: vg.Points(1)})
	if err != nil {
		return err
	}
	p.Add(raw)
	legend.Add(name, raw)
	if len(pts) <= 30 { // a few points: show them, a lone one would be invisible
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return err
		}
		sc.Color, sc.Radius, sc.Shape = col, vg.Points(2), draw.CircleGlyph{}
		p.Add(sc)
	}
	if smoothed {
		sm, err := newPolyline(decimate(ema(pts, smooth), maxLinePoints/4), draw.LineStyle{Color: colSmooth, Width: vg.Points(1.6)})
		if err != nil {
			return err
		}
		p.Add(sm)
		legend.Add(fmt.Sprintf("train (EMA %g)", smooth), sm)
	}
	return nil
}

// addValidation draws validation values as dots joined by a thin line.
func addValidation(p *plot.Plot, legend *legendBox, pts plotter.XYs) error {
	if len(pts) == 0 {
		return nil
	}
	pts = decimate(pts, maxLinePoints/4)
	vl, err := newPolyline(pts, draw.LineStyle{Color: colValid, Width: vg.Points(1)})
	if err != nil {
		return err
	}
	vs, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	vs.Color, vs.Radius, vs.Shape = colValid, vg.Points(2.5), draw.CircleGlyph{}
	p.Add(vl, vs)
	legend.Add("validation", vl, vs)
	return nil
}

// fixLogRange widens a degenerate axis range: gonum turns Min == Max into
// Min−1 … Max+1, which a log axis cannot show when Min ≤ 1.
func fixLogRange(p *plot.Plot, useLog bool) {
	if useLog && p.Y.Min == p.Y.Max && p.Y.Min > 0 {
		p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Max*2
	}
}

// maxLinePoints bounds the points of one drawn line. gonum's raster backend
// slows down sharply on long paths (300k points take minutes), and a
// 1200-pixel-wide image cannot show more than a few per pixel anyway.
const maxLinePoints = 6000

// decimate thins xys (sorted by x) to at most about 4·buckets points: the
// x range is cut into buckets and each keeps its first, lowest, highest and
// last point in their original order (the M4 scheme), so spikes such as a
// diverging step survive. Short series come back unchanged.
func decimate(xys plotter.XYs, buckets int) plotter.XYs {
	n := len(xys)
	if n <= 4*buckets || buckets < 1 {
		return xys
	}
	x0, x1 := xys[0].X, xys[n-1].X
	span := x1 - x0
	if !(span > 0) {
		return xys
	}
	out := make(plotter.XYs, 0, 4*buckets)
	keep := func(first, last int) {
		lo, hi := first, first
		for i := first; i <= last; i++ {
			if xys[i].Y < xys[lo].Y {
				lo = i
			}
			if xys[i].Y > xys[hi].Y {
				hi = i
			}
		}
		idx := []int{first, lo, hi, last}
		slices.Sort(idx)
		for j, i := range idx {
			if j == 0 || i != idx[j-1] {
				out = append(out, xys[i])
			}
		}
	}
	start, cur := 0, 0
	for i, p := range xys {
		b := min(int((p.X-x0)/span*float64(buckets)), buckets-1)
		if b != cur {
			keep(start, i-1)
			start, cur = i, b
		}
	}
	keep(start, n-1)
	return out
}
