package modelv2

import (
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/nn"
)

// slope is the negative slope of every LeakyReLU of RAVE v2.
const slope = 0.2

// layerKind tells how a layer's weight is laid out and applied.
type layerKind int

const (
	// plainConv is a Conv1d: weight (out, in, k).
	plainConv layerKind = iota
	// transposedConv is a ConvTranspose1d: weight (in, out, k).
	transposedConv
	// columnConv is a Conv2d with a (k, 1) kernel applied to period-folded
	// signals: weight (out, in, k, 1), run as a Conv1d on each column.
	columnConv
)

// layer is one convolution of the reference, holding its parameters under
// their state-dict names: weight_g and weight_v when weight-normed
// (torch.nn.utils.weight_norm, norm over every dim but 0), weight
// otherwise, and bias when it has one.
type layer struct {
	kind    layerKind
	w, g, v *core.Tensor
	bias    *core.Tensor
	conv    core.ConvParams
	tconv   core.ConvTransposeParams
	shape   []int     // the reference weight shape
	gen     *cacheGen // parameter generation of the layer's slab (fast.go)
	inf     inferCache
}

// layerSpec declares a layer.
type layerSpec struct {
	prefix           string // state-dict prefix, e.g. "decoder.net.2"
	kind             layerKind
	cin, cout, k     int
	stride, dilation int
	left, right      int // zero padding of a (column) Conv1d
	crop             int // padding argument of a ConvTranspose1d
	weightNorm, bias bool
}

// newLayer declares the parameters of s in ps.
func newLayer(ps *core.ParamSet, s layerSpec) *layer {
	l := &layer{kind: s.kind}
	switch s.kind {
	case transposedConv:
		l.shape = []int{s.cin, s.cout, s.k}
		l.tconv = core.ConvTransposeParams{Stride: s.stride, Dilation: s.dilation, Padding: s.crop}
	case columnConv:
		l.shape = []int{s.cout, s.cin, s.k, 1}
	default:
		l.shape = []int{s.cout, s.cin, s.k}
	}
	if s.kind != transposedConv {
		l.conv = core.ConvParams{Stride: s.stride, Dilation: s.dilation, PadLeft: s.left, PadRight: s.right}
	}
	l.w, l.g, l.v = nn.DeclareWeight(ps, s.prefix, l.shape, s.weightNorm)
	if s.bias {
		l.bias = ps.Add(s.prefix+".bias", s.cout)
	}
	return l
}

// WeightNorm returns the effective weight g·v/‖v‖ of a weight-normed layer,
// the norm of each slice v[o] taken over all dimensions but the first (g
// holds one gain per slice, stored as (D0, 1, …, 1)), as
// torch._weight_norm(v, g, 0) computes it. It is one op on the tape,
// differentiable with respect to g and v: core/internal/nn's, shared with
// core/model.
func WeightNorm(tp *core.Tape, g, v *core.Tensor) *core.Tensor { return nn.WeightNorm(tp, g, v) }

// weightNormTo writes g·v/‖v‖ into dst and returns the norms ‖v[o]‖, as
// WeightNorm computes them.
var weightNormTo = nn.WeightNormTo

// weight returns the effective weight in core's 3-D layout. Without a
// tape it is the cached one (inferCache), recomputed only when the
// parameters have changed; a pass on a tape bumps the slab's generation,
// since an update is expected to follow (Model.ParamsChanged covers the
// other changes).
func (l *layer) weight(tp *core.Tape) *core.Tensor {
	w := l.w
	switch {
	case tp == nil:
		w = l.effective()
	case w != nil:
		l.gen.bump()
	default:
		l.gen.bump()
		w = WeightNorm(tp, l.g, l.v)
	}
	if l.kind == columnConv {
		w = tp.Reshape(w, l.shape[0], l.shape[1], l.shape[2])
	}
	return w
}

// apply runs the layer on x (B, Cin, T).
func (l *layer) apply(tp *core.Tape, x *core.Tensor) *core.Tensor {
	w := l.weight(tp)
	if l.kind == transposedConv {
		return tp.ConvTranspose1d(x, w, l.bias, l.tconv)
	}
	return tp.Conv1d(x, w, l.bias, l.conv)
}

// applyLeaky runs the layer on LeakyReLU(x, 0.2), fusing the activation
// into the convolution where core can.
func (l *layer) applyLeaky(tp *core.Tape, x *core.Tensor) *core.Tensor {
	if l.kind == transposedConv {
		return l.apply(tp, tp.LeakyReLU(x, slope))
	}
	return tp.LeakyConv1d(x, l.weight(tp), l.bias, slope, l.conv)
}

// params returns the layer's parameters.
func (l *layer) params() []*core.Tensor {
	var ps []*core.Tensor
	for _, t := range []*core.Tensor{l.w, l.g, l.v, l.bias} {
		if t != nil {
			ps = append(ps, t)
		}
	}
	return ps
}

// init draws the parameters as PyTorch initialises a fresh convolution
// and sets weight_g = ‖weight_v‖ as torch.nn.utils.weight_norm does when
// it wraps the layer (nn.InitConv).
func (l *layer) init(rng *rand.Rand) { nn.InitConv(rng, l.w, l.g, l.v, l.bias) }

// unit is a residual dilated unit (blocks.Residual(blocks.DilatedUnit)):
// x + conv1×1(LReLU(conv_k,d(LReLU(x)))), both convolutions weight-normed.
type unit struct {
	dilated, pointwise *layer
}

// newUnit declares the unit whose state-dict prefix is pre (…net.{i}),
// padded as c says.
func newUnit(ps *core.ParamSet, pre string, dim, k, d int, c Config) unit {
	l, r := c.Padding(k, d)
	inner := pre + ".aligned.branches.0.net."
	return unit{
		dilated:   newLayer(ps, layerSpec{prefix: inner + "1", cin: dim, cout: dim, k: k, dilation: d, left: l, right: r, weightNorm: true}),
		pointwise: newLayer(ps, layerSpec{prefix: inner + "3", cin: dim, cout: dim, k: 1, weightNorm: true}),
	}
}

func (u unit) forward(tp *core.Tape, x *core.Tensor) *core.Tensor {
	return tp.Add(x, u.pointwise.applyLeaky(tp, u.dilated.applyLeaky(tp, x)))
}

func (u unit) layers() []*layer { return []*layer{u.dilated, u.pointwise} }
