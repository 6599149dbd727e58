package core

import (
	"fmt"
	"math"
)

// Adam is the Adam optimiser (Kingma & Ba 2015) as torch.optim.Adam
// implements it, over a ParamSet's flat slabs. Its moments are slabs of the
// same length, so saving and restoring it is a copy.
type Adam struct {
	// LR is the learning rate.
	LR float64
	// Beta1 and Beta2 are the moment decay rates (RAVE uses 0.5 and 0.9).
	Beta1, Beta2 float64
	// Eps is added to the denominator (PyTorch default 1e-8).
	Eps float64
	// WeightDecay adds WeightDecay·θ to the gradient (L2; off by default).
	WeightDecay float64
	// Step counts the updates done so far.
	Step int64
	// M and V are the first and second moment slabs.
	M, V []float32
}

// NewAdam returns an optimiser for n parameters with PyTorch's defaults for
// eps (1e-8) and no weight decay.
func NewAdam(n int, lr, beta1, beta2 float64) *Adam {
	return &Adam{LR: lr, Beta1: beta1, Beta2: beta2, Eps: 1e-8, M: make([]float32, n), V: make([]float32, n)}
}

// Update applies one step to params from grads (slabs of equal length,
// matching the optimiser's moments). Only the ranges listed in active are
// updated; nil means all. The step counter advances once per call.
func (a *Adam) Update(params, grads []float32, active [][2]int) {
	if len(params) != len(a.M) || len(grads) != len(a.M) {
		panic(fmt.Sprintf("core: Adam: %d params, %d grads, optimiser sized %d", len(params), len(grads), len(a.M)))
	}
	a.Step++
	t := float64(a.Step)
	bc1 := 1 - math.Pow(a.Beta1, t)
	bc2 := 1 - math.Pow(a.Beta2, t)
	stepSize := float32(a.LR / bc1)
	// 1/√(1−β₂ᵗ) as a factor: one division per element instead of two.
	invSqrtBC2 := float32(1 / math.Sqrt(bc2))
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	eps, wd := float32(a.Eps), float32(a.WeightDecay)
	c1, c2 := 1-b1, 1-b2
	update := func(lo, hi int) {
		p := params[lo:hi]
		g, m, v := grads[lo:hi][:len(p)], a.M[lo:hi][:len(p)], a.V[lo:hi][:len(p)]
		for i, pi := range p {
			gi := g[i]
			if wd != 0 {
				gi += wd * pi
			}
			mi := b1*m[i] + c1*gi
			vi := b2*v[i] + c2*gi*gi
			m[i], v[i] = mi, vi
			denom := float32(math.Sqrt(float64(vi)))*invSqrtBC2 + eps
			p[i] = pi - stepSize*mi/denom
		}
	}
	if active == nil {
		split.For(len(params), len(params)*8, update)
		return
	}
	for _, r := range active {
		update(r[0], r[1])
	}
}
