package runlog

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/ravestation/rave/core"
)

// Status is the heartbeat of a running training job, rewritten atomically
// every few seconds to status.json.
type Status struct {
	PID        int                `json:"pid"`
	State      string             `json:"state"` // "running", "stopped", "failed", "done"
	Step       int64              `json:"step"`
	Stage      Stage              `json:"stage"`
	TotalSteps int64              `json:"total_steps"`
	StepsPerS  float64            `json:"steps_per_sec"`
	ETASeconds float64            `json:"eta_s"`
	Losses     map[string]float64 `json:"-"`
	Checkpoint string             `json:"last_checkpoint,omitempty"`
	Updated    time.Time          `json:"updated"`
	Message    string             `json:"message,omitempty"`
}

// WriteStatus writes the heartbeat atomically.
func WriteStatus(path string, s Status) error {
	s.Updated = time.Now().UTC()
	type alias Status
	err := core.WriteJSONAtomic(path, struct {
		alias
		Losses map[string]any `json:"losses,omitempty"`
	}{alias(s), jsonSafe(s.Losses)})
	if err != nil {
		return fmt.Errorf("runlog: status: %w", err)
	}
	return nil
}

// ReadStatus reads a heartbeat file.
func ReadStatus(path string) (Status, error) {
	var s Status
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("runlog: status: %w", err)
	}
	var raw struct {
		Losses map[string]float64 `json:"losses"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("runlog: status %s: %w", path, err)
	}
	json.Unmarshal(b, &raw)
	s.Losses = raw.Losses
	return s, nil
}
