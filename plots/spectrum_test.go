package plots

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/latent"
)

func TestSpectrumSeries(t *testing.T) {
	// Variances 4, 2, 1, 1 of total 8: ratios 1/2, 1/4, 1/8, 1/8 and the
	// matching fidelity curve.
	quarter := &latent.Analysis{
		Fidelity: []float32{0.5, 0.75, 0.875, 1},
		Variance: []float64{4, 2, 1, 1},
		Frames:   100,
	}
	noVariance := &latent.Analysis{Fidelity: quarter.Fidelity}
	tests := []struct {
		name      string
		a         *latent.Analysis
		f         float64
		ratio     []float64
		exact     int
		reference int
	}{
		// f=0.8: 3 dims reach 0.875; the reference takes the 0-based index
		// of the first value > 0.8 (2) and rounds it to a power of two (2).
		{"from variances", quarter, 0.8, []float64{0.5, 0.25, 0.125, 0.125}, 3, 2},
		{"from fidelity differences", noVariance, 0.8, []float64{0.5, 0.25, 0.125, 0.125}, 3, 2},
		{"f=1 needs every dim", quarter, 1, []float64{0.5, 0.25, 0.125, 0.125}, 4, 4},
		{"f at the first dim", quarter, 0.5, []float64{0.5, 0.25, 0.125, 0.125}, 1, 1},
		// Float32 fidelity never quite reaches 1: the label then says so.
		{"f not reached", &latent.Analysis{Fidelity: []float32{0.5, 0.9999}}, 1, []float64{0.5, 0.4999}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := spectrumSeries(tt.a, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.ratio {
				if math.Abs(s.ratio[i]-tt.ratio[i]) > 1e-7 {
					t.Fatalf("ratio = %v, want %v", s.ratio, tt.ratio)
				}
				if s.cum[i] != float64(tt.a.Fidelity[i]) {
					t.Fatalf("cum = %v, want the fidelity curve %v", s.cum, tt.a.Fidelity)
				}
			}
			if s.exact != tt.exact || s.reference != tt.reference {
				t.Errorf("exact, reference = %d, %d, want %d, %d", s.exact, s.reference, tt.exact, tt.reference)
			}
		})
	}
}

func TestSpectrumErrors(t *testing.T) {
	good := &latent.Analysis{Fidelity: []float32{0.5, 1}, Variance: []float64{1, 1}}
	tests := []struct {
		name   string
		a      *latent.Analysis
		f      float64
		noData bool
		want   string
	}{
		{"nil analysis", nil, 0.95, true, "no latent analysis"},
		{"no dims", &latent.Analysis{}, 0.95, true, "no latent analysis"},
		{"untrained identity", latent.Identity(8), 0.95, true, "explains no variance"},
		{"NaN fidelity", &latent.Analysis{Fidelity: []float32{float32(math.NaN())}}, 0.95, false, "fidelity[0]"},
		{"fidelity 0", good, 0, false, "outside (0, 1]"},
		{"fidelity above 1", good, 1.5, false, "outside (0, 1]"},
		{"fidelity NaN", good, math.NaN(), false, "outside (0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := Spectrum(tt.a, tt.f)
			if fig != nil || err == nil {
				t.Fatalf("Spectrum = %v, %v, want an error", fig, err)
			}
			if errors.Is(err, ErrNoData) != tt.noData || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q (ErrNoData %v), want %q (ErrNoData %v)", err, errors.Is(err, ErrNoData), tt.want, tt.noData)
			}
		})
	}
}

func TestSpectrum(t *testing.T) {
	tests := []struct {
		name   string
		d      int
		f      float64
		label  string
		frames int
	}{
		// Variance falls 4× per dim: dims 1, 2, 3 explain 75%, 94%, 98.4%.
		{"16 dims", 16, 0.95, "f=0.95 → 3 dims", 400},
		{"one dim", 1, 0.95, "f=0.95 → 1 dims", 10},
		{"128 dims", 128, 0.99, "f=0.99 → 4 dims", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := syntheticAnalysis(t, tt.d, tt.frames)
			fig, err := Spectrum(a, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if fig.Name != "spectrum.png" || len(fig.Rows) != 2 {
				t.Fatalf("%s with %d rows, want spectrum.png with 2", fig.Name, len(fig.Rows))
			}
			s, err := spectrumSeries(a, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.label(tt.f); got != tt.label {
				t.Errorf("label = %q, want %q", got, tt.label)
			}
			checkPNG(t, fig, testW, testH)
		})
	}
}

func TestLogBars(t *testing.T) {
	b := &logBars{Values: []float64{0.5, 0, 1e-3, math.Inf(1), -1}}
	xmin, xmax, ymin, ymax := b.DataRange()
	if xmin != 0.5 || xmax != 5.5 || ymin != 1e-3 || ymax != 0.5 {
		t.Errorf("DataRange = %v, %v, %v, %v, want 0.5, 5.5, 0.001, 0.5", xmin, xmax, ymin, ymax)
	}
	if got := b.above(0); got != 2 {
		t.Errorf("above(0) = %d, want 2", got)
	}
	if got := b.above(0.01); got != 1 {
		t.Errorf("above(0.01) = %d, want 1", got)
	}
}
