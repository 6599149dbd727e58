package plots

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DefaultLatentDims is how many latent dimensions WriteAll draws when
// Inputs.LatentDims is 0.
const DefaultLatentDims = 8

// latentSeries returns dimension dim of z (dims × frames) against time in
// seconds, NaN/±Inf frames dropped and counted.
func latentSeries(row []float32, frameRate float64) (xys plotter.XYs, dropped int) {
	xys = make(plotter.XYs, 0, len(row))
	for t, v := range row {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			dropped++
			continue
		}
		xys = append(xys, plotter.XY{X: float64(t) / frameRate, Y: float64(v)})
	}
	return xys, dropped
}

// LatentTrajectories returns latents.png: the first maxDims dimensions of z
// (dims × frames, as the encoder emits them) over time in seconds
// (frame t at t/frameRate), one line each, labelled z0, z1 … in the legend.
// maxDims ≤ 0 means DefaultLatentDims. NaN/±Inf frames are dropped and
// counted in the legend; a dimension with nothing finite is named in the
// title instead.
func LatentTrajectories(z [][]float32, frameRate float64, maxDims int) (*Figure, error) {
	if !(frameRate > 0) || math.IsInf(frameRate, 0) {
		return nil, fmt.Errorf("plots: latents: frame rate %v", frameRate)
	}
	if len(z) == 0 || len(z[0]) == 0 {
		return nil, fmt.Errorf("%w: latents: no frames", ErrNoData)
	}
	frames := len(z[0])
	for i, row := range z {
		if len(row) != frames {
			return nil, fmt.Errorf("plots: latents: dimension %d has %d frames, dimension 0 has %d", i, len(row), frames)
		}
	}
	if maxDims <= 0 {
		maxDims = DefaultLatentDims
	}
	k := min(maxDims, len(z))
	title := fmt.Sprintf("latent trajectories: first %d of %d dims, %.4g frames/s", k, len(z), frameRate)
	if k == len(z) {
		title = fmt.Sprintf("latent trajectories: %d dims, %.4g frames/s", k, frameRate)
	}
	p := newPlot(title, "time (s)", "latent value")
	addGrid(p)
	legend := &legendBox{}
	var empty []string
	drawn, anyDropped := 0, false
	for i := range k {
		xys, dropped := latentSeries(z[i], frameRate)
		name := fmt.Sprintf("z%d", i)
		if len(xys) == 0 {
			empty = append(empty, name)
			continue
		}
		l, err := newPolyline(decimate(xys, maxLinePoints/4), draw.LineStyle{
			Color:  lineColors[i%len(lineColors)],
			Width:  vg.Points(1.2),
			Dashes: lineDashes[(i/len(lineColors))%len(lineDashes)],
		})
		if err != nil {
			return nil, fmt.Errorf("plots: latents: %s: %w", name, err)
		}
		p.Add(l)
		if len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("plots: latents: %s: %w", name, err)
			}
			sc.Color, sc.Shape = l.Color, draw.CircleGlyph{}
			p.Add(sc)
		}
		if dropped > 0 {
			name += fmt.Sprintf(" (%d NaN/Inf dropped)", dropped)
			anyDropped = true
		}
		legend.Add(name, l)
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("%w: latents: no finite values in the first %d dims", ErrNoData, k)
	}
	if len(empty) > 0 {
		p.Title.Text += "; no finite values: " + strings.Join(empty, ", ")
	}
	// Leave a margin on the right for the legend so it does not hide data;
	// a wider one when entries carry drop counts.
	if span := p.X.Max - p.X.Min; span > 0 && k <= 16 {
		margin := 0.14
		if anyDropped {
			margin = 0.28
		}
		p.X.Max += span * margin
	}
	p.Add(legend)
	return &Figure{Name: "latents.png", Rows: [][]*plot.Plot{{p}}}, nil
}
