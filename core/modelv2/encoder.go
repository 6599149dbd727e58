package modelv2

import (
	"fmt"

	"github.com/ravestation/rave/core"
)

// Encoder is v2.3.1's EncoderV2 as configs/v2.gin builds it
// (rave-spec.md §3.2; its layers are encoder.encoder.net.{i}): a
// weight-normed conv (Bands → C, kernel 2k+1), then per ratio r the
// residual dilated units of that stage and LeakyReLU → weight-normed conv
// (kernel 2r, stride r, padding (r−1, r): cached_conv's get_padding ignores
// the stride) doubling the width, then LeakyReLU → weight-normed conv
// (kernel k) to 2·latent channels: the posterior mean and scale. No
// biases anywhere.
type Encoder struct {
	input  *layer
	stages [][]unit
	downs  []*layer
	output *layer
}

func newEncoder(ps *core.ParamSet, c Config) *Encoder {
	e := &Encoder{}
	k0 := 2*c.KernelSize + 1
	l, r := c.Padding(k0, 1)
	e.input = newLayer(ps, layerSpec{prefix: "encoder.encoder.net.0", cin: c.Bands, cout: c.Capacity, k: k0, left: l, right: r, weightNorm: true})
	idx, width := 1, c.Capacity
	for s, ratio := range c.Ratios {
		var units []unit
		for _, d := range c.Dilations[s] {
			units = append(units, newUnit(ps, fmt.Sprintf("encoder.encoder.net.%d", idx), width, c.KernelSize, d, c))
			idx++
		}
		e.stages = append(e.stages, units)
		l, r := c.Padding(2*ratio, 1)
		idx++ // the LeakyReLU
		e.downs = append(e.downs, newLayer(ps, layerSpec{
			prefix: fmt.Sprintf("encoder.encoder.net.%d", idx), cin: width, cout: 2 * width,
			k: 2 * ratio, stride: ratio, left: l, right: r, weightNorm: true,
		}))
		idx++
		width *= 2
	}
	l, r = c.Padding(c.KernelSize, 1)
	e.output = newLayer(ps, layerSpec{
		prefix: fmt.Sprintf("encoder.encoder.net.%d", idx+1), cin: width, cout: 2 * c.LatentSize,
		k: c.KernelSize, left: l, right: r, weightNorm: true,
	})
	return e
}

// Stages runs the encoder on sub-band signals x (B, Bands, T) and returns
// the activation after each down-sampling convolution (the fixture's
// enc_down1…) and the raw output (B, 2·latent, T/Π ratios) (enc_out).
func (e *Encoder) Stages(tp *core.Tape, x *core.Tensor) (downs []*core.Tensor, out *core.Tensor) {
	h := e.input.apply(tp, x)
	for s, units := range e.stages {
		for _, u := range units {
			h = u.forward(tp, h)
		}
		h = e.downs[s].applyLeaky(tp, h)
		downs = append(downs, h)
	}
	return downs, e.output.applyLeaky(tp, h)
}

// Forward returns the raw encoder output (B, 2·latent, T/Π ratios): mean
// in the first latent channels, scale in the others (Posterior). Without a
// tape it runs the inference kernels of fast.go.
func (e *Encoder) Forward(tp *core.Tape, x *core.Tensor) *core.Tensor {
	if tp == nil && fastInference {
		return e.infer(x)
	}
	_, out := e.Stages(tp, x)
	return out
}

func (e *Encoder) layers() []*layer {
	ls := []*layer{e.input}
	for s, units := range e.stages {
		for _, u := range units {
			ls = append(ls, u.layers()...)
		}
		ls = append(ls, e.downs[s])
	}
	return append(ls, e.output)
}
