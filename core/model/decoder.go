package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/sgemm"
)

// Decoder is the v1 generator (rave/model.py Generator, rave-spec.md §4.1):
// a weight-normed conv k7 from the latent to 2^n·C channels, then per ratio
// an up-sampler (LeakyReLU → weight-normed ConvTranspose1d k 2r stride r
// padding r/2, or a k3 conv when r = 1) and a residual stack (three blocks
// with dilations 1, 3, 9), then three heads on the trunk output h:
// waveform (conv k7), loudness (conv k 2s+1 stride s) and the noise
// synthesiser's amplitude network. Its output is
// y = tanh(wave)·mod_sigmoid(loud) + noise.
type Decoder struct {
	cfg   Config
	in    *conv
	ups   []*conv
	res   [][3][2]*conv // per stage, per block: dilated conv, 1-dilation conv
	wave  *conv
	loud  *conv
	noise []*conv // decoder.synth.branches.2.net.{0,2,4}

	// inference cache of the stacked waveform+loudness heads
	heads, headsBias []float32
	headsGen         uint64
	headsBF          *sgemm.BF16Matrix // heads in bfloat16, built with heads
}

func newDecoder(ps *core.ParamSet, gen *cacheGen, c Config) *Decoder {
	d := &Decoder{cfg: c}
	n := len(c.Ratios)
	l, r := c.padding(7, 1)
	d.in = newConv(ps, gen, convSpec{name: "decoder.net.0", in: c.LatentSize, out: c.Capacity << n, k: 7, bias: c.Bias, wn: true, padL: l, padR: r})
	idx := 1
	out := c.Capacity << n
	for i, ratio := range c.Ratios {
		in := c.Capacity << (n - i)
		out = c.Capacity << (n - i - 1)
		name := fmt.Sprintf("decoder.net.%d.net.1", idx)
		if ratio > 1 {
			d.ups = append(d.ups, newConv(ps, gen, convSpec{name: name, in: in, out: out, k: 2 * ratio, stride: ratio, wn: true, transposed: true, tPadding: ratio / 2}))
		} else {
			l, r := c.padding(3, 1)
			d.ups = append(d.ups, newConv(ps, gen, convSpec{name: name, in: in, out: out, k: 3, wn: true, padL: l, padR: r}))
		}
		var stack [3][2]*conv
		dil := 1
		for j := range 3 {
			pre := fmt.Sprintf("decoder.net.%d.net.%d.aligned.branches.0", idx+1, j)
			l1, r1 := c.padding(3, dil)
			l2, r2 := c.padding(3, 1)
			stack[j][0] = newConv(ps, gen, convSpec{name: pre + ".1", in: out, out: out, k: 3, dil: dil, wn: true, padL: l1, padR: r1})
			stack[j][1] = newConv(ps, gen, convSpec{name: pre + ".3", in: out, out: out, k: 3, wn: true, padL: l2, padR: r2})
			dil *= 3
		}
		d.res = append(d.res, stack)
		idx += 2
	}
	l, r = c.padding(7, 1)
	d.wave = newConv(ps, gen, convSpec{name: "decoder.synth.branches.0", in: out, out: c.DataSize, k: 7, bias: c.Bias, wn: true, padL: l, padR: r})
	k := 2*c.LoudStride + 1
	l, r = c.padding(k, 1)
	d.loud = newConv(ps, gen, convSpec{name: "decoder.synth.branches.1", in: out, out: 1, k: k, stride: c.LoudStride, bias: c.Bias, wn: true, padL: l, padR: r})
	if c.UseNoise {
		for i, ratio := range c.NoiseRatios {
			o := out
			if i == len(c.NoiseRatios)-1 {
				o = c.DataSize * c.NoiseBands
			}
			l, r := c.padding(3, 1)
			d.noise = append(d.noise, newConv(ps, gen, convSpec{
				name: fmt.Sprintf("decoder.synth.branches.2.net.%d", 2*i), in: out, out: o, k: 3, stride: ratio, bias: true, padL: l, padR: r,
			}))
		}
	}
	return d
}

// Trunk runs decoder.net: latent z (B, latent, F) → h (B, C, F·Π ratios).
func (d *Decoder) Trunk(tp *core.Tape, z *core.Tensor) *core.Tensor {
	if tp == nil && fastInference {
		h := d.trunkInfer(z)
		out := core.New(append([]float32(nil), h.Data()...), h.Shape()...)
		release(h)
		return out
	}
	h := d.in.forward(tp, z)
	for i, up := range d.ups {
		h = up.forwardLeaky(tp, h)
		for _, blk := range d.res[i] {
			t := blk[0].forwardLeaky(tp, h)
			t = blk[1].forwardLeaky(tp, t)
			h = tp.Add(h, t)
		}
	}
	return h
}

