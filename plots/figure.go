package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// ErrNoData is wrapped by every error that means "there was nothing usable
// to draw": no records, an all-NaN series, empty audio. Callers that write
// several plots treat it as a skipped plot rather than a failure:
//
//	if errors.Is(err, plots.ErrNoData) { log.Print("skipped: ", err) }
var ErrNoData = errors.New("plots: nothing to plot")

// DPI is the resolution of PNG output. Px converts pixels to lengths at it.
const DPI = vgimg.DefaultDPI

// MaxPixels bounds each side of a rendered PNG; larger requests are refused
// rather than allocating gigabytes.
const MaxPixels = 8192

// Px returns the vg.Length that renders as n pixels in a PNG.
func Px(n int) vg.Length { return vg.Length(n) * vg.Inch / DPI }

// Figure is one image: gonum plots tiled on a grid with aligned data areas,
// an optional full-width strip underneath (a colour bar), and the file name
// WriteAll gives it. Callers may restyle the plots before rendering.
type Figure struct {
	// Name is the file name WriteAll uses, e.g. "loss_kl.png".
	Name string
	// Rows holds the panels row by row; a short row leaves empty tiles.
	Rows [][]*plot.Plot
	// Strip, if not nil, is drawn under the grid across the full width.
	Strip *plot.Plot
	// StripHeight is the share of the image height given to Strip.
	StripHeight float64
}

// single returns the only plot of a one-panel figure without a strip.
func (f *Figure) single() *plot.Plot {
	if f.Strip != nil || len(f.Rows) != 1 || len(f.Rows[0]) != 1 {
		return nil
	}
	return f.Rows[0][0]
}

// WriterTo renders the figure at w×h in format ("png", "svg", "pdf" …, as
// gonum's plot.WriterTo) and returns the encoder. Rendering happens here;
// the returned io.WriterTo only encodes. A drawing failure inside gonum/plot
// (it panics on some inputs) comes back as an error.
func (f *Figure) WriterTo(w, h vg.Length, format string) (wt io.WriterTo, err error) {
	if !(w > 0 && h > 0) {
		return nil, fmt.Errorf("plots: %s: bad size %v×%v", f.Name, w, h)
	}
	if len(f.Rows) == 0 && f.Strip == nil {
		return nil, fmt.Errorf("%w: %s: figure has no panels", ErrNoData, f.Name)
	}
	defer func() {
		if r := recover(); r != nil {
			wt, err = nil, fmt.Errorf("plots: render %s: %v", f.Name, r)
		}
	}()
	if p := f.single(); p != nil {
		wt, err := p.WriterTo(w, h, format)
		if err != nil {
			return nil, fmt.Errorf("plots: %s: %w", f.Name, err)
		}
		return wt, nil
	}
	c, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return nil, fmt.Errorf("plots: %s: %w", f.Name, err)
	}
	dc := draw.New(c)
	grid, strip := dc, dc
	if f.Strip != nil {
		frac := f.StripHeight
		if !(frac > 0 && frac < 1) {
			frac = 0.15
		}
		h := dc.Max.Y - dc.Min.Y
		sh := h * vg.Length(frac)
		if len(f.Rows) == 0 {
			sh = h
		}
		grid = draw.Crop(dc, 0, 0, sh, 0)
		strip = draw.Crop(dc, 0, 0, 0, sh-h)
	}
	if len(f.Rows) > 0 {
		cols := 0
		for _, row := range f.Rows {
			cols = max(cols, len(row))
		}
		panels := make([][]*plot.Plot, len(f.Rows))
		for j, row := range f.Rows {
			panels[j] = make([]*plot.Plot, cols)
			copy(panels[j], row)
		}
		tiles := draw.Tiles{
			Rows: len(panels), Cols: cols,
			PadX: vg.Points(12), PadY: vg.Points(10),
			PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8),
		}
		canvases := plot.Align(panels, tiles, grid)
		for j, row := range panels {
			for i, p := range row {
				if p != nil {
					p.Draw(canvases[j][i])
				}
			}
		}
		// Line the strip (a colour bar) up with the data area of the grid.
		if p := panels[0][0]; p != nil && f.Strip != nil && cols == 1 {
			da := p.DataCanvas(canvases[0][0])
			strip = draw.Crop(strip, da.Min.X-strip.Min.X, da.Max.X-strip.Max.X, 0, 0)
		}
	}
	if f.Strip != nil {
		f.Strip.Draw(strip)
	}
	return c, nil
}

// PNG renders the figure as a PNG image of width×height pixels.
func (f *Figure) PNG(width, height int) ([]byte, error) {
	if err := checkPixels(width, height); err != nil {
		return nil, fmt.Errorf("plots: %s: %w", f.Name, err)
	}
	wt, err := f.WriterTo(Px(width), Px(height), "png")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: encode %s: %w", f.Name, err)
	}
	return buf.Bytes(), nil
}

