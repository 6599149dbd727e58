package modelv2

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
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
	shape   []int        // the reference weight shape
	scratch *core.Tensor // effective weight of tape-free passes
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
	if s.weightNorm {
		gShape := make([]int, len(l.shape))
		for i := range gShape {
			gShape[i] = 1
		}
		gShape[0] = l.shape[0]
		l.g = ps.Add(s.prefix+".weight_g", gShape...)
		l.v = ps.Add(s.prefix+".weight_v", l.shape...)
	} else {
		l.w = ps.Add(s.prefix+".weight", l.shape...)
	}
	if s.bias {
		l.bias = ps.Add(s.prefix+".bias", s.cout)
	}
	return l
}

// WeightNorm returns the effective weight g·v/‖v‖ of a weight-normed layer,
// the norm of each slice v[o] taken over all dimensions but the first (g
// holds one gain per slice, stored as (D0, 1, …, 1)), as
// torch._weight_norm(v, g, 0) computes it: the squared norms are summed in
// float64, then v is scaled by the float32 factor g/‖v‖. It is one op on
// the tape, differentiable with respect to g and v.
func WeightNorm(tp *core.Tape, g, v *core.Tensor) *core.Tensor {
	w := tp.Output(v.Shape()...)
	inv := weightNormTo(w.Data(), g, v)
	tp.Record(&weightNormOp{g: g, v: v, w: w, inv: inv}, w, g, v)
	return w
}

// weightNormTo writes g·v/‖v‖ into dst and returns 1/‖v[o]‖ per slice.
func weightNormTo(dst []float32, g, v *core.Tensor) []float64 {
	rows := v.Dim(0)
	if g.Len() != rows || len(dst) != v.Len() {
		panic(fmt.Sprintf("modelv2: WeightNorm: %d gains and %d outputs for weight %v", g.Len(), len(dst), v.Shape()))
	}
	per := v.Len() / rows
	inv := make([]float64, rows)
	for o := range rows {
		row := v.Data()[o*per : (o+1)*per]
		var s0, s1 float64
		i := 0
		for ; i+1 < len(row); i += 2 {
			s0 += float64(row[i]) * float64(row[i])
			s1 += float64(row[i+1]) * float64(row[i+1])
		}
		if i < len(row) {
			s0 += float64(row[i]) * float64(row[i])
		}
		inv[o] = 1 / math.Sqrt(s0+s1)
		k := float32(float64(g.Data()[o]) * inv[o])
		out := dst[o*per : (o+1)*per]
		for j, x := range row {
			out[j] = k * x
		}
	}
	return inv
}

// weightNormOp is WeightNorm on the tape; inv holds 1/‖v[o]‖.
type weightNormOp struct {
	g, v, w *core.Tensor
	inv     []float64
}

// Backward: with d_o = Σ_i ∂L/∂w_oi·v_oi,
// ∂L/∂g_o = d_o/‖v_o‖ and ∂L/∂v_oi = g_o/‖v_o‖·(∂L/∂w_oi − v_oi·d_o/‖v_o‖²).
func (o *weightNormOp) Backward() {
	gw := o.w.Grad()
	if gw == nil {
		return
	}
	var dg, dv []float32
	if o.g.RequiresGrad() {
		dg = o.g.EnsureGrad()
	}
	if o.v.RequiresGrad() {
		dv = o.v.EnsureGrad()
	}
	per := o.v.Len() / len(o.inv)
	vd, gd := o.v.Data(), o.g.Data()
	for r, inv := range o.inv {
		row, grow := vd[r*per:(r+1)*per], gw[r*per:(r+1)*per]
		var d float64
		for i, x := range row {
			d += float64(grow[i]) * float64(x)
		}
		if dg != nil {
			dg[r] += float32(d * inv)
		}
		if dv == nil {
			continue
		}
		k, c := float64(gd[r])*inv, d*inv*inv
		for i, x := range row {
			dv[r*per+i] += float32(k * (float64(grow[i]) - c*float64(x)))
		}
	}
}

// weight returns the effective weight in core's 3-D layout. Without a
// tape it is recomputed into a buffer the layer keeps (the parameters may
// have changed since the last call), so inference allocates nothing.
func (l *layer) weight(tp *core.Tape) *core.Tensor {
	w := l.w
	switch {
	case w != nil:
	case tp != nil:
		w = WeightNorm(tp, l.g, l.v)
	default:
		if l.scratch == nil {
			l.scratch = core.Zeros(l.shape...)
		}
		weightNormTo(l.scratch.Data(), l.g, l.v)
		w = l.scratch
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
// (weight and bias uniform in ±1/√fan_in, fan_in = size(1)·kernel) and
// sets weight_g = ‖weight_v‖ as torch.nn.utils.weight_norm does when it
// wraps the layer.
func (l *layer) init(rng *rand.Rand) {
	fanIn := 1
	for _, d := range l.shape[1:] {
		fanIn *= d
	}
	bound := 1 / math.Sqrt(float64(fanIn))
	uniform := func(t *core.Tensor) {
		for i := range t.Data() {
			t.Data()[i] = float32(bound * (2*rng.Float64() - 1))
		}
	}
	target := l.w
	if target == nil {
		target = l.v
	}
	uniform(target)
	if l.bias != nil {
		uniform(l.bias)
	}
	if l.g == nil {
		return
	}
	per := l.v.Len() / l.shape[0]
	for o := range l.shape[0] {
		var ss float64
		for _, x := range l.v.Data()[o*per : (o+1)*per] {
			ss += float64(x) * float64(x)
		}
		l.g.Data()[o] = float32(math.Sqrt(ss))
	}
}

// unit is a residual dilated unit (blocks.Residual(blocks.DilatedUnit)):
// x + conv1×1(LReLU(conv_k,d(LReLU(x)))), both convolutions weight-normed.
type unit struct {
	dilated, pointwise *layer
}

// newUnit declares the unit whose state-dict prefix is pre (…net.{i}).
func newUnit(ps *core.ParamSet, pre string, dim, k, d int) unit {
	l, r := core.SamePadding(k, d)
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
