// Package nn holds what RAVE v1 (core/model) and v2 (core/modelv2) build
// their networks from alike: convolution weights declared under the
// reference's state-dict names, plain or weight-normed
// (torch.nn.utils.weight_norm), the weight-norm op itself, PyTorch's
// default initialisation of a convolution, the variational posterior
// (standard deviation, KL term, reparameterisation), and the JSON form of
// their configurations.
//
// Everything here works on core's tensors and tape; the layer types, with
// their inference caches, stay with each model.
package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/par"
)

// split is the threshold of the package's parallel loops.
var split = par.Split{MinWork: 1 << 15}

// DeclareWeight declares the weight of a convolution of the given shape
// (PyTorch's layout) in ps under its state-dict name: prefix+".weight", or
// when weightNorm is set prefix+".weight_g" (one gain per slice along dim
// 0, stored as (D0, 1, …, 1)) followed by prefix+".weight_v". Exactly one
// of w and (g, v) is non-nil.
func DeclareWeight(ps *core.ParamSet, prefix string, shape []int, weightNorm bool) (w, g, v *core.Tensor) {
	if !weightNorm {
		return ps.Add(prefix+".weight", shape...), nil, nil
	}
	gShape := make([]int, len(shape))
	for i := range gShape {
		gShape[i] = 1
	}
	gShape[0] = shape[0]
	return nil, ps.Add(prefix+".weight_g", gShape...), ps.Add(prefix+".weight_v", shape...)
}

