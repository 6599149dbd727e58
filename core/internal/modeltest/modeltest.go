// Package modeltest holds the helpers that the tests of the model's
// packages (core/model, core/stream, core/interop, core/compress) share:
// test signals, differences and a random latent PCA. It works on plain
// slices, so core/model's own tests can use it too.
package modeltest

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/ravestation/rave/core"
)

// Sine returns n samples at rate sr of a partial at f Hz (0.4) plus one at
// 3.1·f (0.1).
func Sine(n int, f, sr float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.4*math.Sin(2*math.Pi*f*float64(i)/sr) + 0.1*math.Sin(2*math.Pi*3.1*f*float64(i)/sr))
	}
	return x
}

// MaxAbsDiff returns max |a[i] − b[i]|, or 1e30 when the lengths differ.
func MaxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return 1e30
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// RelDiff returns max |a[i] − b[i]| relative to max |b[i]| (the absolute
// difference when b is zero). It panics when the lengths differ.
func RelDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		panic("modeltest: RelDiff: lengths differ")
	}
	var d, m float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
		m = max(m, math.Abs(float64(b[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// RandomPCA fills pca (D × D, row-major, D = len(mean)) with a random
// orthogonal matrix (Orthogonal) and then mean with N(0, 0.1²) values,
// drawing from rng in that order.
func RandomPCA(pca, mean []float32, rng *rand.Rand) {
	copy(pca, Orthogonal(rng, len(mean)))
	for i := range mean {
		mean[i] = float32(0.1 * rng.NormFloat64())
	}
}

// Orthogonal returns a random orthogonal D × D matrix, row-major:
// Gram–Schmidt on rows of N(0, 1) values drawn from rng.
func Orthogonal(rng *rand.Rand, D int) []float32 {
	q := make([][]float64, D)
	for i := range q {
		v := make([]float64, D)
		for j := range v {
			v[j] = rng.NormFloat64()
		}
		for _, u := range q[:i] {
			var dot float64
			for j := range v {
				dot += v[j] * u[j]
			}
			for j := range v {
				v[j] -= dot * u[j]
			}
		}
		var nrm float64
		for _, a := range v {
			nrm += a * a
		}
		nrm = math.Sqrt(nrm)
		for j := range v {
			v[j] /= nrm
		}
		q[i] = v
	}
	out := make([]float32, 0, D*D)
	for _, row := range q {
		for _, a := range row {
			out = append(out, float32(a))
		}
	}
	return out
}

// Randomize gives a model's buffers (model.Model.Buffers: state-dict
// names) non-trivial values, drawing from rng: every BatchNorm's running
// mean N(0, 0.1²) and variance U(0.5, 1.5), then a random orthogonal
// latent PCA (RandomPCA of latent_pca and latent_mean).
func Randomize(buffers []*core.Tensor, rng *rand.Rand) {
	byName := map[string]*core.Tensor{}
	for _, b := range buffers {
		byName[b.Name] = b
	}
	for _, b := range buffers {
		bn, ok := strings.CutSuffix(b.Name, ".running_mean")
		if !ok {
			continue
		}
		mean, vari := b.Data(), byName[bn+".running_var"].Data()
		for i := range mean {
			mean[i] = float32(rng.NormFloat64() * 0.1)
			vari[i] = float32(0.5 + rng.Float64())
		}
	}
	RandomPCA(byName["latent_pca"].Data(), byName["latent_mean"].Data(), rng)
}

// Fidelity16 is a cumulative fidelity curve of 16 latent dimensions that
// reaches 0.5, 0.8, 0.9, 0.95 and 0.99 at 1, 2, 4, 6 and 10 dimensions.
var Fidelity16 = []float32{0.5, 0.8, 0.85, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99, 0.993, 0.995, 0.997, 0.998, 0.999, 1}
