package latent

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// lowRankFrames makes frames with variance concentrated on a few known axes:
// z = mean + Σ_i σ_i·g_i·axis_i + tiny noise.
func lowRankFrames(rng *rand.Rand, n, d int, sigmas []float64) [][]float32 {
	axes := make([][]float64, len(sigmas))
	for i := range axes {
		axes[i] = make([]float64, d)
		axes[i][(i*3)%d] = 1 // orthonormal coordinate axes, scrambled order
	}
	frames := make([][]float32, n)
	for t := range frames {
		f := make([]float32, d)
		for j := range f {
			f[j] = float32(0.5 + 1e-3*rng.NormFloat64())
		}
		for i, s := range sigmas {
			g := s * rng.NormFloat64()
			for j, v := range axes[i] {
				f[j] += float32(g * v)
			}
		}
		frames[t] = f
	}
	return frames
}

func TestFitFindsKnownStructure(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	frames := lowRankFrames(rng, 4000, 8, []float64{3, 2, 1})
	a, err := Fit(frames)
	if err != nil {
		t.Fatal(err)
	}
	// Variances ≈ 9, 4, 1 → fidelity after 3 comps ≈ 1.
	want := []float64{9.0 / 14, 13.0 / 14, 1}
	for i, w := range want {
		if math.Abs(float64(a.Fidelity[i])-w) > 0.03 {
			t.Errorf("fidelity[%d] = %.3f, want ≈ %.3f", i, a.Fidelity[i], w)
		}
	}
	// The first component is the axis with σ = 3 (coordinate 0).
	if math.Abs(float64(a.PCA[0])) < 0.99 {
		t.Errorf("first component %v, want ±e0", a.PCA[:8])
	}
	for j, m := range a.Mean {
		if math.Abs(float64(m)-0.5) > 0.15 {
			t.Errorf("mean[%d] = %v, want ≈ 0.5", j, m)
		}
	}
	exact, ref := a.DimsForFidelity(0.95)
	if exact != 3 || ref != 2 {
		// argmax(fidelity > 0.95) = 2 (0-based) → 2^⌈log2 2⌉ = 2: the
		// reference's off-by-one (#335) keeps only 2 of the 3 needed dims.
		t.Errorf("DimsForFidelity(0.95) = %d, %d; want 3, 2", exact, ref)
	}
}

func TestProjectUnprojectRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	frames := lowRankFrames(rng, 500, 6, []float64{2, 1, 0.5, 0.3, 0.2, 0.1})
	a, err := Fit(frames)
	if err != nil {
		t.Fatal(err)
	}
	z := make([][]float32, 6)
	for j := range z {
		z[j] = make([]float32, 10)
		for ti := range z[j] {
			z[j][ti] = frames[ti][j]
		}
	}
	zp := a.Project(z)
	back := a.Unproject(zp, FillZero, nil)
	for j := range z {
		for ti := range z[j] {
			if d := math.Abs(float64(back[j][ti] - z[j][ti])); d > 1e-4 {
				t.Fatalf("round trip [%d][%d] off by %g", j, ti, d)
			}
		}
	}
	// Keeping 2 dims with zero fill equals projecting onto the top-2 axes.
	part := a.Unproject(zp[:2], FillZero, nil)
	noisy := a.Unproject(zp[:2], FillNoise, rand.New(rand.NewPCG(3, 3)))
	var diff float64
	for j := range part {
		for ti := range part[j] {
			diff += math.Abs(float64(part[j][ti] - noisy[j][ti]))
		}
	}
	if diff == 0 {
		t.Error("noise fill changed nothing")
	}
}

func TestFitTooFewFrames(t *testing.T) {
	frames := make([][]float32, 5)
	for i := range frames {
		frames[i] = make([]float32, 16)
	}
	_, err := Fit(frames)
	if !errors.Is(err, ErrTooFewFrames) {
		t.Fatalf("Fit with 5 frames of 16 dims = %v, want ErrTooFewFrames", err)
	}
	if _, err := Fit(nil); !errors.Is(err, ErrTooFewFrames) {
		t.Fatalf("Fit(nil) = %v", err)
	}
}

func TestIdentity(t *testing.T) {
	a := Identity(4)
	z := [][]float32{{1, 2}, {3, 4}, {5, 6}, {7, 8}}
	got := a.Project(z)
	for j := range z {
		for ti := range z[j] {
			if got[j][ti] != z[j][ti] {
				t.Fatalf("identity projection changed [%d][%d]", j, ti)
			}
		}
	}
}
