package render

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/rvz"
)

// rvzLatents returns the PCA-space latents (every model dimension ×
// frames) that compress.Decompress decodes from f: the file's dimensions
// dequantised, the others filled as the file says, zeros or N(0, 1) from
// a generator seeded by its model hash and length (latent.FillRows, as
// model.DecodeLatentsFidelity fills them).
func rvzLatents(m *model.Model, f rvz.File) ([][]float32, error) {
	c := m.Config
	if f.SampleRate != c.SR || f.Ratio != c.CompressionRatio() || f.Dims() > c.LatentSize {
		return nil, fmt.Errorf("render: %w: the file has %d Hz, %d samples per frame, %d dims; the model %d Hz, %d, %d",
			rvz.ErrModelMismatch, f.SampleRate, f.Ratio, f.Dims(), c.SR, c.CompressionRatio(), c.LatentSize)
	}
	fid := latent.Fidelity{Dims: f.Dims(), Fill: latent.FillNoise}
	if f.ZeroFill {
		fid.Fill = latent.FillZero
	}
	k, err := m.KeptDims(fid)
	if err != nil {
		return nil, err
	}
	z := f.Latents()
	k = min(k, len(z))
	frames := f.Frames()
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(f.ModelHash[:8]), uint64(f.Length)))
	full := make([][]float32, c.LatentSize)
	for d := range full {
		full[d] = make([]float32, frames)
		if d < k {
			copy(full[d], z[d])
		}
	}
	latent.FillRows(full, k, fid.Fill, rng)
	return full, nil
}
