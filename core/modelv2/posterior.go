package modelv2

import (
	"fmt"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/nn"
)

// Posterior splits a raw encoder output (B, 2·L, F) into the posterior
// mean (its first L channels) and scale (the last L) and returns the
// standard deviation std = softplus(scale) + 1e-4 (nn.PosteriorStd), as
// VariationalEncoder.reparametrize of v2.3.1 (rave-spec.md §3.3).
func Posterior(tp *core.Tape, raw *core.Tensor) (mean, scale, std *core.Tensor) {
	s := raw.Shape()
	if len(s) != 3 || s[1]%2 != 0 {
		panic(fmt.Sprintf("modelv2: Posterior: encoder output %v, want (B, 2·latent, frames)", s))
	}
	half := s[1] / 2
	mean = tp.Slice(raw, 1, 0, half)
	scale = tp.Slice(raw, 1, half, s[1])
	return mean, scale, nn.PosteriorStd(tp, scale)
}
