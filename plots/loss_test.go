package plots

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/train/runlog"
)

func xs(xys plotter.XYs) []float64 {
	out := make([]float64, len(xys))
	for i, p := range xys {
		out[i] = p.X
	}
	return out
}

func ys(xys plotter.XYs) []float64 {
	out := make([]float64, len(xys))
	for i, p := range xys {
		out[i] = p.Y
	}
	return out
}

func TestLossSeries(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	val := func(step int64, v float64) sessions.MetricsRecord {
		return sessions.MetricsRecord{Kind: runlog.EventValidation, Step: step, Stage: 1, Losses: map[string]float64{"a": v}}
	}
	a := func(v float64) map[string]float64 { return map[string]float64{"a": v} }
	tests := []struct {
		name                   string
		records                []sessions.MetricsRecord
		wantSteps, wantValues  []float64
		wantValid              []float64
		nonFinite, nonPositive int
	}{
		{
			name:      "plain",
			records:   []sessions.MetricsRecord{rec(0, 1, a(3)), rec(10, 1, a(2)), rec(20, 1, a(1))},
			wantSteps: []float64{0, 10, 20}, wantValues: []float64{3, 2, 1},
		},
		{
			name:      "NaN and Inf dropped and counted",
			records:   []sessions.MetricsRecord{rec(0, 1, a(3)), rec(10, 1, a(nan)), rec(20, 1, a(-inf)), rec(30, 1, a(inf)), rec(40, 1, a(1))},
			wantSteps: []float64{0, 40}, wantValues: []float64{3, 1}, nonFinite: 3,
		},
		{
			name:      "all NaN",
			records:   []sessions.MetricsRecord{rec(0, 1, a(nan)), rec(10, 1, a(nan))},
			wantSteps: []float64{}, wantValues: []float64{}, nonFinite: 2,
		},
		{
			// A resume from the step-10 checkpoint replays 10 and 20: the
			// later lines win, including the NaN that the replay no longer has.
			name:      "resume supersedes replayed steps",
			records:   []sessions.MetricsRecord{rec(0, 1, a(5)), rec(10, 1, a(4)), rec(20, 1, a(nan)), rec(10, 1, a(3.5)), rec(20, 1, a(3))},
			wantSteps: []float64{0, 10, 20}, wantValues: []float64{5, 3.5, 3},
		},
		{
			name:      "validation kept apart, other kinds ignored",
			records:   []sessions.MetricsRecord{rec(0, 1, a(3)), val(0, 9), {Kind: runlog.EventDone, Step: 5, Losses: a(7)}, rec(10, 1, a(2)), val(10, 8)},
			wantSteps: []float64{0, 10}, wantValues: []float64{3, 2}, wantValid: []float64{9, 8},
		},
		{
			name:      "records without a kind count as steps",
			records:   []sessions.MetricsRecord{{Step: 1, Losses: a(1)}, {Step: 2, Losses: a(2)}},
			wantSteps: []float64{1, 2}, wantValues: []float64{1, 2},
		},
		{
			name:      "non-positive counted but kept",
			records:   []sessions.MetricsRecord{rec(0, 1, a(-1)), rec(1, 1, a(0)), rec(2, 1, a(1))},
			wantSteps: []float64{0, 1, 2}, wantValues: []float64{-1, 0, 1}, nonPositive: 2,
		},
		{
			name:      "term absent",
			records:   []sessions.MetricsRecord{rec(0, 1, map[string]float64{"b": 1})},
			wantSteps: []float64{}, wantValues: []float64{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := lossSeries(tt.records, "a")
			if got := xs(d.train); !slices.Equal(got, tt.wantSteps) {
				t.Errorf("steps = %v, want %v", got, tt.wantSteps)
			}
			if got := ys(d.train); !slices.Equal(got, tt.wantValues) {
				t.Errorf("values = %v, want %v", got, tt.wantValues)
			}
			if got := ys(d.valid); !slices.Equal(got, tt.wantValid) && len(got)+len(tt.wantValid) > 0 {
				t.Errorf("validation = %v, want %v", got, tt.wantValid)
			}
			if d.nonFinite != tt.nonFinite || d.nonPositive != tt.nonPositive {
				t.Errorf("nonFinite, nonPositive = %d, %d, want %d, %d", d.nonFinite, d.nonPositive, tt.nonFinite, tt.nonPositive)
			}
		})
	}
}

