package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// State is where a session stands, derived from its files.
type State string

// The session states, in the order a session goes through them.
const (
	// StateEmpty: no dataset yet.
	StateEmpty State = "empty"
	// StatePreprocessed: dataset.bin exists, no training has started.
	StatePreprocessed State = "preprocessed"
	// StateTraining: a trainer runs now, in stage 1 (VAE).
	StateTraining State = "training"
	// StateStage2: a trainer runs now, in the adversarial stage.
	StateStage2 State = "stage 2"
	// StateStopped: training has begun but no trainer runs: it was
	// stopped, or killed; `rave train` resumes it.
	StateStopped State = "stopped"
	// StateFailed: the last trainer ended with an error.
	StateFailed State = "failed"
	// StateTrained: the trainer reported that it finished.
	StateTrained State = "trained"
)

// TrainingState says where training stands, from the two sources the
// workstation and the command line both go by: running, whether a trainer
// holds the session's lock now (Session.Training; the lock, not
// status.json, which a killed trainer leaves saying "running"), and st,
// the last heartbeat (nil without status.json). started reports other
// traces of training: checkpoints, a model. It returns StateTraining or
// StateStage2 while a trainer runs; else StateTrained or StateFailed as
// the heartbeat says, StateStopped for any other trace of training, and
// "" when training never began.
func TrainingState(running bool, st *runlog.Status, started bool) State {
	switch {
	case running && st != nil && st.Stage == runlog.StageAdversarial:
		return StateStage2
	case running:
		return StateTraining
	case st != nil && st.State == "done":
		return StateTrained
	case st != nil && st.State == "failed":
		return StateFailed
	case st != nil || started:
		return StateStopped
	}
	return ""
}

// Summary describes a session for listings.
type Summary struct {
	Name  string
	State State
	// Running reports a live training job (the lock is held for training);
	// PID is its process id.
	Running bool
	PID     int
	// Busy names another job holding the lock (e.g. "preprocess").
	Busy string
	// Status is the last heartbeat (nil without status.json).
	Status *runlog.Status
	// Checkpoints counts the checkpoint folders (step-N) in checkpoints/.
	Checkpoints int
	// HasDataset and HasModel report dataset.bin and model.safetensors.
	HasDataset, HasModel bool
	// DatasetSeconds is the audio stored in the dataset, estimated from the
	// size of dataset.bin and the manifest's rate (0 if unknown).
	DatasetSeconds float64
	// Updated is the manifest's last update.
	Updated time.Time
}

// Summary derives the session's state from its files: dataset.bin,
// status.json, checkpoints/, model.safetensors and the lock. It only stats
// and reads small files, so listings can refresh it every few seconds.
func (s *Session) Summary() Summary {
	sum := Summary{Name: s.Manifest.Name, Updated: s.Manifest.Updated}
	if fi, err := os.Stat(layout.DatasetBin(s.Dir)); err == nil {
		sum.HasDataset = true
		if r := s.Manifest.SampleRate; r > 0 {
			sum.DatasetSeconds = float64(fi.Size()) / 2 / float64(r) // int16 samples
		}
	}
	sum.HasModel = exists(layout.Model(s.Dir))
	if entries, err := os.ReadDir(layout.Checkpoints(s.Dir)); err == nil {
		for _, e := range entries {
			if e.IsDir() && layout.IsCheckpointName(e.Name()) {
				sum.Checkpoints++
			}
		}
	}
	if st, err := runlog.ReadStatus(layout.Status(s.Dir)); err == nil {
		sum.Status = &st
	}
	if pid, purpose, held := s.LockHolder(); held {
		if IsTrainPurpose(purpose) {
			sum.Running, sum.PID = true, pid
		} else {
			sum.Busy = purpose
		}
	}
	sum.State = deriveState(sum)
	return sum
}

func deriveState(sum Summary) State {
	if st := TrainingState(sum.Running, sum.Status, sum.Checkpoints > 0 || sum.HasModel); st != "" {
		return st
	}
	if sum.HasDataset {
		return StatePreprocessed
	}
	return StateEmpty
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// List returns the names of every session (folders with a session.json),
// sorted. A missing sessions folder gives an empty list.
func List() ([]string, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sessions: list: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() || ValidateName(e.Name()) != nil {
			continue
		}
		if exists(layout.Manifest(filepath.Join(root, e.Name()))) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Rename renames a session folder and its manifest. It refuses while a job
// holds the session's lock, and when the new name exists.
func Rename(oldName, newName string) error {
	s, err := Open(oldName)
	if err != nil {
		return err
	}
	newDir, err := Dir(newName)
	if err != nil {
		return err
	}
	if _, err := os.Stat(newDir); err == nil {
		return fmt.Errorf("sessions: rename %q: %q: %w", oldName, newName, ErrExists)
	}
	lock, err := s.Acquire("rename")
	if err != nil {
		return err
	}
	defer lock.Release()
	if err := os.Rename(s.Dir, newDir); err != nil {
		return fmt.Errorf("sessions: rename %q to %q: %w", oldName, newName, err)
	}
	s.Dir = newDir
	s.Manifest.Name = newName
	if err := s.Save(); err != nil {
		return fmt.Errorf("sessions: renamed %q to %q but the manifest was not updated: %w", oldName, newName, err)
	}
	return nil
}

// Delete removes a session folder and everything in it. It refuses while
// a job holds the session's lock.
func Delete(name string) error {
	s, err := Open(name)
	if err != nil {
		return err
	}
	lock, err := s.Acquire("delete")
	if err != nil {
		return err
	}
	defer lock.Release()
	if err := os.RemoveAll(s.Dir); err != nil {
		return fmt.Errorf("sessions: delete %q: %w", name, err)
	}
	return nil
}

// Fidelity is the content of fidelity.json: the latent size chosen for
// export, with how it was chosen.
type Fidelity struct {
	// Fidelity is the target share of latent variance (0–1].
	Fidelity float64 `json:"fidelity"`
	// Dims is the number of PCA dimensions kept.
	Dims int `json:"dims"`
	// Rule is "exact" (the smallest k reaching Fidelity) or "pow2" (the
	// reference's rule, rounded up to a power of two).
	Rule string `json:"rule"`
	// Bits is the quantisation used for the bitrate estimate.
	Bits int `json:"bits,omitempty"`
	// KbitPerSec is the resulting bitrate estimate.
	KbitPerSec float64 `json:"kbit_per_sec,omitempty"`
	// Chosen is when it was recorded (UTC).
	Chosen time.Time `json:"chosen"`
}

// SaveFidelity writes fidelity.json atomically.
func (s *Session) SaveFidelity(f Fidelity) error {
	if f.Chosen.IsZero() {
		f.Chosen = time.Now().UTC()
	}
	if err := core.WriteJSONAtomic(layout.Fidelity(s.Dir), f); err != nil {
		return fmt.Errorf("sessions: %q: fidelity: %w", s.Manifest.Name, err)
	}
	return nil
}

// ReadFidelity reads fidelity.json (os.ErrNotExist when none was chosen).
func (s *Session) ReadFidelity() (Fidelity, error) {
	var f Fidelity
	b, err := os.ReadFile(layout.Fidelity(s.Dir))
	if err != nil {
		return f, fmt.Errorf("sessions: %q: fidelity: %w", s.Manifest.Name, err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("sessions: %q: fidelity.json is not valid JSON: %w", s.Manifest.Name, err)
	}
	return f, nil
}
