package sessions

import (
	"fmt"
	"os"

	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// MetricsRecord is one logged training step (a line of metrics.jsonl).
type MetricsRecord = runlog.MetricsRecord

// ReadMetrics reads the session's metrics.jsonl. A missing file gives no
// records and no error; torn lines (from a killed trainer) are skipped and
// counted.
func (s *Session) ReadMetrics() (records []MetricsRecord, skipped int, err error) {
	f, err := os.Open(layout.Metrics(s.Dir))
	if os.IsNotExist(err) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("sessions: %q: %w", s.Manifest.Name, err)
	}
	defer f.Close()
	return runlog.ReadMetrics(f)
}
