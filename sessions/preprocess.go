package sessions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/ravestation/rave/audio"
)

// ErrNoSource is wrapped by CheckSources' error for a source that does not
// exist.
var ErrNoSource = errors.New("no such file or folder")

// CheckSources returns an error naming the first of inputs (audio files or
// folders given to Preprocess) that does not exist or cannot be reached,
// so that a mistyped path is refused before a session is created or its
// manifest records it as a source.
func CheckSources(inputs []string) error {
	for _, in := range inputs {
		_, err := os.Stat(in)
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("source %s: %w", in, ErrNoSource)
		case errors.As(err, &pe):
			return fmt.Errorf("source %s: %w", in, pe.Err)
		case err != nil:
			return fmt.Errorf("source %s: %w", in, err)
		}
	}
	return nil
}

// Preprocess builds or extends the session's dataset from inputs (files or
// folders) while holding the session lock, then records the sources and the
// sample rate in the manifest. See audio.BuildDataset for what is kept,
// rejected and reported. An input that does not exist is refused (see
// CheckSources) before anything is read or recorded.
func (s *Session) Preprocess(ctx context.Context, inputs []string, opts audio.DatasetOptions, progress func(audio.Progress)) (*audio.DatasetReport, error) {
	if err := CheckSources(inputs); err != nil {
		return nil, fmt.Errorf("sessions: %q: %w", s.Manifest.Name, err)
	}
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