func checkPixels(width, height int) error {
	if width <= 0 || height <= 0 || width > MaxPixels || height > MaxPixels {
		return fmt.Errorf("image size %d×%d pixels out of range 1…%d", width, height, MaxPixels)
	}
	return nil
}

// Colours and styles shared by every plot, in one place.
var (
	colRaw       = color.NRGBA{R: 31, G: 119, B: 180, A: 255}
	colRawFaint  = color.NRGBA{R: 31, G: 119, B: 180, A: 70}
	colSmooth    = color.NRGBA{R: 8, G: 48, B: 107, A: 255}
	colValid     = color.NRGBA{R: 230, G: 110, B: 20, A: 255}
	colBoundary  = color.NRGBA{R: 180, G: 30, B: 40, A: 255}
	colStage2    = color.NRGBA{R: 180, G: 30, B: 40, A: 18}
	colFidelity  = color.NRGBA{R: 180, G: 30, B: 40, A: 255}
	colReference = color.NRGBA{R: 110, G: 110, B: 110, A: 255}
	colBars      = color.NRGBA{R: 70, G: 130, B: 180, A: 255}
	colGrid      = color.NRGBA{R: 0, G: 0, B: 0, A: 28}
	colNaN       = color.NRGBA{R: 128, G: 128, B: 128, A: 255}

	// lineColors is a qualitative palette for many lines on one axis.
	lineColors = []color.Color{
		color.NRGBA{R: 31, G: 119, B: 180, A: 255},
		color.NRGBA{R: 255, G: 127, B: 14, A: 255},
		color.NRGBA{R: 44, G: 160, B: 44, A: 255},
		color.NRGBA{R: 214, G: 39, B: 40, A: 255},
		color.NRGBA{R: 148, G: 103, B: 189, A: 255},
		color.NRGBA{R: 140, G: 86, B: 75, A: 255},
		color.NRGBA{R: 227, G: 119, B: 194, A: 255},
		color.NRGBA{R: 90, G: 90, B: 90, A: 255},
		color.NRGBA{R: 188, G: 189, B: 34, A: 255},
		color.NRGBA{R: 23, G: 190, B: 207, A: 255},
	}
	// lineDashes distinguishes lines once the colours repeat.
	lineDashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}
)

// sans is the typeface of every label.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot with the package's fonts and title.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.Title.TextStyle.Font = font.From(sans, vg.Points(13))
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sans, vg.Points(11))
		ax.Tick.Label.Font = font.From(sans, vg.Points(10))
	}
	return p
}

// addGrid adds faint grid lines under the data.
func addGrid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Vertical.Color = colGrid
	g.Horizontal.Color = colGrid
	p.Add(g)
}

func labelStyle(size vg.Length, c color.Color, xa text.XAlignment, ya text.YAlignment) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(sans, size),
		XAlign:  xa,
		YAlign:  ya,
		Handler: plot.DefaultTextHandler,
	}
}

// refLine is a plot.Plotter drawing a line across the whole data area at a
// data coordinate: vertical at x = At, or horizontal at y = At. Labels are
// drawn along the top edge (vertical) or the left end (horizontal); Shade
// fills the area after a vertical line.
type refLine struct {
	Vertical bool
	At       float64
	Style    draw.LineStyle
	// Before and After are labels drawn just left and right of a vertical
	// line at the top of the data area, or above a horizontal line.
	Before, After string
	Shade         color.Color
}

// Plot implements plot.Plotter.
func (r *refLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	const pad = 4
	sty := labelStyle(vg.Points(10), r.Style.Color, draw.XLeft, draw.YTop)
	if r.Vertical {
		x := trX(r.At)
		if !c.ContainsX(x) {
			return
		}
		if r.Shade != nil {
			c.FillPolygon(r.Shade, []vg.Point{{X: x, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: x, Y: c.Max.Y}})
		}
		c.StrokeLine2(r.Style, x, c.Min.Y, x, c.Max.Y)
		if r.After != "" {
			c.FillText(sty, vg.Point{X: x + pad, Y: c.Max.Y - pad}, r.After)
		}
		if r.Before != "" {
			sty.XAlign = draw.XRight
			c.FillText(sty, vg.Point{X: x - pad, Y: c.Max.Y - pad}, r.Before)
		}
		return
	}
	if p.Y.Scale != nil {
		if _, isLog := p.Y.Scale.(plot.LogScale); isLog && r.At <= 0 {
			return
		}
	}
	y := trY(r.At)
	if !c.ContainsY(y) {
		return
	}
	c.StrokeLine2(r.Style, c.Min.X, y, c.Max.X, y)
	sty.YAlign = draw.YBottom
	if r.Before != "" {
		c.FillText(sty, vg.Point{X: c.Min.X + pad, Y: y + pad/2}, r.Before)
	}
	if r.After != "" {
		sty.XAlign = draw.XRight
		c.FillText(sty, vg.Point{X: c.Max.X - pad, Y: y + pad/2}, r.After)
	}
}

