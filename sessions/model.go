package sessions

import (
	"fmt"
	"os"
	"strings"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/prior"
	"github.com/ravestation/rave/sessions/layout"
)

// Resolving the models of a session: the packages that use a model
// (core/render, plots, the workstation) take it loaded, and these turn a
// session name or a file into one.

// OpenModel loads a model given as a file path (a RAVE Station model, or a
// reference state dict / Lightning checkpoint, which is imported), as the
// name of a session holding a trained model (its newest), or as NAME:best
// (the session's model of the lowest validation distance). It returns the
// model and the file it came from.
func OpenModel(ref string) (*model.Model, string, error) {
	if name, ok := strings.CutSuffix(ref, ":best"); ok && ValidateName(name) == nil {
		if _, err := os.Stat(ref); err != nil {
			s, err := Open(name)
			if err != nil {
				return nil, "", fmt.Errorf("sessions: model %q: %w", ref, err)
			}
			path := layout.BestModel(s.Dir)
			if _, err := os.Stat(path); err != nil {
				return nil, "", fmt.Errorf("sessions: session %q has no best model yet (one is written at every validation that improves on it)", name)
			}
			return OpenModel(path)
		}
	}
	path := ref
	fi, err := os.Stat(ref)
	if err == nil && fi.IsDir() {
		// A session folder given by path.
		if _, err := os.Stat(layout.Model(ref)); err == nil {
			return OpenModel(layout.Model(ref))
		}
		err = os.ErrNotExist
	}
	if err != nil {
		if ValidateName(ref) != nil {
			return nil, "", fmt.Errorf("sessions: model %q: no such file", ref)
		}
		s, err := Open(ref)
		if err != nil {
			return nil, "", fmt.Errorf("sessions: model %q is neither a file nor a session: %w", ref, err)
		}
		path = layout.Model(s.Dir)
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("sessions: session %q has no trained model yet (train it with `rave train --session %s`)", ref, ref)
		}
	}
	m, err := model.Load(path)
	if err != nil && strings.Contains(err.Error(), "not a RAVE Station model file") {
		m, err = model.Import(path)
	}
	if err != nil {
		return nil, "", err
	}
	return m, path, nil
}

// OpenPrior loads the prior of a session (given by name) or from a file.
func OpenPrior(ref string) (*prior.Prior, string, error) {
	path := ref
	if _, err := os.Stat(ref); err != nil {
		if ValidateName(ref) != nil {
			return nil, "", fmt.Errorf("sessions: prior %q: no such file", ref)
		}
		s, err := Open(ref)
		if err != nil {
			return nil, "", fmt.Errorf("sessions: prior %q is neither a file nor a session: %w", ref, err)
		}
		path = layout.PriorModel(s.Dir)
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("sessions: session %q has no prior yet (train one with `rave prior train --session %s`)", ref, ref)
		}
	}
	p, err := prior.Load(path)
	if err != nil {
		return nil, "", err
	}
	return p, path, nil
}
