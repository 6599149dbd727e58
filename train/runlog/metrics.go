package runlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
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

// EventKind says what a training event (a metrics.jsonl line) reports.
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
		return nil, fmt.Errorf("runlog: metrics: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runlog: metrics: %w", err)
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

// Write appends rec as one line (NaN and ±Inf losses as strings).
func (m *MetricsLog) Write(rec MetricsRecord) error {
	line := map[string]any{
		"kind": rec.Kind, "step": rec.Step, "stage": rec.Stage, "losses": jsonSafe(rec.Losses),
		"beta": rec.Beta, "lr": rec.LR, "steps_per_sec": rec.StepsPerSec, "wall_s": rec.WallSeconds,
		"time": rec.Time,
	}
	if rec.Message != "" {
		line["message"] = rec.Message
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("runlog: metrics: %w", err)
	}
	if _, err := m.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("runlog: metrics: %w", err)
	}
	return nil
}

// Close closes the log.
func (m *MetricsLog) Close() error { return m.f.Close() }

// MetricsRecord is one line of metrics.jsonl: a logged step, validation,
// stage change, checkpoint or warning. Time is RFC 3339 (UTC, nanoseconds).
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
	if err := sc.Err(); err != nil { // Scanner.Err is nil at EOF
		return records, skipped, fmt.Errorf("runlog: read metrics: %w", err)
	}
	return records, skipped, nil
}
