package runlog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/ravestation/rave/sessions/layout"
)

// Run is what runs/run-ID.json records of a training run: enough to tell
// runs apart and to reproduce one (seed, preset and the settings that
// differ from it, dataset identity, binary, time span, final losses). The
// trainer's manifest adds its whole configuration under "config".
type Run struct {
	ID         string             `json:"id"`
	State      string             `json:"state"` // running, done, stopped, failed
	Started    time.Time          `json:"started"`
	Ended      time.Time          `json:"ended,omitzero"`
	StartStep  int64              `json:"start_step"`
	EndStep    int64              `json:"end_step"`
	Resumed    bool               `json:"resumed"`
	Seed       uint64             `json:"seed"`
	Preset     string             `json:"preset"`
	ConfigDiff map[string]string  `json:"config_diff"` // setting → value, where it differs from the preset's default
	ModelJSON  json.RawMessage    `json:"model_config"`
	Dataset    DatasetIdentity    `json:"dataset"`
	Binary     BinaryInfo         `json:"binary"`
	Losses     map[string]float64 `json:"final_losses,omitempty"`
	Validation float64            `json:"final_validation,omitempty"`
	Error      string             `json:"error,omitempty"`
}

// DatasetIdentity names the data a run saw.
type DatasetIdentity struct {
	// Hash is the SHA-256 of the kept files' SHA-256 digests in chunk order.
	Hash    string   `json:"hash"`
	Files   []string `json:"files"`
	Chunks  int      `json:"chunks"`
	Seconds float64  `json:"seconds"`
	Rate    int      `json:"sample_rate"`
}

// BinaryInfo describes the program that trained.
type BinaryInfo struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Revision string `json:"vcs_revision,omitempty"`
	Modified bool   `json:"vcs_modified,omitempty"`
	Go       string `json:"go"`
	Threads  int    `json:"threads"`
	Kernel   string `json:"sgemm_kernel"`
}

// ReadRuns returns the session's run manifests, oldest first.
func ReadRuns(sessionDir string) ([]Run, error) {
	matches, err := filepath.Glob(layout.RunGlob(sessionDir))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	var runs []Run
	for _, p := range matches {
		b, err := os.ReadFile(p)
		if err != nil {
			return runs, fmt.Errorf("runlog: %w", err)
		}
		var r Run
		if err := json.Unmarshal(b, &r); err != nil {
			return runs, fmt.Errorf("runlog: run manifest %s: %w", filepath.Base(p), err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}
