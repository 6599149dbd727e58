package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
)

// weightNormOp is w = g·v/‖v‖ with the norm taken per slice along dim 0
// (torch._weight_norm(v, g, 0), the form torch.nn.utils.weight_norm uses).
type weightNormOp struct {
	g, v, w *core.Tensor
	norms   []float64 // ‖v_o‖ per dim-0 slice
}

// WeightNorm returns the effective weight g·v/‖v‖ of a weight-normed layer:
// v has shape (D0, …), g has D0 elements (stored as (D0,1,1)), and the norm
// of each v[o] is taken over all its other dimensions. It is differentiable
// with respect to g and v:
//
//	∂L/∂g_o = Σ_i ∂L/∂w_oi · v_oi/‖v_o‖
//	∂L/∂v_oi = g_o/‖v_o‖ · (∂L/∂w_oi − v_oi·Σ_j ∂L/∂w_oj·v_oj/‖v_o‖²)
//
// When the op is recorded on a recycling tape the effective weight lives in
// the tape's arena, so a training step reuses the previous step's buffer.
// Slices along dim 0 are computed in parallel, each norm and dot product in
// float64, so the result does not depend on the number of threads.
func WeightNorm(tp *core.Tape, g, v *core.Tensor) *core.Tensor {
	rows := v.Dim(0)
	if g.Len() != rows {
		panic(fmt.Sprintf("model: WeightNorm: g has %d values for v %v", g.Len(), v.Shape()))
	}
	var w *core.Tensor
	if tp != nil && (g.RequiresGrad() || v.RequiresGrad()) {
		w = tp.Output(v.Shape()...)
	} else {
		// Not recorded (frozen weights): ordinary memory, which the
		// collector can take back before the step ends.
		w = core.New(nil, v.Shape()...)
	}
	norms := weightNormTo(w.Data(), g.Data(), v.Data(), rows)
	tp.Record(&weightNormOp{g: g, v: v, w: w, norms: norms}, w, g, v)
	return w
}

// weightNormTo fills dst with g·v/‖v‖ (rows slices along dim 0) and returns
// the norms. Rows are independent and run in parallel; each norm is
// summed in float64 (dot64), so the result is the same on any number of
// threads.
func weightNormTo(dst, g, v []float32, rows int) []float64 {
	n := len(v) / rows
	norms := make([]float64, rows)
	split.For(rows, 2*len(v), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			row := v[o*n : (o+1)*n]
			nrm := math.Sqrt(dot64(row, row))
			norms[o] = nrm
			k := float64(g[o]) / nrm
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

// ModSigmoid returns 2·σ(x)^2.3 + 1e-7, RAVE's amplitude non-linearity
// (rave/core.py mod_sigmoid).
func ModSigmoid(tp *core.Tape, x *core.Tensor) *core.Tensor {
	return tp.AddScalar(tp.Scale(tp.Pow(tp.Sigmoid(x), 2.3), 2), 1e-7)
}

// PosteriorStd returns softplus(scale) + 1e-4, the posterior standard
// deviation of the RAVE encoder (rave-spec.md §3.3).
func PosteriorStd(tp *core.Tape, scale *core.Tensor) *core.Tensor {
	return tp.AddScalar(tp.Softplus(scale), 1e-4)
}

// KL returns the KL term as the reference codes it (rave/model.py
// RAVE.reparametrize): (mean² + std² − log std² − 1) summed over channels
// (axis 1) and averaged over batch and frames. It is twice the analytic
// KL(N(mean, std²) ‖ N(0, 1)) (rave-spec.md §13.1).
func KL(tp *core.Tape, mean, std *core.Tensor) *core.Tensor {
	v := tp.Square(std)
	t := tp.Sub(tp.Add(tp.Square(mean), v), tp.Log(v))
	return tp.Mean(tp.Sum(tp.AddScalar(t, -1), false, 1), false)
}

// Reparameterize returns z = mean + std·ε with ε ~ N(0, I) drawn from rng;
// the noise tensor is returned too (for tests and for replaying a step).
func Reparameterize(tp *core.Tape, mean, std *core.Tensor, rng *rand.Rand) (z, eps *core.Tensor) {
	eps = core.Randn(rng, mean.Shape()...)
	return tp.Add(mean, tp.Mul(std, eps)), eps
}
