package plots

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestLatentSeries(t *testing.T) {
	nan := float32(math.NaN())
	xys, dropped := latentSeries([]float32{1, nan, 3, float32(math.Inf(1)), 5}, 4)
	if want := []float64{0, 0.5, 1}; !slices.Equal(xs(xys), want) {
		t.Errorf("times = %v, want %v", xs(xys), want)
	}
	if want := []float64{1, 3, 5}; !slices.Equal(ys(xys), want) {
		t.Errorf("values = %v, want %v", ys(xys), want)
	}
	if dropped != 2 {
		t.Errorf("dropped = %d, want 2", dropped)
	}
}

func latentRows(d, frames int) [][]float32 {
	z := make([][]float32, d)
	for i := range z {
		z[i] = make([]float32, frames)
		for t := range z[i] {
			z[i][t] = float32(math.Sin(float64(t*(i+1)) / 20))
		}
	}
	return z
}

func TestLatentTrajectories(t *testing.T) {
	nan := float32(math.NaN())
	partlyNaN := latentRows(3, 50)
	partlyNaN[1] = slices.Repeat([]float32{nan}, 50)
	allNaN := [][]float32{slices.Repeat([]float32{nan}, 5)}
	tests := []struct {
		name    string
		z       [][]float32
		rate    float64
		maxDims int
		title   string
		noData  bool
		err     string
	}{
		{"default dims", latentRows(16, 200), 23.4, 0, "first 8 of 16 dims", false, ""},
		{"fewer dims than asked", latentRows(3, 200), 23.4, 8, "3 dims", false, ""},
		{"many dims", latentRows(32, 50), 10, 32, "32 dims", false, ""},
		{"single frame", latentRows(2, 1), 10, 0, "2 dims", false, ""},
		{"a NaN dim is named", partlyNaN, 10, 0, "no finite values: z1", false, ""},
		{"all NaN", allNaN, 10, 0, "", true, "no finite values"},
		{"no dims", nil, 10, 0, "", true, "no frames"},
		{"no frames", [][]float32{{}}, 10, 0, "", true, "no frames"},
		{"ragged", [][]float32{{1, 2}, {1}}, 10, 0, "", false, "dimension 1 has 1 frames"},
		{"zero rate", latentRows(2, 5), 0, 0, "", false, "frame rate"},
		{"NaN rate", latentRows(2, 5), math.NaN(), 0, "", false, "frame rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := LatentTrajectories(tt.z, tt.rate, tt.maxDims)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || errors.Is(err, ErrNoData) != tt.noData {
					t.Fatalf("error %v, want %q (ErrNoData %v)", err, tt.err, tt.noData)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if title := fig.Rows[0][0].Title.Text; !strings.Contains(title, tt.title) {
				t.Errorf("title %q, want it to contain %q", title, tt.title)
			}
			checkPNG(t, fig, testW, testH)
		})
	}
}