// DataRange implements plot.DataRanger: the line widens only its own axis.
func (r *refLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	inf := math.Inf(1)
	if r.Vertical {
		return r.At, r.At, inf, -inf
	}
	return inf, -inf, r.At, r.At
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (r *refLine) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(r.Style, c.Min.X, y, c.Max.X, y)
}

// note is a plot.Plotter drawing text at a data point, offset in points.
type note struct {
	X, Y   float64
	DX, DY vg.Length
	Text   string
	Style  text.Style
}

// Plot implements plot.Plotter.
func (n *note) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	c.FillText(n.Style, vg.Point{X: trX(n.X) + n.DX, Y: trY(n.Y) + n.DY}, n.Text)
}

// legendBox is a legend drawn as the last plotter, inside a corner of the
// data area on a translucent white box so that it stays readable over data.
// gonum's own legend has no background.
type legendBox struct {
	entries []legendEntry
	// Bottom and Left choose the corner; the default is top right.
	Bottom, Left bool
	// YOffs moves the box down (top corners) or up (bottom corners).
	YOffs vg.Length
}

type legendEntry struct {
	text   string
	thumbs []plot.Thumbnailer
}

// Add appends an entry drawn with the thumbnails of thumbs.
func (l *legendBox) Add(text string, thumbs ...plot.Thumbnailer) {
	l.entries = append(l.entries, legendEntry{text, thumbs})
}

// Plot implements plot.Plotter.
func (l *legendBox) Plot(c draw.Canvas, _ *plot.Plot) {
	if len(l.entries) == 0 {
		return
	}
	sty := labelStyle(vg.Points(10), color.Black, draw.XLeft, draw.YCenter)
	lineH := sty.FontExtents().Height * 1.25
	thumbW, gap, pad, margin := vg.Points(20), vg.Points(5), vg.Points(5), vg.Points(6)
	var textW vg.Length
	for _, e := range l.entries {
		textW = max(textW, sty.Width(e.text))
	}
	w := pad + thumbW + gap + textW + pad
	h := 2*pad + lineH*vg.Length(len(l.entries))
	x0 := c.Max.X - margin - w
	if l.Left {
		x0 = c.Min.X + margin
	}
	y1 := c.Max.Y - margin - l.YOffs
	if l.Bottom {
		y1 = c.Min.Y + margin + l.YOffs + h
	}
	box := []vg.Point{{X: x0, Y: y1 - h}, {X: x0 + w, Y: y1 - h}, {X: x0 + w, Y: y1}, {X: x0, Y: y1}}
	c.FillPolygon(color.NRGBA{R: 255, G: 255, B: 255, A: 215}, box)
	c.StrokeLines(draw.LineStyle{Color: color.NRGBA{A: 90}, Width: vg.Points(0.5)}, append(box, box[0]))
	for i, e := range l.entries {
		top := y1 - pad - lineH*vg.Length(i)
		icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x0 + pad, Y: top - lineH},
			Max: vg.Point{X: x0 + pad + thumbW, Y: top},
		}}
		for _, t := range e.thumbs {
			t.Thumbnail(&icon)
		}
		c.FillText(sty, vg.Point{X: x0 + pad + thumbW + gap, Y: top - lineH/2}, e.text)
	}
}

// strokeChunk is how many segments polyline strokes at a time.
const strokeChunk = 32

// polyline is a plotter.Line that strokes its path in short pieces. The
// raster backend's cost grows much faster than the length of one path: a
// 2,000-point zigzag (a noisy loss curve) stroked as one path takes ~25 s,
// in pieces of 32 segments ~0.25 s, and looks the same.
type polyline struct {
	xys plotter.XYs
	draw.LineStyle
}

// newPolyline copies xys, which must be finite (plotter.CopyXYs rejects NaN
// and ±Inf), into a line drawn with sty.
func newPolyline(xys plotter.XYer, sty draw.LineStyle) (*polyline, error) {
	c, err := plotter.CopyXYs(xys)
	if err != nil {
		return nil, err
	}
	return &polyline{xys: c, LineStyle: sty}, nil
}

// Plot implements plot.Plotter.
func (l *polyline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	pts := make([]vg.Point, len(l.xys))
	for i, q := range l.xys {
		pts[i] = vg.Point{X: trX(q.X), Y: trY(q.Y)}
	}
	for s := 0; s < len(pts)-1; s += strokeChunk {
		e := min(s+strokeChunk+1, len(pts)) // pieces share their end points
		c.StrokeLines(l.LineStyle, c.ClipLinesXY(pts[s:e])...)
	}
}

// DataRange implements plot.DataRanger.
func (l *polyline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return plotter.XYRange(l.xys)
}

// Thumbnail implements plot.Thumbnailer.
func (l *polyline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.LineStyle, c.Min.X, y, c.Max.X, y)
}
