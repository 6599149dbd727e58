package bench

import (
	"testing"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/modelv2"
	"github.com/ravestation/rave/core/stream"
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

// TestRunV2 runs RunV2 and StreamV2 briefly on the v2-small preset.
func TestRunV2(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	cfg, _ := modelv2.Preset("v2-small")
	r, err := RunV2(cfg, 0.5, model.Float32)
	if err != nil {
		t.Fatal(err)
	}
	if r.RealTimeFactor <= 0 || r.TotalMs <= 0 || r.EncoderParams == 0 || r.DecoderParams == 0 || r.DiscriminatorParams != 191160 || r.Runs < 3 {
		t.Errorf("RunV2 = %+v", r)
	}
	if _, err := RunV2(cfg, 0.5, model.BFloat16); err == nil {
		t.Error("RunV2 accepts bfloat16")
	}
	sr, err := StreamV2(cfg, []int{1024, 2048}, 1.5, stream.Options{Weights: stream.WeightsHalf}) // longer than the latency
	if err != nil {
		t.Fatal(err)
	}
	if len(sr) != 2 || sr[0].Skipped == "" || sr[1].ProcessMedianMs <= 0 || sr[1].LatencySamples != 26848 || !(sr[1].SNRdB > 40) {
		t.Errorf("StreamV2 = %+v", sr)
	}
	t.Logf("%+v\n%+v", r, sr[1])
}
