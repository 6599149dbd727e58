package bench

import (
	"testing"

	"github.com/ravestation/rave/core/model"
)

// TestRun runs Run briefly on the tiny preset.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	cfg, _ := model.Preset("tiny")
	r, err := Run(cfg, 0.5, model.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if r.RealTimeFactor <= 0 || r.TotalMs <= 0 || r.EncoderParams == 0 || r.DecoderParams == 0 || r.DiscriminatorParams == 0 || r.PeakHeapBytes == 0 || r.Runs < 3 {
		t.Errorf("Run = %+v", r)
	}
	t.Logf("%+v", r)
}
