package model

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
)

// CodecOptions control the whole-signal helpers EncodeAudioWith and
// DecodeLatentsWith. The zero value is fully deterministic: posterior
// means, PCA space with every dimension, no noise head.
type CodecOptions struct {
	// Sample draws z = mean + std·ε instead of using the posterior mean
	// (the reference samples at inference; needs RNG).
	Sample bool
	// Noise adds the noise synthesiser's output when decoding (the
	// reference does at inference; needs RNG).
	Noise bool
	// RNG is the random source for Sample, Noise and missing dimensions.
	RNG *rand.Rand
	// Raw skips the latent PCA: latents are the decoder's own dimensions.
	Raw bool
	// Dims keeps only the first Dims PCA dimensions when encoding (0: all).
	// When decoding fewer dimensions than latent_size, the missing ones
	// are drawn from N(0, 1) if RNG is set (the reference's behaviour) and
	// are zero otherwise.
	Dims int
	// ChunkFrames bounds the latent frames processed at once (0: 256);
	// longer signals are processed in overlapping chunks whose margins
	// cover the receptive field, so the result equals one pass.
	ChunkFrames int
}

// ErrEmpty is returned for empty inputs.
var ErrEmpty = errors.New("model: empty input")

// EncodeAudio encodes a mono signal at the model's sample rate to latents
// (dims × frames, frames = ⌈len(x)/ratio⌉): deterministic posterior means
// rotated into the latent PCA space.
func (m *Model) EncodeAudio(x []float32) ([][]float32, error) {
	return m.EncodeAudioWith(x, CodecOptions{})
}

// DecodeLatents decodes latents (dims × frames, in PCA space) to n samples
// of audio (n = 0: frames × ratio); deterministic (no noise head).
func (m *Model) DecodeLatents(z [][]float32, n int) ([]float32, error) {
	return m.DecodeLatentsWith(z, n, CodecOptions{})
}

// EncodeAudioWith is EncodeAudio with options. The signal is zero-padded
// at the end to a multiple of the compression ratio.
func (m *Model) EncodeAudioWith(x []float32, o CodecOptions) ([][]float32, error) {
	if len(x) == 0 {
		return nil, ErrEmpty
	}
	if o.Sample && o.RNG == nil {
		return nil, errors.New("model: encode: Sample needs an RNG")
	}
	c := m.Config
	L := c.EncoderLatent()
	dims := L
	if o.Dims > 0 {
		if o.Dims > L {
			return nil, fmt.Errorf("model: encode: %d dimensions requested, the model has %d", o.Dims, L)
		}
		dims = o.Dims
	}
	r := c.CompressionRatio()
	frames := (len(x) + r - 1) / r
	chunk := o.chunk()
	ctx := m.encoderContext()
	mean := make([]float32, L*frames)
	std := make([]float32, L*frames)
	for f0 := 0; f0 < frames; f0 += chunk {
		f1 := min(frames, f0+chunk)
		a, b := max(0, f0-ctx), min(frames, f1+ctx)
		a, b = widen(a, b, frames, minFrames)
		seg := core.Zeros(1, 1, (b-a)*r)
		if lo := a * r; lo < len(x) {
			copy(seg.Data(), x[lo:min(len(x), b*r)])
		}
		mu, sd := m.Encode(nil, seg)
		for d := range L {
			copy(mean[d*frames+f0:d*frames+f1], mu.Data()[d*(b-a)+f0-a:d*(b-a)+f1-a])
			copy(std[d*frames+f0:d*frames+f1], sd.Data()[d*(b-a)+f0-a:d*(b-a)+f1-a])
		}
	}
	z := mean
	if o.Sample {
		for i := range z {
			z[i] += std[i] * float32(o.RNG.NormFloat64())
		}
	}
	out := make([][]float32, dims)
	if o.Raw {
		for d := range dims {
			out[d] = append([]float32(nil), z[d*frames:(d+1)*frames]...)
		}
		return out, nil
	}
	// z_p = latent_pca · (z − latent_mean), per frame (rave-spec.md §8).
	pca, mu := m.byName[bufLatentPCA].Data(), m.byName[bufLatentMean].Data()
	D := c.LatentSize
	for d := range dims {
		row := make([]float32, frames)
		for k := range L {
			w := pca[d*D+k]
			if w == 0 {
				continue
			}
			src := z[k*frames : (k+1)*frames]
			for f, v := range src {
				row[f] += w * (v - mu[k])
			}
		}
		out[d] = row
	}
	return out, nil
}

