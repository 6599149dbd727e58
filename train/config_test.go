package train

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
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

// TestShortStage1Run checks that a run with fewer total steps than the
// stage-1 steps is accepted, new or resumed: it ends in stage 1.
func TestShortStage1Run(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config // a new run, filled
		stored     Config // a resumed run: the checkpoint's config…
		flags      Config // …and the flags it is resumed with
		wantSteps  int64
		wantStage1 int64
		wantShort  bool
	}{
		{name: "new, steps only", cfg: Config{Preset: "tiny", Steps: 60}, wantSteps: 60, wantStage1: 20_000, wantShort: true},
		{name: "new, both", cfg: Config{Preset: "tiny", Steps: 60, Stage1Steps: 100}, wantSteps: 60, wantStage1: 100, wantShort: true},
		{name: "new, defaults", cfg: Config{Preset: "tiny"}, wantSteps: 30_000, wantStage1: 20_000},
		{name: "new, past stage 1", cfg: Config{Preset: "tiny", Steps: 25_000}, wantSteps: 25_000, wantStage1: 20_000},
		{name: "resumed with more steps", stored: Config{Steps: 60, Stage1Steps: 20_000}, flags: Config{Steps: 120}, wantSteps: 120, wantStage1: 20_000, wantShort: true},
		{name: "resumed without flags", stored: Config{Steps: 60, Stage1Steps: 20_000}, wantSteps: 20_000, wantStage1: 20_000},
		{name: "resumed, stage 1 moved", stored: Config{Steps: 30_000, Stage1Steps: 20_000}, flags: Config{Stage1Steps: 40_000}, wantSteps: 40_000, wantStage1: 40_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.stored.resumed(tt.flags)
			if tt.stored == (Config{}) {
				var err error
				if c, err = tt.cfg.fill(); err != nil {
					t.Fatalf("fill(%+v) = %v, want no error", tt.cfg, err)
				}
			}
			if c.Steps != tt.wantSteps || c.Stage1Steps != tt.wantStage1 {
				t.Errorf("steps = %d, stage-1 steps = %d, want %d and %d", c.Steps, c.Stage1Steps, tt.wantSteps, tt.wantStage1)
			}
			if got := c.ShortOfStage2(0); got != tt.wantShort {
				t.Errorf("ShortOfStage2(0) = %v, want %v", got, tt.wantShort)
			}
		})
	}
	if _, err := (Config{Preset: "tiny", Steps: -1}).fill(); err == nil {
		t.Error("fill of -1 steps = nil, want an error")
	}
}

// TestLRAt checks the learning-rate schedule: constant without LRDecay,
// else log-linear from LR to LR/10 over LRDecay steps, then flat.
func TestLRAt(t *testing.T) {
	for _, tc := range []struct {
		decay, step int64
		want        float64
	}{
		{0, 5000, 1e-3},
		{-1, 5000, 1e-3},
		{20000, 0, 1e-3},
		{20000, 10000, 1e-3 / math.Sqrt(10)},
		{20000, 20000, 1e-4},
		{20000, 90000, 1e-4},
	} {
		c := Config{LR: 1e-3, LRDecay: tc.decay}
		if got := c.LRAt(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("decay %d step %d: LR %g, want %g", tc.decay, tc.step, got, tc.want)
		}
	}
}

// TestBetaMax checks that --beta-max sets the weight the warm-up ends at,
// in the logged β and in the new model's max_kl, and that impossible
// weights and validation shares are refused.
func TestBetaMax(t *testing.T) {
	dir := synthSession(t, 8, 65536)
	cfg := tinyConfig(dir, 4)
	cfg.BetaMax, cfg.BetaWarmup, cfg.LogEvery = 0.05, -1, 1
	steps := 0
	for _, e := range collect(t, cfg) {
		if e.Kind != runlog.EventStep {
			continue
		}
		steps++
		if e.Beta != 0.05 {
			t.Errorf("step %d: β %g, want 0.05", e.Step, e.Beta)
		}
	}
	if steps == 0 {
		t.Error("no step events")
	}
	m, err := model.Load(filepath.Join(dir, layout.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.MaxKL != 0.05 || m.Config.MinKL != 0.05 {
		t.Errorf("model max_kl %g, min_kl %g, want 0.05", m.Config.MaxKL, m.Config.MinKL)
	}
	for _, bad := range []struct {
		cfg  Config
		want string
	}{
		{Config{Preset: "quick", BetaMax: -0.1}, "KL weight cannot end at -0.1"},
		{Config{Preset: "quick", BetaMax: math.Inf(1)}, "KL weight cannot end at +Inf"},
		{Config{Preset: "quick", ValFraction: 0.5}, "validation share of 0.5"},
		{Config{Preset: "quick", ValFraction: -0.1}, "validation share of -0.1"},
	} {
		if _, err := bad.cfg.fill(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("fill(%+v) = %v, want an error saying %q", bad.cfg, err, bad.want)
		}
	}
}