// Wave returns the waveform head's raw output (before tanh), (B, data_size, T).
func (d *Decoder) Wave(tp *core.Tape, h *core.Tensor) *core.Tensor { return d.wave.forward(tp, h) }

// Loudness returns the loudness head's raw output (before mod_sigmoid),
// repeated loud_stride times in time: (B, 1, T).
func (d *Decoder) Loudness(tp *core.Tape, h *core.Tensor) *core.Tensor {
	l := d.loud.forward(tp, h)
	if s := d.cfg.LoudStride; s > 1 {
		l = repeatTime(tp, l, s)
	}
	return l
}

// NoiseAmp returns the noise synthesiser's band amplitudes
// mod_sigmoid(net(h) − 5), (B, data_size·noise_bands, T/Π noise_ratios);
// channel index = band·noise_bands + bin. It returns nil without noise head.
func (d *Decoder) NoiseAmp(tp *core.Tape, h *core.Tensor) *core.Tensor {
	if len(d.noise) == 0 {
		return nil
	}
	a := d.noise[0].forward(tp, h)
	for _, c := range d.noise[1:] {
		a = c.forwardLeaky(tp, a)
	}
	return ModSigmoid(tp, tp.AddScalar(a, -5))
}

// Forward decodes z (B, latent, F) to sub-band signals (B, data_size, T):
// tanh(wave)·mod_sigmoid(loud), plus the filtered noise when addNoise is set
// and the model has a noise head (the reference adds it in stage 2 and at
// inference). rng draws the noise excitation; it may be nil when addNoise
// is false.
func (d *Decoder) Forward(tp *core.Tape, z *core.Tensor, addNoise bool, rng *rand.Rand) *core.Tensor {
	if tp == nil && fastInference {
		h := d.trunkInfer(z)
		defer release(h)
		y := d.headsInfer(h)
		if addNoise && len(d.noise) > 0 {
			if rng == nil {
				panic("model: Decoder.Forward: addNoise needs an rng")
			}
			n := fitNoise(nil, synthNoise(nil, d.NoiseAmp(nil, h), d.cfg.DataSize, d.cfg.NoiseRatio(), rng), y.Dim(-1))
			for i, v := range n.Data() {
				y.Data()[i] += v
			}
		}
		return y
	}
	h := d.Trunk(tp, z)
	y := tp.Mul(tp.Tanh(d.Wave(tp, h)), ModSigmoid(tp, d.Loudness(tp, h)))
	if addNoise && len(d.noise) > 0 {
		if rng == nil {
			panic("model: Decoder.Forward: addNoise needs an rng")
		}
		n := fitNoise(tp, synthNoise(tp, d.NoiseAmp(tp, h), d.cfg.DataSize, d.cfg.NoiseRatio(), rng), y.Dim(-1))
		y = tp.Add(y, n)
	}
	return y
}

// fitNoise crops or zero-extends the noise head's output to t samples. The
// noise network works in frames of Π noise_ratios sub-band samples; when a
// decoder frame holds fewer (the tiny preset: 32 against 64) an odd number
// of latent frames leaves the two lengths unequal.
func fitNoise(tp *core.Tape, n *core.Tensor, t int) *core.Tensor {
	switch m := n.Dim(-1); {
	case m > t:
		return tp.Slice(n, -1, 0, t)
	case m < t:
		return tp.Pad(n, 0, t-m, core.PadZero)
	}
	return n
}

// repeatOp repeats every sample of the last axis s times.
type repeatOp struct {
	x, y *core.Tensor
	s    int
}

func repeatTime(tp *core.Tape, x *core.Tensor, s int) *core.Tensor {
	shape := append([]int(nil), x.Shape()...)
	shape[len(shape)-1] *= s
	y := core.New(nil, shape...)
	yd := y.Data()
	for i, v := range x.Data() {
		for j := range s {
			yd[i*s+j] = v
		}
	}
	tp.Record(&repeatOp{x: x, y: y, s: s}, y, x)
	return y
}

func (o *repeatOp) Backward() {
	gy := o.y.Grad()
	if gy == nil || !o.x.RequiresGrad() {
		return
	}
	gx := o.x.EnsureGrad()
	for i := range gx {
		var s float32
		for j := range o.s {
			s += gy[i*o.s+j]
		}
		gx[i] += s
	}
}