// DecodeLatentsWith is DecodeLatents with options. Missing dimensions (fewer
// rows than latent_size) are filled as CodecOptions.Dims describes; the
// output is cropped (or zero-extended) to n samples.
func (m *Model) DecodeLatentsWith(z [][]float32, n int, o CodecOptions) ([]float32, error) {
	c := m.Config
	if len(z) == 0 || len(z[0]) == 0 {
		return nil, ErrEmpty
	}
	if o.Noise && o.RNG == nil {
		return nil, errors.New("model: decode: Noise needs an RNG")
	}
	D := c.LatentSize
	if len(z) > D {
		return nil, fmt.Errorf("model: decode: %d latent dimensions, the model has %d", len(z), D)
	}
	frames := len(z[0])
	for d, row := range z {
		if len(row) != frames {
			return nil, fmt.Errorf("model: decode: latent dimension %d has %d frames, dimension 0 has %d", d, len(row), frames)
		}
	}
	full := make([]float32, D*frames)
	for d := range D {
		row := full[d*frames : (d+1)*frames]
		switch {
		case d < len(z):
			copy(row, z[d])
		case o.RNG != nil:
			for f := range row {
				row[f] = float32(o.RNG.NormFloat64())
			}
		}
	}
	if !o.Raw {
		// z = latent_pcaᵀ · z_p + latent_mean.
		pca, mu := m.byName[bufLatentPCA].Data(), m.byName[bufLatentMean].Data()
		lat := make([]float32, D*frames)
		for k := range D {
			dst := lat[k*frames : (k+1)*frames]
			for f := range dst {
				dst[f] = mu[k]
			}
			for d := range D {
				w := pca[d*D+k]
				if w == 0 {
					continue
				}
				for f, v := range full[d*frames : (d+1)*frames] {
					dst[f] += w * v
				}
			}
		}
		full = lat
	}
	r := c.CompressionRatio()
	if n <= 0 {
		n = frames * r
	}
	out := make([]float32, n)
	chunk := o.chunk()
	ctx := m.decoderContext()
	var rng *rand.Rand
	if o.Noise {
		rng = o.RNG
	}
	for f0 := 0; f0 < frames && f0*r < n; f0 += chunk {
		f1 := min(frames, f0+chunk)
		a, b := max(0, f0-ctx), min(frames, f1+ctx)
		a, b = widen(a, b, frames, minFrames)
		zt := core.Zeros(1, D, b-a)
		for d := range D {
			src := full[d*frames : (d+1)*frames]
			dst := zt.Data()[d*(b-a) : (d+1)*(b-a)]
			for f := a; f < b; f++ {
				if f >= 0 && f < frames {
					dst[f-a] = src[f]
				}
			}
		}
		y := m.Decode(nil, zt, o.Noise, rng).Data()
		lo, hi := f0*r, min(n, f1*r)
		copy(out[lo:hi], y[(f0-a)*r:(f0-a)*r+hi-lo])
	}
	return out, nil
}

// minFrames is the smallest number of latent frames run at once: shorter
// windows are widened (with zero frames beyond the signal) so that every
// dilated convolution sees at least as many samples as its padding.
const minFrames = 4

// widen grows [a, b) to at least n frames, preferring to extend to the
// right; it may go beyond [0, frames) (the caller pads with zeros).
func widen(a, b, frames, n int) (int, int) {
	for b-a < n {
		if b < frames || a <= 0 {
			b++
		} else {
			a--
		}
	}
	return a, b
}

func (o CodecOptions) chunk() int {
	if o.ChunkFrames > 0 {
		return o.ChunkFrames
	}
	return 256
}

// encoderContext returns the latent frames of context each side that cover
// the encoder's (and analysis PQMF's) receptive field.
func (m *Model) encoderContext() int {
	c := m.Config
	// In sub-band samples at the encoder input.
	span := 3 // conv k7
	step := 1
	for _, r := range c.Ratios {
		span += r * step // conv k 2r+1 stride r
		step *= r
	}
	span += 2 * step // output conv k5
	samples := span*c.DataSize + pqmfHalf(m)
	return ceilDiv(samples, c.CompressionRatio()) + 1
}

// decoderContext returns the latent frames of context each side that cover
// the decoder's (and synthesis PQMF's) receptive field.
func (m *Model) decoderContext() int {
	c := m.Config
	step := c.Ratio() // sub-band samples per latent frame
	span := 3 * step  // input conv k7
	for _, r := range c.Ratios {
		span += step // transposed conv: ±1 input sample
		step /= max(r, 1)
		if r == 1 {
			span += step
		}
		span += (1 + 1 + 3 + 1 + 9 + 1) * step // residual stack
	}
	span += 3 * step // heads (k7)
	samples := span*c.DataSize + pqmfHalf(m)
	return ceilDiv(samples, c.CompressionRatio()) + 1
}

func pqmfHalf(m *Model) int {
	if t := m.byName[bufPQMFFwd]; t != nil {
		return t.Dim(2)
	}
	return 0
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
