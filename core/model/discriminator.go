package model

import (
	"fmt"

	"github.com/ravestation/rave/core"
)

// Discriminator is the v1 multi-scale MelGAN discriminator (rave/model.py
// StackDiscriminators of Discriminator, rave-spec.md §5.1): three
// sub-discriminators, scale s seeing the audio average-pooled (kernel 2)
// s times. Each is weight-normed conv k15 → n_layers grouped strided convs
// k41 → conv k5 → conv k1 to one channel, with LeakyReLU(0.2) after every
// conv but the last. Its layers are discriminator.discriminators.{s}.net.{i}.
type Discriminator struct {
	scales [][]*conv
}

// discriminatorScales is the number of sub-discriminators (fixed in v1).
const discriminatorScales = 3

func newDiscriminator(ps *core.ParamSet, gen *cacheGen, c Config) *Discriminator {
	d := &Discriminator{}
	m := c.DMultiplier
	for s := range discriminatorScales {
		pre := fmt.Sprintf("discriminator.discriminators.%d.net.", s)
		var layers []*conv
		l, r := core.SamePadding(15, 1)
		layers = append(layers, newConv(ps, gen, convSpec{name: pre + "0", in: 1, out: c.DCapacity, k: 15, bias: true, wn: true, padL: l, padR: r}))
		in := c.DCapacity
		groups := 1
		for i := range c.DNLayers {
			groups *= m
			out := min(1024, in*m)
			l, r := core.SamePadding(41, 1)
			layers = append(layers, newConv(ps, gen, convSpec{
				name: fmt.Sprintf("%s%d", pre, 2*(i+1)), in: in, out: out, k: 41, stride: m, groups: groups, bias: true, wn: true, padL: l, padR: r,
			}))
			in = out
		}
		l, r = core.SamePadding(5, 1)
		n := 2 * (c.DNLayers + 1)
		layers = append(layers, newConv(ps, gen, convSpec{name: fmt.Sprintf("%s%d", pre, n), in: in, out: in, k: 5, bias: true, wn: true, padL: l, padR: r}))
		layers = append(layers, newConv(ps, gen, convSpec{name: fmt.Sprintf("%s%d", pre, n+2), in: in, out: 1, k: 1, bias: true, wn: true}))
		d.scales = append(d.scales, layers)
	}
	return d
}

// Forward returns, for each scale, the outputs of every conv (before the
// LeakyReLU that follows it); the last one of each scale is its score map
// (logits). x is full-band audio (B, 1, T).
func (d *Discriminator) Forward(tp *core.Tape, x *core.Tensor) [][]*core.Tensor {
	feats := make([][]*core.Tensor, len(d.scales))
	for s, layers := range d.scales {
		if s > 0 {
			x = tp.AvgPool1d(x, 2, 2, 0)
		}
		h := x
		for i, c := range layers {
			if i > 0 {
				h = tp.LeakyReLU(h, leakySlope)
			}
			h = c.forward(tp, h)
			feats[s] = append(feats[s], h)
		}
	}
	return feats
}

// DiscriminatorParamCount returns the number of trainable parameters of
// the discriminator of cfg (weight-norm gains included) without
// allocating it.
func DiscriminatorParamCount(cfg Config) int {
	ps := core.NewParamSet()
	newDiscriminator(ps, &cacheGen{}, cfg)
	n := 0
	for _, p := range ps.Params() {
		k := 1
		for _, d := range p.Shape() {
			k *= d
		}
		n += k
	}
	return n
}
