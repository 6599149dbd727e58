package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
)

// Analysis splits audio x (B, 1, T) into the model's PQMF bands
// (B, data_size, T/data_size); T must be a multiple of data_size. With
// data_size 1 it returns x.
func (m *Model) Analysis(tp *core.Tape, x *core.Tensor) *core.Tensor {
	if b := m.bank(); b != nil {
		return b.Analysis(tp, x)
	}
	return x
}

// Synthesis merges PQMF bands y (B, data_size, T) back into audio
// (B, 1, T·data_size). With data_size 1 it returns y.
func (m *Model) Synthesis(tp *core.Tape, y *core.Tensor) *core.Tensor {
	if b := m.bank(); b != nil {
		return b.Synthesis(tp, y)
	}
	return y
}

// Encode maps audio x (B, 1, T), T a multiple of the compression ratio, to
// the posterior mean and standard deviation (softplus(scale) + 1e-4), each
// (B, latent, T/ratio).
func (m *Model) Encode(tp *core.Tape, x *core.Tensor) (mean, std *core.Tensor) {
	checkInput("Encode", x, 1)
	if r := m.Config.CompressionRatio(); x.Dim(2)%r != 0 {
		panic(fmt.Sprintf("model: Encode: length %d is not a multiple of the compression ratio %d", x.Dim(2), r))
	}
	mean, scale := m.Encoder.Forward(tp, m.Analysis(tp, x))
	return mean, PosteriorStd(tp, scale)
}

// DecodeBands maps latents z (B, latent, F) to PQMF bands
// (B, data_size, F·Π ratios). The noise head's output is added when
// addNoise is set (rng draws the excitation).
func (m *Model) DecodeBands(tp *core.Tape, z *core.Tensor, addNoise bool, rng *rand.Rand) *core.Tensor {
	checkInput("Decode", z, m.Config.LatentSize)
	return m.Decoder.Forward(tp, z, addNoise, rng)
}

// Decode maps latents z (B, latent, F) to audio (B, 1, F·ratio).
func (m *Model) Decode(tp *core.Tape, z *core.Tensor, addNoise bool, rng *rand.Rand) *core.Tensor {
	return m.Synthesis(tp, m.DecodeBands(tp, z, addNoise, rng))
}

// CompleteLatent returns z (B, latent, F) for a posterior sample z of the
// encoder's dimensions: with cropped_latent_size the missing dimensions are
// filled with N(0, 1) noise from rng (zeros if rng is nil), as the
// reference does in training; otherwise z itself.
func (m *Model) CompleteLatent(tp *core.Tape, z *core.Tensor, rng *rand.Rand) *core.Tensor {
	c := m.Config
	if c.EncoderLatent() == c.LatentSize {
		return z
	}
	B, F := z.Dim(0), z.Dim(2)
	pad := core.Zeros(B, c.LatentSize-c.EncoderLatent(), F)
	if rng != nil {
		pad = core.Randn(rng, B, c.LatentSize-c.EncoderLatent(), F)
	}
	return tp.Concat(1, z, pad)
}
