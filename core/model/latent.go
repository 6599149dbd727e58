package model

import (
	"fmt"

	"github.com/ravestation/rave/core/latent"
)

// AnalyzeLatents runs the post-training latent analysis (rave-spec.md §8)
// on posterior means (dims × frames, e.g. EncodeAudioWith with Raw set and
// Sample unset, several files concatenated along frames) with
// latent.Fit, and stores it in the latent_mean, latent_pca and fidelity
// buffers (see SetLatentAnalysis). It needs at least as many frames as
// latent dimensions (latent.ErrTooFewFrames otherwise).
func (m *Model) AnalyzeLatents(means [][]float32, step int64, source string) error {
	D := m.Config.LatentSize
	if len(means) != D {
		return fmt.Errorf("model: latent analysis: %d dimensions, the model has %d", len(means), D)
	}
	n := len(means[0])
	frames := make([][]float32, n)
	for f := range frames {
		frames[f] = make([]float32, D)
	}
	for d, row := range means {
		if len(row) != n {
			return fmt.Errorf("model: latent analysis: dimension %d has %d frames, dimension 0 has %d", d, len(row), n)
		}
		for f, v := range row {
			frames[f][d] = v
		}
	}
	a, err := latent.Fit(frames)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	return m.SetLatentAnalysis(a, step, source)
}

// SetLatentAnalysis stores a latent analysis in the model's latent_pca,
// latent_mean and fidelity buffers; step and source describe it in the
// saved metadata.
func (m *Model) SetLatentAnalysis(a *latent.Analysis, step int64, source string) error {
	if D := m.Config.LatentSize; a.Dims() != D {
		return fmt.Errorf("model: latent analysis has %d dimensions, the model %d", a.Dims(), D)
	}
	copy(m.byName[bufLatentPCA].Data(), a.PCA)
	copy(m.byName[bufLatentMean].Data(), a.Mean)
	copy(m.byName[bufFidelity].Data(), a.Fidelity)
	m.LatentAnalysis = LatentAnalysis{Done: true, Frames: a.Frames, Step: step, Source: source}
	return nil
}

// LatentPCA returns the latent analysis held in the model's latent_mean,
// latent_pca and fidelity buffers (the inverse of SetLatentAnalysis), or
// latent.Identity when the model has none.
func (m *Model) LatentPCA() *latent.Analysis {
	a := latent.Identity(m.Config.LatentSize)
	if m.LatentAnalysis.Done {
		copy(a.Mean, m.byName[bufLatentMean].Data())
		copy(a.PCA, m.byName[bufLatentPCA].Data())
		copy(a.Fidelity, m.byName[bufFidelity].Data())
		a.Frames = m.LatentAnalysis.Frames
	}
	return a
}

// FidelityDims returns the number of PCA dimensions needed to explain a
// share f of the latent variance: argmax(fidelity > f) + 1, as the
// reference's export chooses it before rounding up to a power of two
// (rave-spec.md §8). Without an analysis it returns latent_size.
func (m *Model) FidelityDims(f float64) int {
	fid := m.byName[bufFidelity].Data()
	if !m.LatentAnalysis.Done {
		return len(fid)
	}
	for i, v := range fid {
		if float64(v) > f {
			return i + 1
		}
	}
	return len(fid)
}
