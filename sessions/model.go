package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/modelfile"
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
			s, err := openRef(name, "model")
			if err != nil {
				return nil, "", err
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
		return nil, "", fmt.Errorf("model %s: a folder without a trained model (%s)", ref, layout.ModelFile)
	}
	if err != nil {
		s, err := openRef(ref, "model")
		if err != nil {
			return nil, "", err
		}
		path = layout.Model(s.Dir)
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("sessions: session %q has no trained model yet (train it with `rave train --session %s`)", ref, ref)
		}
	}
	if err := modelfile.Check(path, "model"); err != nil {
		return nil, "", err
	}
	var m *model.Model
	if modelfile.IsReference(path) {
		m, err = interop.Import(path)
	} else {
		m, err = model.Load(path)
		if err != nil && strings.Contains(err.Error(), "not a RAVE Station model file") {
			m, err = interop.Import(path)
		}
	}
	if err != nil {
		return nil, "", err
	}
	return m, path, nil
}

// openRef opens the session named by ref, a MODEL or prior argument that
// is not a file. The error says what ref was taken for: a file (a name
// with a path separator or the extension of a weights file) that does not
// exist, or neither a file nor a session.
func openRef(ref, what string) (*Session, error) {
	if ValidateName(ref) == nil {
		s, err := Open(ref)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return s, err
		}
	}
	ext := strings.ToLower(filepath.Ext(ref))
	if strings.ContainsAny(ref, `/\`) || ext == ".safetensors" || modelfile.IsReference(ref) {
		return nil, fmt.Errorf("%s file %s not found", what, ref)
	}
	return nil, fmt.Errorf("%s %q not found: no file or session of that name (`rave sessions` lists the sessions)", what, ref)
}

// OpenPrior loads the prior of a session (given by name) or from a file.
func OpenPrior(ref string) (*prior.Prior, string, error) {
	path := ref
	if _, err := os.Stat(ref); err != nil {
		s, err := openRef(ref, "prior")
		if err != nil {
			return nil, "", err
		}
		path = layout.PriorModel(s.Dir)
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("sessions: session %q has no prior yet (train one with `rave prior train --session %s`)", ref, ref)
		}
	}
	if err := modelfile.Check(path, "prior"); err != nil {
		return nil, "", err
	}
	p, err := prior.Load(path)
	if err != nil {
		return nil, "", err
	}
	return p, path, nil
}
