package plots

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/plot"
)

func labels(ticks []plot.Tick) []string {
	var out []string
	for _, t := range ticks {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestLogTicks(t *testing.T) {
	tests := []struct {
		name     string
		min, max float64
		want     []string
	}{
		{"decades", 0.002, 30, []string{"0.01", "0.1", "1", "10"}},
		{"one decade: 1-2-5", 0.15, 0.9, []string{"0.2", "0.5"}},
		{"narrow: every multiple", 0.25, 0.45, []string{"0.3", "0.4"}},
		// Between two multiples: linear ticks, all inside and positive.
		{"very narrow", 0.31, 0.34, []string{"0.31", "0.32", "0.33", "0.34"}},
		{"equal", 2, 2, []string{"2"}},
		{"wide: every other decade", 1e-12, 1e4, []string{"1e-12", "1e-10", "1e-8", "1e-6", "0.0001", "0.01", "1", "100", "1e4"}},
		{"zero", 0, 1, nil},
		{"negative", -1, 1, nil},
		{"inverted", 2, 1, nil},
		{"infinite", 1, math.Inf(1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks := logTicks(tt.min, tt.max)
			if got := labels(ticks); !slices.Equal(got, tt.want) {
				t.Errorf("logTicks(%v, %v) labels = %q, want %q", tt.min, tt.max, got, tt.want)
			}
			for _, tk := range ticks {
				if tk.Value <= 0 {
					t.Errorf("tick at %v on a log axis", tk.Value)
				}
			}
		})
	}
}

func TestFmt(t *testing.T) {
	nums := map[float64]string{0.3: "0.3", 0.30000000000000004: "0.3", 1500: "1500", 1e4: "1e4", 3e-5: "3e-5", 2.5e6: "2.5e6", -0.5: "-0.5", 0: "0"}
	for v, want := range nums {
		if got := fmtNum(v); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", v, got, want)
		}
	}
	counts := map[float64]string{950: "950", 5000: "5000", 12000: "12k", 250000: "250k", 1.5e6: "1.5M", 1e9: "1000M"}
	for v, want := range counts {
		if got := fmtCount(v); got != want {
			t.Errorf("fmtCount(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestDimTicks(t *testing.T) {
	tests := []struct {
		min, max float64
		want     []string
	}{
		{0.5, 4.5, []string{"1", "2", "3", "4"}},
		{0.5, 16.5, []string{"1", "2", "4", "6", "8", "10", "12", "14", "16"}},
		{0.5, 128.5, []string{"1", "16", "32", "48", "64", "80", "96", "112", "128"}},
		{0.6, 0.9, nil},
	}
	for _, tt := range tests {
		if got := labels(dimTicks(tt.min, tt.max)); !slices.Equal(got, tt.want) {
			t.Errorf("dimTicks(%v, %v) = %q, want %q", tt.min, tt.max, got, tt.want)
		}
	}
}
