package modelv2

import "math"

// BetaWarmup returns the KL weight β that v2.3.1's BetaWarmupCallback (log
// = True) sets at the start of the s-th training batch, s counted from 1:
//
//	β(s) = exp((1 − s/n)·ln β₀ + (s/n)·ln β₁)  for s < n,  β₁ from s = n on,
//
// with β₀ = initial, β₁ = target and n = warmupLen (v2.gin: 1e-6 → 0.05
// over 20 000 batches). Before the first batch (s ≤ 0) the model's β is
// its initial attribute, 1.
func BetaWarmup(s int, initial, target float64, warmupLen int) float64 {
	if s <= 0 {
		return 1
	}
	if s >= warmupLen {
		return target
	}
	r := float64(s) / float64(warmupLen)
	return math.Exp(math.Log(initial)*(1-r) + math.Log(target)*r)
}

// LinearLR returns the learning rate after k steps of PyTorch's
// LinearLR(start_factor, end_factor, total_iters) on base rate base:
// base·(start + (end − start)·min(k, total)/total). RAVE v2.3.1 steps it
// once per batch (discriminator batches included) with start 1, end 0.1
// and total = phase_1_duration, so the generator's rate falls from 1e-3 to
// 1e-4 over stage 1 and stays there.
func LinearLR(k int, base, start, end float64, total int) float64 {
	if total <= 0 {
		return base * end
	}
	k = min(max(k, 0), total)
	return base * (start + (end-start)*float64(k)/float64(total))
}

// Beta returns the configured β at the s-th training batch (BetaWarmup).
func (c Config) Beta(s int) float64 {
	t := c.Training
	return BetaWarmup(s, t.BetaInitial, t.BetaTarget, t.BetaWarmup)
}

// GeneratorLR returns the generator's learning rate after k scheduler
// steps (LinearLR from GeneratorLR with factor 1 → GeneratorLREndFactor over
// Phase1Steps).
func (c Config) GeneratorLR(k int) float64 {
	t := c.Training
	return LinearLR(k, t.GeneratorLR, 1, t.GeneratorLREndFactor, t.Phase1Steps)
}

// WarmedUp reports whether the batch with 0-based global index step runs in
// stage 2: WarmupCallback flips the model once step ≥ phase_1_duration.
func (c Config) WarmedUp(step int) bool { return step >= c.Training.Phase1Steps }

// DiscriminatorBatch reports whether the batch with per-epoch index
// batchIdx updates the discriminator (stage 2 only, one batch in
// update_discriminator_every) rather than the generator.
func (c Config) DiscriminatorBatch(batchIdx int, warmedUp bool) bool {
	return warmedUp && batchIdx%c.Training.UpdateDiscriminatorEvery == 0
}
