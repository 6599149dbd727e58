package modelv2

import (
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
)

// fixtureSet is the folder of the reduced-size RAVE v2 parity fixtures
// (../shared/fixtures/rave-v2-small, README.md there).
const fixtureSet = "rave-v2-small"

// forwardTol is the parity tolerance of forward values, discriminator
// outputs, loss terms and well-conditioned gradients: max |got − want| /
// max |want| against the reference's float64 run.
const forwardTol = 1e-4

// refFiles are the fixture files a test binary reads once.
type refFiles struct {
	state, effective, f64, f32, discReal *core.TensorFile
}

var fixtureCache struct {
	once  sync.Once
	files refFiles
	err   error
}

// loadFixtures returns the fixture files, skipping the test when the
// fixture folder is absent.
func loadFixtures(t testing.TB) refFiles {
	t.Helper()
	dir := fixtures.Dir(t, fixtureSet)
	fixtureCache.once.Do(func() {
		read := func(name string) *core.TensorFile {
			if fixtureCache.err != nil {
				return nil
			}
			tf, err := core.ReadSafetensors(filepath.Join(dir, name))
			fixtureCache.err = err
			return tf
		}
		f := &fixtureCache.files
		f.state = read("v2_small_state_dict.safetensors")
		f.effective = read("v2_small_effective_weights.safetensors")
		f.f64 = read("v2_small_reference_f64.safetensors")
		f.f32 = read("v2_small_reference.safetensors")
		f.discReal = read("v2_small_disc_features_real.safetensors")
	})
	if fixtureCache.err != nil {
		t.Fatalf("reading fixtures: %v", fixtureCache.err)
	}
	return fixtureCache.files
}

// fixtureModel returns a fresh v2-small model, discriminator included,
// loaded from the fixture state dict.
func fixtureModel(t testing.TB) (*Model, refFiles) {
	t.Helper()
	ref := loadFixtures(t)
	cfg, err := Preset("v2-small")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadStateDict(ref.state); err != nil {
		t.Fatal(err)
	}
	return m, ref
}

// refTensor returns a fixture array as a float32 tensor.
func refTensor(t testing.TB, tf *core.TensorFile, name string) *core.Tensor {
	t.Helper()
	x, err := tf.Tensor(name)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// relErr returns max |got − want| / max |want| (the absolute error when
// want is zero) and an error if the lengths differ.
func relErr(got []float32, want []float64) (float64, error) {
	if len(got) != len(want) {
		return math.Inf(1), fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	var d, w float64
	for i, v := range want {
		d = max(d, math.Abs(float64(got[i])-v))
		w = max(w, math.Abs(v))
	}
	if math.IsNaN(d) {
		return math.Inf(1), nil
	}
	if w == 0 {
		return d, nil
	}
	return d / w, nil
}

// compareKey returns the relative error of got against fixture key name in
// tf, checking the shape.
func compareKey(tf *core.TensorFile, name string, got *core.Tensor) (float64, error) {
	want, shape, err := tf.Float64(name)
	if err != nil {
		return 0, err
	}
	if n := got.Len(); n != len(want) || !sameDims(got.Shape(), shape) {
		return 0, fmt.Errorf("%s: shape %v, want %v", name, got.Shape(), shape)
	}
	return relErr(got.Data(), want)
}

// sameDims compares shapes, treating a scalar and a one-element vector as
// equal.
func sameDims(a, b []int) bool {
	if len(a) != len(b) {
		na, nb := 1, 1
		for _, d := range a {
			na *= d
		}
		for _, d := range b {
			nb *= d
		}
		return na == 1 && nb == 1
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func scalar(v float64) *core.Tensor { return core.Scalar(float32(v)) }

func vector(v []float64) *core.Tensor {
	t := core.Zeros(len(v))
	for i, x := range v {
		t.Data()[i] = float32(x)
	}
	return t
}

// paramGrad returns a copy of the gradient of the named parameter.
func paramGrad(t testing.TB, m *Model, name string) *core.Tensor {
	t.Helper()
	p := paramByName(t, m, name)
	return core.New(append([]float32(nil), p.Grad()...), p.Shape()...)
}

// paramByName returns the named parameter of m.
func paramByName(t testing.TB, m *Model, name string) *core.Tensor {
	t.Helper()
	for _, ps := range []*core.ParamSet{m.Enc, m.Dec, m.Disc} {
		if ps == nil {
			continue
		}
		if p := ps.Get(name); p != nil {
			return p
		}
	}
	t.Fatalf("no parameter %s", name)
	return nil
}

// zeroGrads clears every parameter gradient of m.
func zeroGrads(m *Model) {
	for _, ps := range []*core.ParamSet{m.Enc, m.Dec, m.Disc} {
		if ps != nil {
			ps.ZeroGrad()
		}
	}
}

// check is one parity comparison.
type check struct {
	key string
	got *core.Tensor
	tol float64
}

// runChecks compares each check against the float64 reference in a
// subtest named after its key and logs the error found.
func runChecks(t *testing.T, ref refFiles, checks []check) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.key, func(t *testing.T) {
			e, err := compareKey(ref.f64, c.key, c.got)
			if err != nil {
				t.Fatal(err)
			}
			if e > c.tol {
				t.Fatalf("%s: max relative error %.3g, want ≤ %.3g", c.key, e, c.tol)
			}
			t.Logf("%s: max relative error %.3g (tolerance %.3g)", c.key, e, c.tol)
		})
	}
}
