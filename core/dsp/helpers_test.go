package dsp

import (
	"math"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
)

// parityRelTol is the tolerance of every forward parity check: the
// reference float32 model differs from its float64 twin by ≤ 2e-6 (≤ 1e-5
// for the loudness curves, fixture README), and our float32 kernels add a
// similar amount, so 1e-4 leaves a wide margin while still catching any
// mistake in a formula (those are O(1)).
const parityRelTol = 1e-4

// relErr returns max|got − want| / max|want| and the index of the largest
// difference.
func relErr(got []float32, want []float64) (rel float64, at int) {
	var maxDiff, maxRef float64
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if d > maxDiff {
			maxDiff, at = d, i
		}
		maxRef = max(maxRef, math.Abs(w))
	}
	if maxRef == 0 {
		return maxDiff, at
	}
	return maxDiff / maxRef, at
}

// checkParity compares got with the reference key and fails the test (never
// skips) on a shape or value mismatch, printing the key, the first values
// and the largest difference, the way llm.c's test_gpt2 does.
func checkParity(t *testing.T, key string, got []float32, gotShape []int, want []float64, wantShape []int) float64 {
	t.Helper()
	if numel(gotShape) != numel(wantShape) || len(got) != len(want) {
		t.Errorf("%s: shape %v, want %v", key, gotShape, wantShape)
		return math.Inf(1)
	}
	rel, at := relErr(got, want)
	if !(rel <= parityRelTol) {
		n := min(5, len(got))
		t.Errorf("%s: relative error %.3g > %g (max diff at %d: got %.9g, want %.9g)\n  got  %v\n  want %v",
			key, rel, parityRelTol, at, got[at], want[at], got[:n], want[:n])
	} else {
		t.Logf("%s: max relative error %.3g", key, rel)
	}
	return rel
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// fixture opens one file of the rave-v1-small fixtures; the test is skipped
// only when the fixture folder is absent.
func fixture(t *testing.T, name string) *core.TensorFile {
	t.Helper()
	path := fixtures.File(t, fixtures.V1Small, name)
	f, err := core.ReadSafetensors(path)
	if err != nil {
		t.Fatalf("open fixture: %v", err)
	}
	return f
}

// load returns a fixture tensor as float64 values and as a float32 tensor.
func load(t *testing.T, f *core.TensorFile, key string) ([]float64, []int, *core.Tensor) {
	t.Helper()
	v, s, err := f.Float64(key)
	if err != nil {
		t.Fatalf("fixture key %s: %v", key, err)
	}
	d := make([]float32, len(v))
	for i, x := range v {
		d[i] = float32(x)
	}
	return v, s, core.New(d, s...)
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
