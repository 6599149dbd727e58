package sessions

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/ravestation/rave/audio"
)

// Preprocess builds or extends the session's dataset from inputs (files or
// folders) while holding the session lock, then records the sources and the
// sample rate in the manifest. See audio.BuildDataset for what is kept,
// rejected and reported.
func (s *Session) Preprocess(ctx context.Context, inputs []string, opts audio.DatasetOptions, progress func(audio.Progress)) (*audio.DatasetReport, error) {
	lock, err := s.Acquire("preprocess")
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	report, err := audio.BuildDataset(ctx, s.Dir, inputs, opts, progress)
	if err != nil {
		return report, err
	}
	for _, in := range inputs {
		abs, err := filepath.Abs(in)
		if err != nil {
			abs = in
		}
		if !slices.Contains(s.Manifest.Sources, abs) {
			s.Manifest.Sources = append(s.Manifest.Sources, abs)
		}
	}
	if info, err := audio.ReadDatasetInfo(s.Dir); err == nil {
		s.Manifest.SampleRate = info.SampleRate
	}
	if err := s.Save(); err != nil {
		return report, fmt.Errorf("sessions: %q: dataset built but manifest not saved: %w", s.Manifest.Name, err)
	}
	return report, nil
}