func TestStageBoundary(t *testing.T) {
	st := func(pairs ...int64) []sessions.MetricsRecord {
		var r []sessions.MetricsRecord
		for i := 0; i < len(pairs); i += 2 {
			r = append(r, rec(pairs[i], int(pairs[i+1]), nil))
		}
		return r
	}
	tests := []struct {
		name    string
		records []sessions.MetricsRecord
		step    int64
		ok      bool
	}{
		{"empty", nil, 0, false},
		{"stage 1 only", st(0, 1, 10, 1), 0, false},
		{"stage 2 only (resumed late)", st(100, 2, 110, 2), 0, false},
		{"switch", st(0, 1, 10, 1, 20, 2, 30, 2), 20, true},
		{"unknown stage in between", st(0, 1, 10, 0, 20, 2), 20, true},
		{"resume back into stage 1: last switch wins", st(0, 1, 20, 2, 10, 1, 30, 2), 30, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := stageBoundary(tt.records)
			if step != tt.step || ok != tt.ok {
				t.Errorf("stageBoundary = %d, %v, want %d, %v", step, ok, tt.step, tt.ok)
			}
		})
	}
}

func TestEMA(t *testing.T) {
	in := plotter.XYs{{X: 0, Y: 1}, {X: 1, Y: 3}, {X: 2, Y: 3}}
	tests := []struct {
		w    float64
		want []float64
	}{
		{0, []float64{1, 3, 3}},
		// Debiased: s2 = (0.5·0.5·1 + 0.5·3) / (1 − 0.5²) = 7/3;
		// s3 = (0.5·(0.25 + 1.5) + 1.5) / (1 − 0.5³) = 2.375/0.875.
		{0.5, []float64{1, 7.0 / 3, 2.375 / 0.875}},
	}
	for _, tt := range tests {
		got := ys(ema(in, tt.w))
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-12 {
				t.Errorf("ema(w=%v) = %v, want %v", tt.w, got, tt.want)
				break
			}
		}
		if !slices.Equal(xs(ema(in, tt.w)), xs(in)) {
			t.Errorf("ema(w=%v) moved the steps", tt.w)
		}
	}
}