// InitConv draws a convolution's parameters, its weight w or (g, v) as
// DeclareWeight returns them and its bias b (nil if none), as PyTorch's
// default initialisation does (kaiming_uniform with a = √5, i.e.
// U(±1/√fan_in) for weight and bias, fan_in = the product of the weight's
// dimensions after the first: size(1)·kernel), first every weight value,
// then every bias value; for a weight-normed layer it then sets
// weight_g = ‖weight_v‖ per slice, as torch.nn.utils.weight_norm does when
// it wraps the layer.
func InitConv(rng *rand.Rand, w, g, v, b *core.Tensor) {
	if w == nil {
		w = v
	}
	shape := w.Shape()
	fanIn := 1
	for _, d := range shape[1:] {
		fanIn *= d
	}
	bound := 1 / math.Sqrt(float64(fanIn))
	for _, t := range []*core.Tensor{w, b} {
		if t == nil {
			continue
		}
		for i := range t.Data() {
			t.Data()[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	if g != nil {
		SetNormGain(g, w)
	}
}

// SetNormGain sets weight_g = ‖weight_v‖ per slice along dim 0, which
// makes a weight-normed layer's effective weight equal to v (what
// torch.nn.utils.weight_norm does when it wraps a layer).
func SetNormGain(g, v *core.Tensor) {
	rows := v.Dim(0)
	n := v.Len() / rows
	for o := range rows {
		var s float64
		for _, x := range v.Data()[o*n : (o+1)*n] {
			s += float64(x) * float64(x)
		}
		g.Data()[o] = float32(math.Sqrt(s))
	}
}

// weightNormOp is w = g·v/‖v‖ with the norm taken per slice along dim 0
// (torch._weight_norm(v, g, 0), the form torch.nn.utils.weight_norm uses).
type weightNormOp struct {
	g, v, w *core.Tensor
	norms   []float64 // ‖v_o‖ per dim-0 slice
}

// WeightNorm returns the effective weight g·v/‖v‖ of a weight-normed layer:
// v has shape (D0, …), g has D0 elements (stored as (D0, 1, …, 1)), and
// the norm of each v[o] is taken over all its other dimensions. It is
// differentiable with respect to g and v:
//
//	∂L/∂g_o = Σ_i ∂L/∂w_oi · v_oi/‖v_o‖
//	∂L/∂v_oi = g_o/‖v_o‖ · (∂L/∂w_oi − v_oi·Σ_j ∂L/∂w_oj·v_oj/‖v_o‖²)
//
// When the op is recorded on a recycling tape the effective weight lives in
// the tape's arena, so a training step reuses the previous step's buffer.
// Slices along dim 0 are computed in parallel, each norm and dot product in
// float64, so the result does not depend on the number of threads.
func WeightNorm(tp *core.Tape, g, v *core.Tensor) *core.Tensor {
	var w *core.Tensor
	if tp != nil && (g.RequiresGrad() || v.RequiresGrad()) {
		w = tp.Output(v.Shape()...)
	} else {
		// Not recorded (frozen weights): ordinary memory, which the
		// collector can take back before the step ends.
		w = core.New(nil, v.Shape()...)
	}
	norms := WeightNormTo(w.Data(), g, v)
	tp.Record(&weightNormOp{g: g, v: v, w: w, norms: norms}, w, g, v)
	return w
}

// WeightNormTo fills dst (v.Len() values) with g·v/‖v‖, as WeightNorm
// computes it, and returns the norms ‖v_o‖. Rows are independent and run
// in parallel; each norm is summed in float64 (dot64), so the result is
// the same on any number of threads.
func WeightNormTo(dst []float32, g, v *core.Tensor) []float64 {
	rows := v.Dim(0)
	if g.Len() != rows || len(dst) != v.Len() {
		panic(fmt.Sprintf("nn: WeightNorm: %d gains and %d outputs for weight %v", g.Len(), len(dst), v.Shape()))
	}
	vd, gd := v.Data(), g.Data()
	n := len(vd) / rows
	norms := make([]float64, rows)
	split.For(rows, 2*len(vd), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			row := vd[o*n : (o+1)*n]
			nrm := math.Sqrt(dot64(row, row))
			norms[o] = nrm
			k := float64(gd[o]) / nrm
			d := dst[o*n : (o+1)*n]
			for i, x := range row {
				d[i] = float32(float64(x) * k)
			}
		}
	})
	return norms
}

// dot64 returns Σ a[i]·b[i] accumulated in float64 in four interleaved
// partial sums combined in a fixed order: as precise as one running sum,
// without its chain of dependent additions.
func dot64(a, b []float32) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += float64(a[i]) * float64(b[i])
		s1 += float64(a[i+1]) * float64(b[i+1])
		s2 += float64(a[i+2]) * float64(b[i+2])
		s3 += float64(a[i+3]) * float64(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float64(a[i]) * float64(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// Backward accumulates ∂L/∂g and ∂L/∂v, one dim-0 slice per worker range.
func (o *weightNormOp) Backward() {
	gw := o.w.Grad()
	if gw == nil {
		return
	}
	rows := len(o.norms)
	n := o.v.Len() / rows
	v, g := o.v.Data(), o.g.Data()
	var dg, dv []float32
	if o.g.RequiresGrad() {
		dg = o.g.EnsureGrad()
	}
	if o.v.RequiresGrad() {
		dv = o.v.EnsureGrad()
	}
	split.For(rows, 3*len(v), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			vr, gr := v[r*n:(r+1)*n], gw[r*n:(r+1)*n]
			dot := dot64(gr, vr)
			nrm := o.norms[r]
			if dg != nil {
				dg[r] += float32(dot / nrm)
			}
			if dv != nil {
				k := float64(g[r]) / nrm
				c := dot / (nrm * nrm)
				d := dv[r*n : (r+1)*n]
				for i, x := range vr {
					d[i] += float32(k * (float64(gr[i]) - float64(x)*c))
				}
			}
		}
	})
}

// minStd is added to softplus(scale) in the posterior's standard
// deviation.
const minStd = 1e-4

// PosteriorStd returns softplus(scale) + 1e-4, the posterior standard
// deviation of the RAVE encoder (v1 RAVE.reparametrize, v2.3.1
// VariationalEncoder.reparametrize; rave-spec.md §3.3).
func PosteriorStd(tp *core.Tape, scale *core.Tensor) *core.Tensor {
	return tp.AddScalar(tp.Softplus(scale), minStd)
}

// KL returns the KL term of mean and std (B, latent, frames) as both
// versions of the reference code it, (mean² + var − log var − 1).sum(1)
// .mean() with var = std²: summed over channels and averaged over batch
// and frames. It has no ½, so it is twice the analytic
// KL(N(mean, var) ‖ N(0, 1)) (rave-spec.md §13.1).
func KL(tp *core.Tape, mean, std *core.Tensor) *core.Tensor {
	if s := mean.Shape(); len(s) != 3 {
		panic(fmt.Sprintf("nn: KL: mean %v, want (B, latent, frames)", s))
	}
	v := tp.Square(std)
	t := tp.Sub(tp.Add(tp.Square(mean), v), tp.Log(v))
	return tp.Mean(tp.Sum(tp.AddScalar(t, -1), false, 1), false)
}

// Reparameterize returns z = mean + std·ε for a given noise ε of the
// posterior's shape.
func Reparameterize(tp *core.Tape, mean, std, eps *core.Tensor) *core.Tensor {
	return tp.Add(mean, tp.Mul(std, eps))
}

// ParseConfig decodes the JSON configuration js over base, so that the
// fields js leaves out keep base's values, and validates the result; pkg
// prefixes a decoding error ("model: config: …").
func ParseConfig[C interface{ Validate() error }](pkg string, base C, js []byte) (C, error) {
	var zero C
	if err := json.Unmarshal(js, &base); err != nil {
		return zero, fmt.Errorf("%s: config: %w", pkg, err)
	}
	if err := base.Validate(); err != nil {
		return zero, err
	}
	return base, nil
}

// ConfigJSON returns the configuration c as JSON; it panics, prefixed
// pkg, when c cannot be encoded (a programmer error).
func ConfigJSON(pkg string, c any) string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(pkg + ": " + err.Error())
	}
	return string(b)
}
