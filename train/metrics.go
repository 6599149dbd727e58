package train

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/ravestation/rave/core"
)

// Stage is the training stage: 1 (VAE) or 2 (adversarial fine-tuning).
type Stage int

const (
	// StageVAE trains encoder and decoder with spectral, loudness and KL
	// losses.
	StageVAE Stage = 1
	// StageAdversarial freezes the encoder and trains decoder and
	// discriminator with hinge and feature-matching losses.
	StageAdversarial Stage = 2
)

// String names the stage.
func (s Stage) String() string {
	switch s {
	case StageVAE:
		return "stage 1 (VAE)"
	case StageAdversarial:
		return "stage 2 (adversarial)"
	}
	return fmt.Sprintf("stage %d", int(s))
}

// Event is one report of a training run, sent as a plain value so that any
// listener (the console, the TUI) can show it without the trainer knowing it.
type Event struct {
	Kind  EventKind `json:"kind"`
	Step  int64     `json:"step"`
	Stage Stage     `json:"stage"`
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

// EventKind says what an Event reports.
type EventKind string

// The event kinds.
const (
	EventStep       EventKind = "step"
	EventValidation EventKind = "validation"
	EventStage      EventKind = "stage"
	EventCheckpoint EventKind = "checkpoint"
	EventWarning    EventKind = "warning"
	EventDone       EventKind = "done"
)

// MetricsLog appends one JSON line per logged step to metrics.jsonl. Lines
// are flushed and synced on every write, so a killed process loses at most
// the line it was writing; a torn last line is skipped by ReadMetrics.
type MetricsLog struct {
	f *os.File
}

// OpenMetrics opens (creating) the metrics log at path for appending. A
// torn last line left by a killed writer is cut off first, so the log only
// ever holds whole lines.
func OpenMetrics(path string) (*MetricsLog, error) {
	if err := trimTornLine(path); err != nil {
		return nil, fmt.Errorf("train: metrics: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: metrics: %w", err)
	}
	return &MetricsLog{f: f}, nil
}

// trimTornLine truncates path after its last newline.
func trimTornLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	const window = 1 << 16
	size := fi.Size()
	for end := size; end > 0; {
		start := max(end-window, 0)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil {
			return err
		}
		for i := len(buf) - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				if keep := start + int64(i) + 1; keep != size {
					return f.Truncate(keep)
				}
				return nil
			}
		}
		end = start
	}
	return f.Truncate(0)
}

// jsonSafe replaces NaN and ±Inf, which JSON cannot hold, by strings.
func jsonSafe(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch {
		case math.IsNaN(v):
			out[k] = "NaN"
		case math.IsInf(v, 1):
			out[k] = "+Inf"
		case math.IsInf(v, -1):
			out[k] = "-Inf"
		default:
			out[k] = v
		}
	}
	return out
}

// Write appends ev as one line.
func (m *MetricsLog) Write(ev Event) error {
	line := map[string]any{
		"kind": ev.Kind, "step": ev.Step, "stage": int(ev.Stage), "losses": jsonSafe(ev.Losses),
		"beta": ev.Beta, "lr": ev.LR, "steps_per_sec": ev.StepsPerSec, "wall_s": ev.Wall.Seconds(),
		"time": ev.Time.UTC().Format(time.RFC3339Nano),
	}
	if ev.Message != "" {
		line["message"] = ev.Message
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("train: metrics: %w", err)
	}
	if _, err := m.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("train: metrics: %w", err)
	}
	return nil
}

// Close closes the log.
func (m *MetricsLog) Close() error { return m.f.Close() }

// MetricsRecord is one parsed line of metrics.jsonl.
type MetricsRecord struct {
	Kind        EventKind          `json:"kind"`
	Step        int64              `json:"step"`
	Stage       int                `json:"stage"`
	Losses      map[string]float64 `json:"-"`
	Beta        float64            `json:"beta"`
	LR          float64            `json:"lr"`
	StepsPerSec float64            `json:"steps_per_sec"`
	WallSeconds float64            `json:"wall_s"`
	Time        string             `json:"time"`
	Message     string             `json:"message"`
}

// ReadMetrics parses a metrics log. NaN and ±Inf losses come back as the
// float values; a torn or malformed line (from a killed writer) is skipped
// and counted in skipped.
func ReadMetrics(r io.Reader) (records []MetricsRecord, skipped int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var rec MetricsRecord
		var raw struct {
			Losses map[string]any `json:"losses"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || json.Unmarshal(sc.Bytes(), &raw) != nil {
			skipped++
			continue
		}
		rec.Losses = make(map[string]float64, len(raw.Losses))
		for k, v := range raw.Losses {
			switch x := v.(type) {
			case float64:
				rec.Losses[k] = x
			case string:
				switch x {
				case "NaN":
					rec.Losses[k] = math.NaN()
				case "+Inf":
					rec.Losses[k] = math.Inf(1)
				case "-Inf":
					rec.Losses[k] = math.Inf(-1)
				}
			}
		}
		records = append(records, rec)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return records, skipped, fmt.Errorf("train: read metrics: %w", err)
	}
	return records, skipped, nil
}

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
	b, err := json.MarshalIndent(struct {
		alias
		Losses map[string]any `json:"losses,omitempty"`
	}{alias(s), jsonSafe(s.Losses)}, "", "  ")
	if err != nil {
		return fmt.Errorf("train: status: %w", err)
	}
	return core.WriteFileAtomic(path, func(f *os.File) error {
		_, err := f.Write(append(b, '\n'))
		return err
	})
}

// ReadStatus reads a heartbeat file.
func ReadStatus(path string) (Status, error) {
	var s Status
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("train: status: %w", err)
	}
	var raw struct {
		Losses map[string]float64 `json:"losses"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("train: status %s: %w", path, err)
	}
	json.Unmarshal(b, &raw)
	s.Losses = raw.Losses
	return s, nil
}