func TestFileSafe(t *testing.T) {
	for in, want := range map[string]string{"mss_fb": "mss_fb", "fm/0": "fm_0", "a b": "a_b", "": "term", "β": "_"} {
		if got := fileSafe(in); got != want {
			t.Errorf("fileSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLossCurves(t *testing.T) {
	run := syntheticRun()
	figs, err := LossCurves(run, LossOptions{Smooth: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	if want := []string{"loss_gen.png", "loss_kl.png", "loss_mss.png"}; !slices.Equal(names, want) {
		t.Fatalf("names = %v, want %v", names, want)
	}
	// Every term spans the whole run, including the stage-2-only "gen".
	for _, f := range figs {
		p := f.Rows[0][0]
		if p.X.Min != 0 || p.X.Max != 4000 {
			t.Errorf("%s: x range %v…%v, want 0…4000", f.Name, p.X.Min, p.X.Max)
		}
	}
	scale := func(f *Figure) string {
		if _, ok := f.Rows[0][0].Y.Scale.(plot.LogScale); ok {
			return "log"
		}
		return "linear"
	}
	if scale(figs[0]) != "linear" || scale(figs[1]) != "log" || scale(figs[2]) != "log" {
		t.Errorf("scales gen, kl, mss = %s, %s, %s, want linear, log, log", scale(figs[0]), scale(figs[1]), scale(figs[2]))
	}
	if title := figs[0].Rows[0][0].Title.Text; !strings.Contains(title, "linear") {
		t.Errorf("gen title %q does not say why the axis is linear", title)
	}
	for _, f := range figs {
		checkPNG(t, f, testW, testH)
	}
}

func TestLossCurvesDrawsWhatIsLegible(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name       string
		records    []sessions.MetricsRecord
		opts       LossOptions
		wantFigs   int
		wantNoData bool
		wantErr    string
	}{
		{name: "no records", wantNoData: true, wantErr: "no metrics records"},
		{name: "no losses", records: []sessions.MetricsRecord{rec(0, 1, nil)}, wantNoData: true, wantErr: "no loss values"},
		{
			name:     "all-NaN term skipped, others drawn",
			records:  []sessions.MetricsRecord{rec(0, 1, map[string]float64{"a": nan, "b": 1}), rec(1, 1, map[string]float64{"a": nan, "b": 2})},
			wantFigs: 1, wantNoData: true, wantErr: `loss "a": no drawable values (2 NaN/Inf dropped)`,
		},
		{
			name:     "forced log drops non-positive",
			records:  []sessions.MetricsRecord{rec(0, 1, map[string]float64{"a": -1}), rec(1, 1, map[string]float64{"a": 2}), rec(2, 1, map[string]float64{"a": 1})},
			opts:     LossOptions{Scale: ScaleLog},
			wantFigs: 1,
		},
		{
			name:       "forced log with nothing positive",
			records:    []sessions.MetricsRecord{rec(0, 1, map[string]float64{"a": -1}), rec(1, 1, map[string]float64{"a": 0})},
			opts:       LossOptions{Scale: ScaleLog},
			wantNoData: true, wantErr: "2 ≤ 0 dropped (log axis)",
		},
		{
			name:     "single point, constant value on a log axis",
			records:  []sessions.MetricsRecord{rec(5, 1, map[string]float64{"a": 0.5})},
			wantFigs: 1,
		},
		{
			name:     "huge dynamic range and huge steps",
			records:  []sessions.MetricsRecord{rec(0, 1, map[string]float64{"a": 1e30}), rec(5e9, 2, map[string]float64{"a": 1e-30})},
			opts:     LossOptions{Smooth: 0.99},
			wantFigs: 1,
		},
		{
			name:     "selected terms only, missing one reported",
			records:  syntheticRun(),
			opts:     LossOptions{Terms: []string{"kl", "nope"}},
			wantFigs: 1, wantNoData: true, wantErr: `loss "nope": no drawable values (not logged)`,
		},
		{
			name:     "repeated terms drawn once",
			records:  syntheticRun(),
			opts:     LossOptions{Terms: []string{"kl", "mss", "kl"}},
			wantFigs: 2,
		},
		{name: "bad smoothing", records: syntheticRun(), opts: LossOptions{Smooth: 1}, wantErr: "smoothing"},
		{name: "bad scale", records: syntheticRun(), opts: LossOptions{Scale: 7}, wantErr: "scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			figs, err := LossCurves(tt.records, tt.opts)
			if len(figs) != tt.wantFigs {
				t.Errorf("got %d figures, want %d", len(figs), tt.wantFigs)
			}
			if got := errors.Is(err, ErrNoData); got != tt.wantNoData {
				t.Errorf("errors.Is(%v, ErrNoData) = %v, want %v", err, got, tt.wantNoData)
			}
			if tt.wantErr == "" && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
			for _, f := range figs {
				checkPNG(t, f, testW, testH)
			}
		})
	}
}

func TestLossOverview(t *testing.T) {
	run := syntheticRun()
	for i := range run {
		run[i].Losses["always_nan"] = math.NaN()
	}
	f, err := LossOverview(run, DefaultLossOptions())
	if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), "always_nan") {
		t.Errorf("error %v, want the skipped all-NaN term", err)
	}
	if f == nil {
		t.Fatal("no figure")
	}
	if f.Name != "losses.png" || len(f.Rows) != 2 || len(f.Rows[0]) != 2 || len(f.Rows[1]) != 1 {
		t.Fatalf("%s: rows %d, want 3 panels on a 2×2 grid", f.Name, len(f.Rows))
	}
	checkPNG(t, f, 640, 480)
}

func TestDecimate(t *testing.T) {
	long := make(plotter.XYs, 100000)
	for i := range long {
		long[i] = plotter.XY{X: float64(i), Y: math.Sin(float64(i) / 100)}
	}
	long[54321].Y = 50 // a diverging step
	long[7777].Y = -50
	tests := []struct {
		name    string
		in      plotter.XYs
		buckets int
		maxLen  int
	}{
		{"short unchanged", long[:100], 100, 100},
		{"long thinned", long, 500, 2000},
		{"constant x unchanged", plotter.XYs{{X: 1, Y: 1}, {X: 1, Y: 2}, {X: 1, Y: 3}}, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decimate(tt.in, tt.buckets)
			if len(got) > tt.maxLen {
				t.Fatalf("len = %d, want ≤ %d", len(got), tt.maxLen)
			}
			if !slices.IsSortedFunc(got, func(a, b plotter.XY) int { return int(a.X - b.X) }) {
				t.Error("points out of order")
			}
			if got[0] != tt.in[0] || got[len(got)-1] != tt.in[len(tt.in)-1] {
				t.Error("end points lost")
			}
			if lo, hi := slices.Min(ys(got)), slices.Max(ys(got)); lo != slices.Min(ys(tt.in)) || hi != slices.Max(ys(tt.in)) {
				t.Errorf("range %v…%v, want the input's %v…%v", lo, hi, slices.Min(ys(tt.in)), slices.Max(ys(tt.in)))
			}
		})
	}
}
