// Package latent is RAVE's post-training latent analysis (rave-spec §8):
// the PCA of posterior means that orders the latent dimensions by explained
// variance, the fidelity curve used to choose how many dimensions to keep,
// and the projections between raw latents and the compact PCA space.
//
// Conventions follow the reference: latent_pca is D×D with principal axes
// as rows, sorted by decreasing explained variance; fidelity[i] is the share
// of variance explained by the first i+1 components; a latent frame z (D)
// maps to PCA space as z_p = latent_pca · (z − latent_mean).
package latent

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// ErrTooFewFrames is returned when there are fewer frames than latent
// dimensions: the reference crashes there (scikit-learn "n_components must
// be between 0 and min(n_samples, n_features)", acids-ircam/RAVE#108).
var ErrTooFewFrames = errors.New("latent: too few frames for the latent analysis")

// Analysis is the result of a latent PCA.
type Analysis struct {
	// Mean is latent_mean (D).
	Mean []float32 `json:"latent_mean"`
	// PCA is latent_pca, D×D row-major, principal axes as rows.
	PCA []float32 `json:"latent_pca"`
	// Fidelity is the cumulative explained-variance ratio (D).
	Fidelity []float32 `json:"fidelity"`
	// Variance is the variance explained by each component (D), i.e. the
	// squared singular values divided by frames − 1.
	Variance []float64 `json:"variance"`
	// Frames is the number of latent frames analysed.
	Frames int `json:"frames"`
}

// Dims returns D, the latent dimensionality.
func (a *Analysis) Dims() int { return len(a.Mean) }

// Identity returns the analysis of an untrained model: zero mean, identity
// PCA and zero fidelity, as the reference initialises its buffers.
func Identity(d int) *Analysis {
	a := &Analysis{Mean: make([]float32, d), PCA: make([]float32, d*d), Fidelity: make([]float32, d), Variance: make([]float64, d)}
	for i := range d {
		a.PCA[i*d+i] = 1
	}
	return a
}

// Fit computes the PCA of frames, a slice of latent frames of equal length
// D (the posterior means of the validation set), with a full SVD in float64.
// Component signs follow scikit-learn's svd_flip (the largest-magnitude
// entry of each row of U is positive) so results are reproducible.
func Fit(frames [][]float32) (*Analysis, error) {
	n := len(frames)
	if n == 0 {
		return nil, fmt.Errorf("%w: no frames (encode some validation audio first)", ErrTooFewFrames)
	}
	d := len(frames[0])
	if n < d {
		return nil, fmt.Errorf("%w: %d frames for %d latent dimensions; add at least %d more frames (%.1f s of audio at 2048 samples per frame and 48 kHz)",
			ErrTooFewFrames, n, d, d-n, float64((d-n)*2048)/48000)
	}
	mean := make([]float64, d)
	for i, f := range frames {
		if len(f) != d {
			panic(fmt.Sprintf("latent: frame %d has %d values, want %d", i, len(f), d))
		}
		for j, v := range f {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	x := mat.NewDense(n, d, nil)
	for i, f := range frames {
		for j, v := range f {
			x.Set(i, j, float64(v)-mean[j])
		}
	}
	var svd mat.SVD
	if !svd.Factorize(x, mat.SVDThin) {
		return nil, errors.New("latent: SVD did not converge")
	}
	s := svd.Values(nil)
	var u, vt mat.Dense
	svd.UTo(&u)
	svd.VTo(&vt) // V (d×d); components are its columns
	a := &Analysis{Mean: make([]float32, d), PCA: make([]float32, d*d), Fidelity: make([]float32, d), Variance: make([]float64, d), Frames: n}
	var total float64
	for _, v := range s {
		total += v * v
	}
	cum := 0.0
	for k := range d {
		// svd_flip: make the largest |U[:,k]| positive.
		sign := 1.0
		best := 0.0
		for i := range n {
			if v := u.At(i, k); math.Abs(v) > math.Abs(best) {
				best = v
			}
		}
		if best < 0 {
			sign = -1
		}
		for j := range d {
			a.PCA[k*d+j] = float32(sign * vt.At(j, k))
		}
		a.Variance[k] = s[k] * s[k] / float64(max(n-1, 1))
		cum += s[k] * s[k]
		if total > 0 {
			a.Fidelity[k] = float32(cum / total)
		}
	}
	for j := range d {
		a.Mean[j] = float32(mean[j])
	}
	return a, nil
}

// DimsForFidelity returns the smallest number of PCA dimensions whose
// cumulative explained variance reaches f (0 < f ≤ 1), and the reference's
// export rule: r = argmax(fidelity > f) (a 0-based index, one less than the
// dimensions needed; acids-ircam/RAVE#335), at least 1, rounded up to a
// power of two and capped at D.
func (a *Analysis) DimsForFidelity(f float64) (exact, reference int) {
	d := len(a.Fidelity)
	exact = d
	for i, v := range a.Fidelity {
		if float64(v) >= f {
			exact = i + 1
			break
		}
	}
	r := d - 1
	for i, v := range a.Fidelity {
		if float64(v) > f {
			r = i
			break
		}
	}
	r = max(r, 1)
	reference = 1 << int(math.Ceil(math.Log2(float64(r))))
	return exact, min(reference, d)
}

// Project maps latent frames (D × frames, dims-major as the encoder emits
// them) into PCA space: z_p = latent_pca · (z − latent_mean). It returns a
// new D × frames slice.
func (a *Analysis) Project(z [][]float32) [][]float32 {
	d := a.Dims()
	if len(z) != d {
		panic(fmt.Sprintf("latent: Project: %d dims, analysis has %d", len(z), d))
	}
	T := len(z[0])
	out := make([][]float32, d)
	for k := range d {
		out[k] = make([]float32, T)
	}
	col := make([]float64, d)
	for t := range T {
		for j := range d {
			col[j] = float64(z[j][t]) - float64(a.Mean[j])
		}
		for k := range d {
			var s float64
			row := a.PCA[k*d : (k+1)*d]
			for j, v := range row {
				s += float64(v) * col[j]
			}
			out[k][t] = float32(s)
		}
	}
	return out
}

// Fill says what replaces the PCA dimensions that are not kept.
type Fill int

const (
	// FillNoise draws fresh N(0,1) values, as the reference does.
	FillNoise Fill = iota
	// FillZero uses zeros (the reference's --deterministic mode).
	FillZero
)

// Unproject maps k kept PCA dimensions (k × frames, k ≤ D) back to raw
// latents (D × frames): the missing D−k dimensions are filled per fill
// (rng is used only by FillNoise), then z = latent_pcaᵀ · z_p + latent_mean.
func (a *Analysis) Unproject(zp [][]float32, fill Fill, rng *rand.Rand) [][]float32 {
	d := a.Dims()
	k := len(zp)
	if k == 0 || k > d {
		panic(fmt.Sprintf("latent: Unproject: %d dims kept of %d", k, d))
	}
	T := len(zp[0])
	out := make([][]float32, d)
	for j := range d {
		out[j] = make([]float32, T)
	}
	col := make([]float64, d)
	for t := range T {
		for i := range d {
			switch {
			case i < k:
				col[i] = float64(zp[i][t])
			case fill == FillNoise:
				col[i] = rng.NormFloat64()
			default:
				col[i] = 0
			}
		}
		for j := range d {
			s := float64(a.Mean[j])
			for i := range d {
				s += float64(a.PCA[i*d+j]) * col[i]
			}
			out[j][t] = float32(s)
		}
	}
	return out
}
