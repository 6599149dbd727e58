package prior

import (
	"fmt"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/arith"
)

// codeTotal is the frequency total of the coding tables: 2^16 keeps the
// floor of 1 per class at a probability of 1.5e-5.
const codeTotal = 1 << 16

// EncodeLatents quantises the latents z (1, k, T) and entropy-codes the
// class indices with the prior's predicted distributions: frame 0 with a
// uniform table (log2 Classes bits per dimension), frame t > 0 with the
// softmax of the sampler's logits after frames 0…t−1. It returns the
// stream and its length in bits. Decoding needs the same prior and T.
func (p *Prior) EncodeLatents(z *core.Tensor) ([]byte, int, error) {
	sh := z.Shape()
	if len(sh) != 3 || sh[0] != 1 || sh[1] != p.cfg.Dims {
		return nil, 0, fmt.Errorf("prior: encode latents: shape %v, want (1, %d, T)", sh, p.cfg.Dims)
	}
	idx := p.quant.Indices(nil, z)
	enc := arith.NewEncoder()
	err := p.codePath(sh[2], func(d, t int, cum []uint32) (int32, error) {
		c := idx[d*sh[2]+t]
		enc.Encode(cum, int(c))
		return c, nil
	})
	if err != nil {
		return nil, 0, err
	}
	data := enc.Finish()
	return data, len(data) * 8, nil
}

// DecodeLatents inverts EncodeLatents for a clip of T frames and returns
// the dequantised latents (1, k, T) and their class indices ((k, T)
// row-major). A corrupt stream returns an error wrapping arith.ErrCorrupt
// or garbage latents.
func (p *Prior) DecodeLatents(data []byte, T int) (*core.Tensor, []int32, error) {
	if T < 0 {
		return nil, nil, fmt.Errorf("prior: decode latents: %d frames", T)
	}
	D := p.cfg.Dims
	idx := make([]int32, D*T)
	dec := arith.NewDecoder(data)
	err := p.codePath(T, func(d, t int, cum []uint32) (int32, error) {
		s, err := dec.Decode(cum)
		if err != nil {
			return 0, fmt.Errorf("prior: decode latents: frame %d dim %d: %w", t, d, err)
		}
		idx[d*T+t] = int32(s)
		return int32(s), nil
	})
	if err != nil {
		return nil, nil, err
	}
	return p.quant.Values(idx, 1, D, T), idx, nil
}

// codePath walks the T×k symbols in coding order, handing each its table;
// sym returns the symbol actually coded, which is fed back to the sampler.
// Encoder and decoder share it, so they replay the same computation.
func (p *Prior) codePath(T int, sym func(d, t int, cum []uint32) (int32, error)) error {
	D, Q := p.cfg.Dims, p.cfg.Classes
	uniform := make([]uint32, Q+1)
	for q := range Q {
		uniform[q+1] = uniform[q] + codeTotal/uint32(Q)
	}
	s := p.NewSampler()
	frame := make([]int32, D)
	probs := make([]float64, Q)
	var logits []float32
	for t := range T {
		for d := range D {
			cum := uniform
			if t > 0 {
				softmaxInto(probs, logits[d*Q:(d+1)*Q], 1)
				cum = arith.Frequencies(probs, codeTotal)
			}
			c, err := sym(d, t, cum)
			if err != nil {
				return err
			}
			frame[d] = c
		}
		if t+1 < T {
			logits = s.Step(frame)
		}
	}
	return nil
}
