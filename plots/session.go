package plots

import (
	"errors"
	"fmt"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/render"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
)

// ClipSeconds is the length of the clip SessionInputs reconstructs for the
// spectrogram and latent plots.
const ClipSeconds = 6

// SessionInputs gathers everything WriteAll can draw for a session: its
// metrics, the latent analysis and chosen fidelity of its model, and a clip
// (the file clip, or else the start of the dataset) with its
// reconstruction and latent trajectory. Parts that do not exist yet (no
// model, no dataset) are left out; the error lists why, and the inputs
// are still usable.
func SessionInputs(s *sessions.Session, clip string) (Inputs, error) {
	var in Inputs
	var errs []error
	recs, skipped, err := s.ReadMetrics()
	if err != nil {
		errs = append(errs, err)
	}
	in.Metrics = recs
	if skipped > 0 {
		errs = append(errs, fmt.Errorf("plots: %d unreadable metrics line(s) skipped", skipped))
	}
	m, _, err := sessions.OpenModel(layout.Model(s.Dir))
	if err != nil {
		errs = append(errs, fmt.Errorf("plots: no model to analyse: %w", err))
		return in, errors.Join(errs...)
	}
	if m.LatentAnalysis.Done {
		in.Analysis = m.LatentPCA()
	}
	if f, err := s.ReadFidelity(); err == nil && f.Fidelity > 0 {
		in.Fidelity = f.Fidelity
	}
	x, err := clipAudio(s, m, clip)
	if err != nil {
		errs = append(errs, err)
		return in, errors.Join(errs...)
	}
	z, err := m.EncodeAudio(x)
	if err != nil {
		errs = append(errs, err)
		return in, errors.Join(errs...)
	}
	y, err := m.DecodeLatents(z, len(x))
	if err != nil {
		errs = append(errs, err)
		return in, errors.Join(errs...)
	}
	in.Original, in.Reconstruction, in.SampleRate = x, y, m.Config.SR
	in.Latents, in.FrameRate = z, float64(m.Config.SR)/float64(m.Config.CompressionRatio())
	return in, errors.Join(errs...)
}

func clipAudio(s *sessions.Session, m *model.Model, clip string) ([]float32, error) {
	n := ClipSeconds * m.Config.SR
	if clip != "" {
		x, _, _, err := render.LoadAudio(clip, m.Config.SR)
		if err != nil {
			return nil, err
		}
		return x[:min(len(x), n)], nil
	}
	ds, err := audio.OpenDataset(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("plots: no clip: %w", err)
	}
	defer ds.Close()
	var x []float32
	chunk := make([]float32, ds.ChunkLen())
	for i := 0; i < ds.Len() && len(x) < n; i++ {
		x = append(x, ds.ChunkFloat(chunk, i)...)
	}
	return x[:min(len(x), n)], nil
}
