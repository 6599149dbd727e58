package modelv2

import (
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
)

// minStd is added to softplus(scale) in the posterior's standard deviation.
const minStd = 1e-4

// Posterior splits a raw encoder output (B, 2·L, F) into the posterior
// mean (its first L channels) and scale (the last L) and returns the
// standard deviation std = softplus(scale) + 1e-4, as
// VariationalEncoder.reparametrize of v2.3.1 (rave-spec.md §3.3).
func Posterior(tp *core.Tape, raw *core.Tensor) (mean, scale, std *core.Tensor) {
	s := raw.Shape()
	if len(s) != 3 || s[1]%2 != 0 {
		panic(fmt.Sprintf("modelv2: Posterior: encoder output %v, want (B, 2·latent, frames)", s))
	}
	half := s[1] / 2
	mean = tp.Slice(raw, 1, 0, half)
	scale = tp.Slice(raw, 1, half, s[1])
	return mean, scale, tp.AddScalar(tp.Softplus(scale), minStd)
}

// KL returns the posterior regulariser exactly as v2.3.1 codes it:
// Σ_channels (mean² + var − log var − 1) averaged over batch and frames,
// var = std². It has no ½, so it is twice KL(N(mean, var) ‖ N(0, 1))
// (rave-spec.md §13.1); VariationalEncoder.beta is 1 in v2.gin.
func KL(tp *core.Tape, mean, std *core.Tensor) *core.Tensor {
	s := mean.Shape()
	if len(s) != 3 {
		panic(fmt.Sprintf("modelv2: KL: mean %v, want (B, latent, frames)", s))
	}
	variance := tp.Mul(std, std)
	terms := tp.Sub(tp.AddScalar(tp.Add(tp.Mul(mean, mean), variance), -1), tp.Log(variance))
	perFrame := float32(1) / float32(s[0]*s[2])
	return tp.Scale(tp.Sum(terms, false), perFrame)
}

// Reparameterize returns z = ε·std + mean for a given noise ε of the
// posterior's shape.
func Reparameterize(tp *core.Tape, mean, std, eps *core.Tensor) *core.Tensor {
	return tp.Add(tp.Mul(eps, std), mean)
}

// DrawEps returns standard normal noise for a posterior of mean's shape,
// drawn from rng.
func DrawEps(rng *rand.Rand, mean *core.Tensor) *core.Tensor {
	return core.Randn(rng, mean.Shape()...)
}
