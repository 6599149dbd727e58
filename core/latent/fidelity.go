package latent

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// DimsRule says how a fidelity share f becomes a number of PCA dimensions
// (rave-spec.md §8).
type DimsRule int

const (
	// RuleReference is the reference export's rule and the default:
	// r = argmax(fidelity > f) (a 0-based index, one less than the
	// dimensions actually needed, acids-ircam/RAVE#335), r = max(r, 1),
	// then the next power of two, capped at latent_size.
	RuleReference DimsRule = iota
	// RuleExact keeps the smallest number of dimensions whose cumulative
	// explained variance reaches f.
	RuleExact
)

// Fidelity says how many latent PCA dimensions survive to the decoder and
// what replaces the others (rave-spec.md §8: the reference keeps the first
// latent_size dimensions and pads the rest with fresh N(0,1) noise, or
// zeros in --deterministic mode). The zero value keeps every dimension.
type Fidelity struct {
	// Dims keeps the first Dims PCA dimensions. It takes precedence over F.
	Dims int `json:"dims,omitempty"`
	// F, when Dims is 0, keeps the dimensions needed to explain a share
	// F (0 < F ≤ 1) of the latent variance, counted per Rule. It needs the
	// model's latent analysis.
	F float64 `json:"fidelity,omitempty"`
	// Rule turns F into a number of dimensions (default RuleReference).
	Rule DimsRule `json:"rule,omitempty"`
	// Fill replaces the dimensions that are not kept: FillNoise (the zero
	// value, the reference's behaviour; needs an RNG) or FillZero
	// (deterministic).
	Fill Fill `json:"fill,omitempty"`
}

// String returns "reference" or "exact".
func (r DimsRule) String() string {
	if r == RuleExact {
		return "exact"
	}
	return "reference"
}

// ErrNoAnalysis is returned when a fidelity share is asked of a model
// without a latent analysis.
var ErrNoAnalysis = errors.New("latent: the model has no latent analysis (run rave analyze, or give a number of dimensions)")

// Kept returns the number of PCA dimensions f keeps (1 … D) of a latent
// space of D dimensions whose cumulative fidelity curve is curve (nil
// without a latent analysis: then a share F gives ErrNoAnalysis).
func (f Fidelity) Kept(D int, curve []float32) (int, error) {
	switch {
	case f.Dims < 0:
		return 0, fmt.Errorf("latent: fidelity: %d dimensions", f.Dims)
	case f.Dims > D:
		return 0, fmt.Errorf("latent: fidelity: %d dimensions requested, the model has %d", f.Dims, D)
	case f.Dims > 0:
		return f.Dims, nil
	case f.F == 0:
		return D, nil
	case !(f.F > 0 && f.F <= 1):
		return 0, fmt.Errorf("latent: fidelity %g must be in (0, 1]", f.F)
	case curve == nil:
		return 0, ErrNoAnalysis
	}
	exact, ref := dimsForFidelity(curve, f.F)
	if f.Rule == RuleExact {
		return exact, nil
	}
	return ref, nil
}

// dimsForFidelity applies both rules to a cumulative fidelity curve,
// comparing in float32 as the reference does (a float32 tensor against a
// Python float): exact is the smallest k with fidelity[k−1] ≥ f; the
// reference rule takes r = argmax(fidelity > f) (latent_size − 1 if no
// value exceeds f), r = max(r, 1), then 2^⌈log2 r⌉ capped at latent_size.
func dimsForFidelity(fid []float32, f float64) (exact, reference int) {
	D := len(fid)
	f32 := float32(f)
	exact = D
	for i, v := range fid {
		if v >= f32 {
			exact = i + 1
			break
		}
	}
	r := D - 1
	for i, v := range fid {
		if v > f32 {
			r = i
			break
		}
	}
	r = max(r, 1)
	p := 1
	for p < r {
		p *= 2
	}
	return exact, min(p, D)
}

// FillRows fills dims [k, len(rows)) of PCA-space latents (rows of
// frames values) per fill: N(0,1) draws from rng, row by row, or zeros.
func FillRows(rows [][]float32, k int, fill Fill, rng *rand.Rand) {
	for _, row := range rows[k:] {
		if fill == FillZero {
			clear(row)
			continue
		}
		for f := range row {
			row[f] = float32(rng.NormFloat64())
		}
	}
}
