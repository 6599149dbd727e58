package runlog

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ravestation/rave/sessions/layout"
)

func TestMetricsRoundTripWithNaNAndTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), layout.MetricsFile)
	m, err := OpenMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	const now = "2025-01-02T03:04:05.123456789Z" // RFC 3339, as Write stores it
	m.Write(MetricsRecord{Kind: EventStep, Step: 10, Stage: int(StageVAE), Losses: map[string]float64{"mss_fb": 3.5, "kl": math.NaN()}, Beta: 0.1, LR: 1e-4, Time: now})
	m.Write(MetricsRecord{Kind: EventStep, Step: 20, Stage: int(StageAdversarial), Losses: map[string]float64{"mss_fb": math.Inf(1)}, Time: now})
	m.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"kind":"step","step":30,"los`) // a writer killed mid-line
	f.Close()
	data, _ := os.ReadFile(path)
	recs, skipped, err := ReadMetrics(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || skipped != 1 {
		t.Fatalf("read %d records, skipped %d; want 2 and 1", len(recs), skipped)
	}
	if recs[0].Losses["mss_fb"] != 3.5 || !math.IsNaN(recs[0].Losses["kl"]) || recs[0].Beta != 0.1 {
		t.Errorf("first record %+v", recs[0])
	}
	if !math.IsInf(recs[1].Losses["mss_fb"], 1) || recs[1].Stage != 2 {
		t.Errorf("second record %+v", recs[1])
	}
}

func TestStatusRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), layout.StatusFile)
	if err := WriteStatus(path, Status{PID: 42, State: "running", Step: 7, Stage: StageVAE, Losses: map[string]float64{"kl": 1.5}}); err != nil {
		t.Fatal(err)
	}
	s, err := ReadStatus(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != 42 || s.Step != 7 || s.Losses["kl"] != 1.5 || s.Updated.IsZero() {
		t.Errorf("status %+v", s)
	}
}
