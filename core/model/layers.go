package model

import (
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/nn"
)

// cacheGen is shared by every layer of a model: inference caches (the
// effective weights of weight-normed layers) are valid while their
// generation equals gen. Any recorded forward pass (training) and any
// change of the parameters bump it. bf16 selects bfloat16 products for
// tape-free inference (Model.SetInferencePrecision).
type cacheGen struct {
	gen  uint64
	bf16 bool
}

// conv is one Conv1d or ConvTranspose1d layer of the reference, either with
// a plain weight or weight-normed (weight_g, weight_v).
type conv struct {
	name       string // state-dict prefix, e.g. "decoder.net.0"
	w, g, v    *core.Tensor
	b          *core.Tensor
	transposed bool
	p          core.ConvParams
	tpar       core.ConvTransposeParams
	groups     int

	gen   *cacheGen
	cache *core.Tensor // effective weight for inference
	cgen  uint64
	wino  []float32  // Winograd-transformed weight, built with cache
	bf    *bfWeights // bfloat16 weights for inference, built with cache
}

// convSpec describes a layer to declare.
type convSpec struct {
	name        string
	in, out, k  int
	stride, dil int
	groups      int
	bias, wn    bool
	transposed  bool
	padL, padR  int // Conv1d only
	tPadding    int // ConvTranspose1d only
}

// newConv declares the layer's parameters in ps (not yet allocated).
func newConv(ps *core.ParamSet, gen *cacheGen, s convSpec) *conv {
	s.stride = max(s.stride, 1)
	s.dil = max(s.dil, 1)
	s.groups = max(s.groups, 1)
	c := &conv{name: s.name, transposed: s.transposed, groups: s.groups, gen: gen}
	var shape []int
	if s.transposed {
		shape = []int{s.in, s.out / s.groups, s.k}
		c.tpar = core.ConvTransposeParams{Stride: s.stride, Dilation: s.dil, Groups: s.groups, Padding: s.tPadding}
	} else {
		shape = []int{s.out, s.in / s.groups, s.k}
		c.p = core.ConvParams{Stride: s.stride, Dilation: s.dil, Groups: s.groups, PadLeft: s.padL, PadRight: s.padR}
	}
	if s.bias {
		c.b = ps.Add(s.name+".bias", s.out)
	}
	c.w, c.g, c.v = nn.DeclareWeight(ps, s.name, shape, s.wn)
	return c
}

// params returns the layer's parameter tensors in state-dict order.
func (c *conv) params() []*core.Tensor {
	var out []*core.Tensor
	if c.w != nil {
		out = append(out, c.w)
	}
	if c.b != nil {
		out = append(out, c.b)
	}
	if c.g != nil {
		out = append(out, c.g, c.v)
	}
	return out
}

// weightShape returns the shape of the (effective) weight.
func (c *conv) weightShape() []int {
	if c.w != nil {
		return c.w.Shape()
	}
	return c.v.Shape()
}

// weight returns the effective weight: the plain weight, or g·v/‖v‖. In
// inference (tp nil) the weight-normed value is cached until the
// parameters change.
func (c *conv) weight(tp *core.Tape) *core.Tensor {
	if c.w != nil {
		return c.w
	}
	if tp != nil {
		c.gen.gen++
		return nn.WeightNorm(tp, c.g, c.v)
	}
	c.refresh()
	return c.cache
}

// refresh recomputes the inference cache if the parameters changed.
func (c *conv) refresh() {
	if c.cache != nil && c.cgen == c.gen.gen {
		return
	}
	if c.w != nil {
		c.cache = c.w
	} else {
		if c.cache == nil {
			c.cache = core.New(nil, c.v.Shape()...)
		}
		nn.WeightNormTo(c.cache.Data(), c.g, c.v)
	}
	c.wino = nil
	c.bf = nil
	c.cgen = c.gen.gen
}

// forward applies the layer to x (B, Cin, T).
func (c *conv) forward(tp *core.Tape, x *core.Tensor) *core.Tensor {
	if tp == nil && fastInference {
		return c.inference(x)
	}
	w := c.weight(tp)
	if c.transposed {
		return tp.ConvTranspose1d(x, w, c.b, c.tpar)
	}
	if tp != nil {
		c.gen.gen++
	}
	return tp.Conv1d(x, w, c.b, c.p)
}

// forwardLeaky applies the layer to LeakyReLU(x) (slope leakySlope, the
// activation before nearly every convolution of RAVE). On the training
// path of a Conv1d the activation is fused into the convolution
// (core.Tape.LeakyConv1d), so no activation tensor is made or kept for the
// backward pass; the result is bit-identical to the composition.
func (c *conv) forwardLeaky(tp *core.Tape, x *core.Tensor) *core.Tensor {
	if c.transposed || (tp == nil && fastInference) {
		return c.forward(tp, tp.LeakyReLU(x, leakySlope))
	}
	w := c.weight(tp)
	if tp != nil {
		c.gen.gen++
	}
	return tp.LeakyConv1d(x, w, c.b, leakySlope, c.p)
}

// init draws the parameters as PyTorch initialises a fresh layer and
// weight_norm wraps it (nn.InitConv).
func (c *conv) init(rng *rand.Rand) { nn.InitConv(rng, c.w, c.g, c.v, c.b) }

// bnLayer is a BatchNorm1d with its affine parameters and buffers.
type bnLayer struct {
	name        string
	gamma, beta *core.Tensor
	stats       *core.BatchNorm
	mean, vari  *core.Tensor // buffers sharing stats' slices
	tracked     *core.Tensor // num_batches_tracked (scalar buffer)
}

func newBN(ps *core.ParamSet, name string, c int) *bnLayer {
	return &bnLayer{
		name:  name,
		gamma: ps.Add(name+".weight", c),
		beta:  ps.Add(name+".bias", c),
	}
}

// attach creates the buffers once the parameter slab exists.
func (l *bnLayer) attach() {
	c := l.gamma.Len()
	l.stats = core.NewBatchNorm(c)
	l.mean = core.New(l.stats.RunningMean, c)
	l.mean.Name = l.name + ".running_mean"
	l.vari = core.New(l.stats.RunningVar, c)
	l.vari.Name = l.name + ".running_var"
	l.tracked = core.Scalar(0)
	l.tracked.Name = l.name + ".num_batches_tracked"
}

func (l *bnLayer) init() {
	for i := range l.gamma.Data() {
		l.gamma.Data()[i] = 1
		l.beta.Data()[i] = 0
	}
}

func (l *bnLayer) forward(tp *core.Tape, x *core.Tensor, training bool) *core.Tensor {
	l.stats.BatchesTracked = int64(l.tracked.Data()[0])
	y := tp.BatchNorm(x, l.gamma, l.beta, l.stats, training)
	l.tracked.Data()[0] = float32(l.stats.BatchesTracked)
	return y
}
