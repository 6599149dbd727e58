package modelv2

import (
	"math"
	"testing"
)

func TestBetaWarmup(t *testing.T) {
	cfg, _ := Preset("v2")
	cases := []struct {
		name string
		step int
		want float64
	}{
		{"before training", 0, 1},
		{"first batch", 1, 1.000541135275116e-06}, // stage1_beta of the fixture
		{"half way", 10_000, math.Sqrt(1e-6 * 0.05)},
		{"last warm-up batch", 19_999, math.Exp(math.Log(1e-6)/20000 + math.Log(0.05)*19999/20000)},
		{"end", 20_000, 0.05},
		{"after", 1_000_000, 0.05},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := cfg.Beta(c.step); math.Abs(got-c.want) > 1e-12*c.want {
				t.Errorf("Beta(%d) = %.17g, want %.17g", c.step, got, c.want)
			}
		})
	}
}

func TestGeneratorLR(t *testing.T) {
	cfg, _ := Preset("v2")
	cases := []struct {
		k    int
		want float64
	}{
		{0, 1e-3},
		{1, 0.0009999991000000001}, // stage1_lr_after_step of the fixture
		{500_000, 5.5e-4},
		{1_000_000, 1e-4},
		{3_000_000, 1e-4},
		{-1, 1e-3},
	}
	for _, c := range cases {
		if got := cfg.GeneratorLR(c.k); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("GeneratorLR(%d) = %.17g, want %.17g", c.k, got, c.want)
		}
	}
	if got := LinearLR(5, 2, 1, 0.5, 0); got != 1 {
		t.Errorf("LinearLR with total 0 = %g, want base·end = 1", got)
	}
}

func TestStageSchedule(t *testing.T) {
	cfg, _ := Preset("v2")
	cases := []struct {
		step, batchIdx   int
		warm, discUpdate bool
	}{
		{0, 0, false, false},
		{999_999, 4, false, false},
		{1_000_000, 0, true, true},
		{1_000_001, 1, true, false},
		{1_000_003, 3, true, false},
		{1_000_004, 4, true, true},
	}
	for _, c := range cases {
		warm := cfg.WarmedUp(c.step)
		if warm != c.warm || cfg.DiscriminatorBatch(c.batchIdx, warm) != c.discUpdate {
			t.Errorf("step %d batch %d: warmed up %v, discriminator batch %v; want %v, %v",
				c.step, c.batchIdx, warm, cfg.DiscriminatorBatch(c.batchIdx, warm), c.warm, c.discUpdate)
		}
	}
}
