package model

import (
	"fmt"

	"github.com/ravestation/rave/core"
)

// leakySlope is the negative slope of every LeakyReLU in RAVE.
const leakySlope = 0.2

// padding returns the (left, right) padding of a cached_conv Conv1d of
// kernel k and dilation d: centred or, with no_latency, causal
// (rave-spec.md §0.1; the stride is ignored, as in get_padding).
func (c Config) padding(k, d int) (int, int) {
	if c.NoLatency {
		return core.CausalPadding(k, d)
	}
	return core.SamePadding(k, d)
}

// Encoder is the v1 encoder (rave/model.py Encoder, rave-spec.md §3.1):
// conv k7, then per ratio r BatchNorm → LeakyReLU → conv k 2r+1 stride r
// doubling the channels, then LeakyReLU → grouped (2 groups) conv k5 giving
// mean and scale. Its layers are encoder.net.{i}.
type Encoder struct {
	convs []*conv    // net.0, net.3, net.6, …, and the output conv
	bns   []*bnLayer // net.1, net.4, …
	// Training selects batch statistics in the BatchNorm layers (and
	// updates their running statistics); otherwise running statistics
	// are used (eval mode).
	Training bool
	latent   int
}

func newEncoder(ps *core.ParamSet, gen *cacheGen, c Config) *Encoder {
	e := &Encoder{latent: c.EncoderLatent()}
	l, r := c.padding(7, 1)
	e.convs = append(e.convs, newConv(ps, gen, convSpec{name: "encoder.net.0", in: c.DataSize, out: c.Capacity, k: 7, bias: c.Bias, padL: l, padR: r}))
	idx := 1
	out := c.Capacity
	for i, ratio := range c.Ratios {
		in := c.Capacity << i
		out = c.Capacity << (i + 1)
		e.bns = append(e.bns, newBN(ps, fmt.Sprintf("encoder.net.%d", idx), in))
		k := 2*ratio + 1
		l, r := c.padding(k, 1)
		e.convs = append(e.convs, newConv(ps, gen, convSpec{
			name: fmt.Sprintf("encoder.net.%d", idx+2), in: in, out: out, k: k, stride: ratio, bias: c.Bias, padL: l, padR: r,
		}))
		idx += 3
	}
	l, r = c.padding(5, 1)
	e.convs = append(e.convs, newConv(ps, gen, convSpec{
		name: fmt.Sprintf("encoder.net.%d", idx+1), in: out, out: 2 * e.latent, k: 5, groups: 2, bias: c.Bias, padL: l, padR: r,
	}))
	return e
}

// Forward maps sub-band signals x (B, data_size, T) to the posterior
// parameters mean and scale, each (B, latent, T/Π ratios).
func (e *Encoder) Forward(tp *core.Tape, x *core.Tensor) (mean, scale *core.Tensor) {
	if tp == nil && !e.Training && fastInference {
		return e.encodeInfer(x)
	}
	h := e.convs[0].forward(tp, x)
	for i, bn := range e.bns {
		h = bn.forward(tp, h, e.Training)
		h = e.convs[i+1].forwardLeaky(tp, h)
	}
	h = e.convs[len(e.convs)-1].forwardLeaky(tp, h)
	return tp.Slice(h, 1, 0, e.latent), tp.Slice(h, 1, e.latent, 2*e.latent)
}
