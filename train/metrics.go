package train

import (
	"time"

	"github.com/ravestation/rave/train/runlog"
)

// Event is one report of a training run, sent as a plain value so that any
// listener (the console, the TUI) can show it without the trainer knowing it.
type Event struct {
	Kind  runlog.EventKind `json:"kind"`
	Step  int64            `json:"step"`
	Stage runlog.Stage     `json:"stage"`
	// Losses holds every loss term by name (e.g. "mss_fb", "kl", "disc").
	Losses map[string]float64 `json:"losses,omitempty"`
	Beta   float64            `json:"beta,omitempty"`
	LR     float64            `json:"lr,omitempty"`
	// StepsPerSec is measured over the last logging interval.
	StepsPerSec float64 `json:"steps_per_sec,omitempty"`
	// ETA is the estimated time to TotalSteps.
	ETA        time.Duration `json:"eta,omitempty"`
	TotalSteps int64         `json:"total_steps,omitempty"`
	// Wall is the time since the run (or its first start) began.
	Wall    time.Duration `json:"wall"`
	Time    time.Time     `json:"time"`
	Message string        `json:"message,omitempty"`
	// Checkpoint is the path written, for EventCheckpoint.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// record returns the metrics.jsonl line of ev.
func (ev Event) record() runlog.MetricsRecord {
	return runlog.MetricsRecord{
		Kind: ev.Kind, Step: ev.Step, Stage: int(ev.Stage), Losses: ev.Losses,
		Beta: ev.Beta, LR: ev.LR, StepsPerSec: ev.StepsPerSec, WallSeconds: ev.Wall.Seconds(),
		Time: ev.Time.UTC().Format(time.RFC3339Nano), Message: ev.Message,
	}
}
