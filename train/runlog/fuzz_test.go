package runlog

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadMetrics feeds mutated metrics.jsonl files to ReadMetrics and to
// OpenMetrics (which trims a torn last line): no input may panic, every
// record comes from a line, and after OpenMetrics the file holds whole
// lines only.
func FuzzReadMetrics(f *testing.F) {
	var good bytes.Buffer
	good.WriteString(`{"kind":"step","step":10,"stage":1,"losses":{"total":1.5,"kl":"NaN","fm":"+Inf"},"beta":0.1,"lr":0.0001,"steps_per_sec":2,"wall_s":5,"time":"2025-01-02T03:04:05Z","message":""}` + "\n")
	good.WriteString(`{"kind":"validation","step":20,"stage":2,"losses":{"spectral":3}}` + "\n")
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:good.Len()-20])
	f.Add([]byte("\n\n{}\n{"))
	f.Add([]byte(`{"kind":"done","losses":{"x":"-Inf","y":null,"z":[1]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, skipped, err := ReadMetrics(bytes.NewReader(data))
		lines := bytes.Count(data, []byte("\n")) + 1
		if err == nil && len(recs)+skipped > lines {
			t.Fatalf("ReadMetrics: %d records and %d skipped from %d lines", len(recs), skipped, lines)
		}
		path := filepath.Join(t.TempDir(), "metrics.jsonl")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := OpenMetrics(path)
		if err != nil {
			t.Fatalf("OpenMetrics: %v", err)
		}
		m.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' || !bytes.HasPrefix(data, b) {
			t.Fatalf("OpenMetrics left %q of %q", b, data)
		}
	})
}

// FuzzReadStatus feeds mutated status.json files to ReadStatus.
func FuzzReadStatus(f *testing.F) {
	f.Add([]byte(`{"pid":123,"state":"running","step":5000,"stage":2,"total_steps":10000,"steps_per_sec":1.8,"eta_s":2700,"losses":{"total":2.5},"last_checkpoint":"checkpoints/step-4000","updated":"2025-01-02T03:04:05.123456789Z","message":"ok"}`))
	f.Add([]byte(`{"state":"failed","updated":"not a time"}`))
	f.Add([]byte(`{"losses":{"x":"NaN"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "status.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := ReadStatus(path)
		if err == nil {
			_ = s.Stage.String()
		} else if strings.Contains(err.Error(), "\n") {
			t.Fatalf("ReadStatus: error of more than one line: %q", err)
		}
	})
}
