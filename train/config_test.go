package train

import (
	"math"
	"strings"
	"testing"
)

func TestBetaSchedule(t *testing.T) {
	warm := Config{BetaWarmup: 1000, BetaStart: 1e-6}
	tests := []struct {
		name string
		cfg  Config
		step int64
		want float64
	}{
		{"no warm-up", Config{BetaWarmup: -1, BetaStart: 1e-6}, 0, 0.1},
		{"zero warm-up", Config{}, 500, 0.1},
		{"start", warm, 0, 1e-6},
		{"half way: geometric mean", warm, 500, math.Sqrt(1e-6 * 0.1)},
		{"a quarter", warm, 250, math.Pow(1e-6, 0.75) * math.Pow(0.1, 0.25)},
		{"end", warm, 1000, 0.1},
		{"after", warm, 50_000, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cfg.Beta(tt.step, 0.1); math.Abs(got-tt.want) > 1e-12*max(1, tt.want/1e-6) {
				t.Errorf("Beta(%d) = %g, want %g", tt.step, got, tt.want)
			}
		})
	}
	// Monotone rise.
	prev := 0.0
	for s := int64(0); s <= 1000; s += 10 {
		b := warm.Beta(s, 0.1)
		if b < prev {
			t.Fatalf("β falls at step %d: %g after %g", s, b, prev)
		}
		prev = b
	}
}

func TestBetaDefaults(t *testing.T) {
	tests := []struct {
		preset     string
		warmup     int64
		wantWarmup int64
		err        string
	}{
		{"v1", 0, -1, ""},
		{"small", 0, DefaultBetaWarmup, ""},
		{"tiny", 0, DefaultBetaWarmup, ""},
		{"small", -1, -1, ""},
		{"v1", 500, 500, ""},
	}
	for _, tt := range tests {
		c, err := Config{Preset: tt.preset, BetaWarmup: tt.warmup}.fill()
		if err != nil {
			t.Fatalf("%s: %v", tt.preset, err)
		}
		if c.BetaWarmup != tt.wantWarmup || c.BetaStart != 1e-6 {
			t.Errorf("%s with %d: warm-up %d from %g, want %d from 1e-6", tt.preset, tt.warmup, c.BetaWarmup, c.BetaStart, tt.wantWarmup)
		}
	}
	if _, err := (Config{Preset: "small", BetaStart: -1}).fill(); err == nil || !strings.Contains(err.Error(), "positive") {
		t.Errorf("negative β start: %v, want an error", err)
	}
}
