package model

import (
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/nn"
)

// ModSigmoid returns 2·σ(x)^2.3 + 1e-7, RAVE's amplitude non-linearity
// (rave/core.py mod_sigmoid).
func ModSigmoid(tp *core.Tape, x *core.Tensor) *core.Tensor {
	return tp.AddScalar(tp.Scale(tp.Pow(tp.Sigmoid(x), 2.3), 2), 1e-7)
}

// PosteriorStd returns softplus(scale) + 1e-4, the posterior standard
// deviation of the RAVE encoder (rave-spec.md §3.3).
func PosteriorStd(tp *core.Tape, scale *core.Tensor) *core.Tensor { return nn.PosteriorStd(tp, scale) }

// KL returns the KL term as the reference codes it (rave/model.py
// RAVE.reparametrize): (mean² + std² − log std² − 1) summed over channels
// (axis 1) and averaged over batch and frames. It is twice the analytic
// KL(N(mean, std²) ‖ N(0, 1)) (rave-spec.md §13.1).
func KL(tp *core.Tape, mean, std *core.Tensor) *core.Tensor { return nn.KL(tp, mean, std) }

// Reparameterize returns z = mean + std·ε with ε ~ N(0, I) drawn from rng;
// the noise tensor is returned too (for tests and for replaying a step).
func Reparameterize(tp *core.Tape, mean, std *core.Tensor, rng *rand.Rand) (z, eps *core.Tensor) {
	eps = core.Randn(rng, mean.Shape()...)
	return nn.Reparameterize(tp, mean, std, eps), eps
}
