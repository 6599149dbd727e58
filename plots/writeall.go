package plots

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/sessions"
)

// Default image size of WriteAll, in pixels.
const (
	DefaultWidth  = 1200
	DefaultHeight = 800
)

// Inputs is everything WriteAll can plot. Any part may be left empty; only
// the plots whose inputs are present are written.
type Inputs struct {
	// Metrics gives loss_<term>.png per loss term and losses.png.
	Metrics []sessions.MetricsRecord
	// Loss tunes the loss plots; nil means DefaultLossOptions().
	Loss *LossOptions
	// Analysis gives spectrum.png, marking Fidelity (0 means
	// DefaultFidelity).
	Analysis *latent.Analysis
	Fidelity float64
	// Original and Reconstruction (mono, SampleRate Hz) give
	// spectrogram.png; either alone is enough.
	Original, Reconstruction []float32
	SampleRate               int
	// Latents (dims × frames, FrameRate frames per second) give latents.png,
	// with the first LatentDims dims (0 means DefaultLatentDims).
	Latents    [][]float32
	FrameRate  float64
	LatentDims int
}

// WriteAll renders every plot whose inputs are present as a width×height
// pixel PNG in outDir (created if needed; 0 means DefaultWidth or
// DefaultHeight) and returns the paths written. Each file is written
// atomically (temporary file, fsync, rename), so a reader never sees half
// an image.
//
// A plot that cannot be drawn is skipped and the others are still written:
// the reasons come back joined in the error, wrapping ErrNoData when the
// data was missing or unusable (an all-NaN loss term, an analysis that has
// not run) and not when an argument was bad (a sample rate of 0). A failure
// to render or write a file stops WriteAll and returns the paths written
// until then.
func WriteAll(outDir string, in Inputs, width, height int) ([]string, error) {
	if width == 0 {
		width = DefaultWidth
	}
	if height == 0 {
		height = DefaultHeight
	}
	if err := checkPixels(width, height); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var figs []*Figure
	var skipped []error
	keep := func(err error, fs ...*Figure) {
		for _, f := range fs {
			if f != nil {
				figs = append(figs, f)
			}
		}
		if err != nil {
			skipped = append(skipped, err)
		}
	}
	keepOne := func(f *Figure, err error) { keep(err, f) }
	present := false
	if len(in.Metrics) > 0 {
		present = true
		opts := DefaultLossOptions()
		if in.Loss != nil {
			opts = *in.Loss
		}
		terms, err := LossCurves(in.Metrics, opts)
		keep(err, terms...)
		if len(terms) > 1 {
			// The overview's skip reasons repeat LossCurves'.
			overview, _ := LossOverview(in.Metrics, opts)
			keep(nil, overview)
		}
	}
	if in.Analysis != nil {
		present = true
		f := in.Fidelity
		if f == 0 {
			f = DefaultFidelity
		}
		keepOne(Spectrum(in.Analysis, f))
	}
	if len(in.Original) > 0 || len(in.Reconstruction) > 0 {
		present = true
		keepOne(Spectrograms(in.Original, in.Reconstruction, in.SampleRate))
	}
	if len(in.Latents) > 0 {
		present = true
		keepOne(LatentTrajectories(in.Latents, in.FrameRate, in.LatentDims))
	}
	if !present {
		return nil, fmt.Errorf("%w: no inputs given", ErrNoData)
	}
	if len(figs) > 0 {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
	}
	paths := make([]string, 0, len(figs))
	for _, f := range figs {
		path := filepath.Join(outDir, f.Name)
		if err := writePNG(path, f, width, height); err != nil {
			return paths, errors.Join(append(skipped, err)...)
		}
		paths = append(paths, path)
	}
	return paths, errors.Join(skipped...)
}

// writePNG renders f and then writes it to path atomically, so a render
// failure never touches the disk.
func writePNG(path string, f *Figure, width, height int) error {
	wt, err := f.WriterTo(Px(width), Px(height), "png")
	if err != nil {
		return err
	}
	if err := core.WriteFileAtomic(path, func(file *os.File) error {
		_, err := wt.WriteTo(file)
		return err
	}); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}
