package model

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core/latent"
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

// String returns "reference" or "exact".
func (r DimsRule) String() string {
	if r == RuleExact {
		return "exact"
	}
	return "reference"
}

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
	// Fill replaces the dimensions that are not kept: latent.FillNoise
	// (the zero value, the reference's behaviour; needs an RNG) or
	// latent.FillZero (deterministic).
	Fill latent.Fill `json:"fill,omitempty"`
}

// ErrNoAnalysis is returned when a fidelity share is asked of a model
// without a latent analysis.
var ErrNoAnalysis = errors.New("model: the model has no latent analysis (run rave analyze, or give a number of dimensions)")

// KeptDims returns the number of PCA dimensions f keeps (1 … latent_size).
func (m *Model) KeptDims(f Fidelity) (int, error) {
	D := m.Config.LatentSize
	switch {
	case f.Dims < 0:
		return 0, fmt.Errorf("model: fidelity: %d dimensions", f.Dims)
	case f.Dims > D:
		return 0, fmt.Errorf("model: fidelity: %d dimensions requested, the model has %d", f.Dims, D)
	case f.Dims > 0:
		return f.Dims, nil
	case f.F == 0:
		return D, nil
	case !(f.F > 0 && f.F <= 1):
		return 0, fmt.Errorf("model: fidelity %g must be in (0, 1]", f.F)
	case !m.LatentAnalysis.Done:
		return 0, ErrNoAnalysis
	}
	exact, ref := dimsForFidelity(m.byName[bufFidelity].Data(), f.F)
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

// fillLatent fills dims [k, len(rows)) of PCA-space latents (rows of
// frames values) per fill: N(0,1) draws from rng, row by row, or zeros.
func fillLatent(rows [][]float32, k int, fill latent.Fill, rng *rand.Rand) {
	for _, row := range rows[k:] {
		if fill == latent.FillZero {
			clear(row)
			continue
		}
		for f := range row {
			row[f] = float32(rng.NormFloat64())
		}
	}
}

// DecodeLatentsFidelity decodes PCA-space latents (dims × frames) keeping
// the first k dimensions that fid selects (and that z has) and replacing
// the others per fid.Fill, then decodes as DecodeLatentsWith does (o.Raw
// must be unset; o.RNG draws the fill noise and, with o.Noise, the noise
// head's excitation). n is the output length (0: frames × ratio).
func (m *Model) DecodeLatentsFidelity(z [][]float32, n int, fid Fidelity, o CodecOptions) ([]float32, error) {
	if o.Raw {
		return nil, errors.New("model: decode: a fidelity applies to PCA-space latents, not raw ones")
	}
	if len(z) == 0 || len(z[0]) == 0 {
		return nil, ErrEmpty
	}
	k, err := m.KeptDims(fid)
	if err != nil {
		return nil, err
	}
	D := m.Config.LatentSize
	if len(z) > D {
		return nil, fmt.Errorf("model: decode: %d latent dimensions, the model has %d", len(z), D)
	}
	k = min(k, len(z))
	if k < D && fid.Fill == latent.FillNoise && o.RNG == nil {
		return nil, errors.New("model: decode: filling dimensions with noise needs an RNG")
	}
	frames := len(z[0])
	full := make([][]float32, D)
	for d := range D {
		full[d] = make([]float32, frames)
		if d < k {
			if len(z[d]) != frames {
				return nil, fmt.Errorf("model: decode: latent dimension %d has %d frames, dimension 0 has %d", d, len(z[d]), frames)
			}
			copy(full[d], z[d])
		}
	}
	fillLatent(full, k, fid.Fill, o.RNG)
	return m.DecodeLatentsWith(full, n, o)
}
