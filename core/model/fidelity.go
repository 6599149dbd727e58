package model

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ravestation/rave/core/latent"
)

// KeptDims returns the number of PCA dimensions f keeps (1 …
// latent_size), from the model's fidelity curve when f asks for a share
// of the variance (latent.ErrNoAnalysis without a latent analysis, or
// with one that has no fidelity curve: an imported TorchScript export's).
func (m *Model) KeptDims(f latent.Fidelity) (int, error) {
	var curve []float32
	if fid := m.byName[bufFidelity].Data(); m.LatentAnalysis.Done && slices.ContainsFunc(fid, func(v float32) bool { return v != 0 }) {
		curve = fid
	}
	return f.Kept(m.Config.LatentSize, curve)
}

// DecodeLatentsFidelity decodes PCA-space latents (dims × frames) keeping
// the first k dimensions that fid selects (and that z has) and replacing
// the others per fid.Fill, then decodes as DecodeLatentsWith does (o.Raw
// must be unset; o.RNG draws the fill noise and, with o.Noise, the noise
// head's excitation). n is the output length (0: frames × ratio).
func (m *Model) DecodeLatentsFidelity(z [][]float32, n int, fid latent.Fidelity, o CodecOptions) ([]float32, error) {
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
	latent.FillRows(full, k, fid.Fill, o.RNG)
	return m.DecodeLatentsWith(full, n, o)
}
