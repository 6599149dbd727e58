package plots

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/train/runlog"
)

// Small image sizes keep rendering cheap; they are odd on purpose so that a
// rounding slip in Px shows.
const testW, testH = 401, 301

// checkPNG renders f at w×h pixels and checks that the bytes decode as a PNG
// of exactly that size.
func checkPNG(t *testing.T, f *Figure, w, h int) {
	t.Helper()
	b, err := f.PNG(w, h)
	if err != nil {
		t.Fatalf("%s: PNG(%d, %d): %v", f.Name, w, h, err)
	}
	checkPNGBytes(t, f.Name, b, w, h)
}

func checkPNGBytes(t *testing.T, name string, b []byte, w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: decode: %v", name, err)
	}
	if got := img.Bounds().Size(); got.X != w || got.Y != h {
		t.Fatalf("%s: image is %dx%d, want %dx%d", name, got.X, got.Y, w, h)
	}
}

// rec builds a step record.
func rec(step int64, stage int, losses map[string]float64) sessions.MetricsRecord {
	return sessions.MetricsRecord{Kind: runlog.EventStep, Step: step, Stage: stage, Losses: losses}
}

// syntheticRun is a small two-stage run: "mss" decays (with two NaN steps),
// "kl" is positive, "gen" (stage 2 only) is signed, and "mss" also has
// validation records.
func syntheticRun() []sessions.MetricsRecord {
	rng := rand.New(rand.NewPCG(1, 1))
	var recs []sessions.MetricsRecord
	for s := int64(0); s <= 4000; s += 40 {
		stage := 1
		if s >= 3000 {
			stage = 2
		}
		l := map[string]float64{
			"mss": 6*math.Exp(-float64(s)/1000) + 1 + 0.1*rng.Float64(),
			"kl":  0.01 + 0.3*math.Exp(-float64(s)/800),
		}
		if s == 1000 || s == 1040 {
			l["mss"] = math.NaN()
		}
		if stage == 2 {
			l["gen"] = rng.NormFloat64()
		}
		recs = append(recs, rec(s, stage, l))
		if s%1000 == 0 && s > 0 {
			recs = append(recs, sessions.MetricsRecord{Kind: runlog.EventValidation, Step: s, Stage: stage,
				Losses: map[string]float64{"mss": 6*math.Exp(-float64(s)/1000) + 1.5}})
		}
	}
	return recs
}

// syntheticAnalysis fits a PCA to frames whose dimension j has standard
// deviation 0.5^j, so the spectrum falls by a factor 4 per dimension.
func syntheticAnalysis(t *testing.T, d, frames int) *latent.Analysis {
	t.Helper()
	rng := rand.New(rand.NewPCG(2, 2))
	fs := make([][]float32, frames)
	for i := range fs {
		f := make([]float32, d)
		for j := range f {
			f[j] = float32(rng.NormFloat64() * math.Pow(0.5, float64(j)))
		}
		fs[i] = f
	}
	a, err := latent.Fit(fs)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sine returns n samples of amp·sin(2πft) at rate sr.
func sine(n, sr int, f, amp float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(amp * math.Sin(2*math.Pi*f*float64(i)/float64(sr)))
	}
	return x
}
