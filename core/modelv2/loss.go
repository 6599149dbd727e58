package modelv2

import (
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/internal/nn"
)

// SpectralDistance returns v2's multiscale spectral distance
// (core.AudioDistanceV1 with MultiScaleSTFT, rave-spec.md §6.2) between the
// target x and the prediction y, with its per-scale terms: for every scale
// n, mean((S_x − S_y)²)/mean(S_x²) + mean|log(S_x+ε) − log(S_y+ε)|, S the
// unnormalised centred STFT magnitude of each (batch, channel) signal.
func (m *Model) SpectralDistance(tp *core.Tape, x, y *core.Tensor) dsp.SpectralTerms {
	return m.distance.Distance(tp, x, y)
}

// ValidSignalCrop crops sub-band signals x (B, C, T) as v2.3.1's
// core.valid_signal_crop does with receptive field (left, right) in audio
// samples: it keeps x[..., left // C : −right // C] with Python's
// precedence, that is from ⌊left/C⌋ to T + ⌊−right/C⌋ (to T when right is
// 0). C is the channel count (the 16 bands for mono). It panics when the
// crop leaves nothing.
func ValidSignalCrop(tp *core.Tape, x *core.Tensor, left, right int) *core.Tensor {
	s := x.Shape()
	if len(s) != 3 || left < 0 || right < 0 {
		panic(fmt.Sprintf("modelv2: ValidSignalCrop: input %v, receptive field (%d, %d)", s, left, right))
	}
	c, t := s[1], s[2]
	start, end := left/c, t
	if right > 0 {
		end = t - (right+c-1)/c // T + ⌊−right/C⌋
	}
	if end <= start {
		panic(fmt.Sprintf("modelv2: ValidSignalCrop: a receptive field of (%d, %d) samples leaves nothing of %d samples per band", left, right, t))
	}
	return tp.Slice(x, 2, start, end)
}

// FeatureMatching returns v2.3.1's feature-matching distance between the
// features of real and generated audio: for each sub-discriminator, the
// mean over its maps after the first skip of mean|r − f| / mean|r|
// (core.mean_difference, L1, relative), then the mean over
// sub-discriminators; and the per-sub-discriminator values. The real maps
// are targets (the relative denominator is not differentiated when they
// do not require a gradient).
func FeatureMatching(tp *core.Tape, real, fake Features, skip int) (*core.Tensor, []float64) {
	checkFeatures(real, fake)
	var total *core.Tensor
	per := make([]float64, len(real))
	for s := range real {
		kept := len(real[s]) - skip
		if kept < 1 {
			panic(fmt.Sprintf("modelv2: FeatureMatching: skipping %d of %d maps leaves none", skip, len(real[s])))
		}
		var sum *core.Tensor
		for i := skip; i < len(real[s]); i++ {
			r, f := real[s][i], fake[s][i]
			d := tp.Div(tp.MeanAbsDiff(r, f), tp.Mean(tp.Abs(r), false))
			sum = addTerm(tp, sum, d)
		}
		sub := tp.Scale(sum, 1/float32(kept))
		per[s] = float64(sub.Item())
		total = addTerm(tp, total, sub)
	}
	return tp.Scale(total, 1/float32(len(real))), per
}

// Hinge holds the hinge GAN terms (core.hinge_gan) of every
// sub-discriminator's score map.
type Hinge struct {
	// Dis is Σ_sub mean(relu(1 − D(x))) + mean(relu(1 + D(ŷ))), the
	// discriminator's loss.
	Dis *core.Tensor
	// Adv is Σ_sub −mean(D(ŷ)), the generator's adversarial loss.
	Adv *core.Tensor
	// PerDis and PerAdv are the per-sub-discriminator terms.
	PerDis, PerAdv []float64
	// PredReal and PredFake are Σ_sub mean(D(x)) and Σ_sub mean(D(ŷ)),
	// as training_step logs them.
	PredReal, PredFake float64
}

// HingeLosses returns the hinge terms of the score maps (the last feature
// of each sub-discriminator) of real and generated audio.
func HingeLosses(tp *core.Tape, real, fake Features) Hinge {
	checkFeatures(real, fake)
	h := Hinge{PerDis: make([]float64, len(real)), PerAdv: make([]float64, len(real))}
	for s := range real {
		r, f := real[s][len(real[s])-1], fake[s][len(fake[s])-1]
		relu := func(t *core.Tensor) *core.Tensor { return tp.LeakyReLU(t, 0) }
		// mean(relu(1 − r) + relu(1 + f)) of hinge_gan, for maps of the
		// same shape; written as two means so that shapes may differ.
		dis := tp.Add(tp.Mean(relu(tp.AddScalar(tp.Scale(r, -1), 1)), false), tp.Mean(relu(tp.AddScalar(f, 1)), false))
		meanFake := tp.Mean(f, false)
		adv := tp.Scale(meanFake, -1)
		h.PerDis[s], h.PerAdv[s] = float64(dis.Item()), float64(adv.Item())
		h.PredReal += float64(tp.Mean(r, false).Item())
		h.PredFake += float64(meanFake.Item())
		h.Dis, h.Adv = addTerm(tp, h.Dis, dis), addTerm(tp, h.Adv, adv)
	}
	return h
}

func addTerm(tp *core.Tape, total, t *core.Tensor) *core.Tensor {
	if total == nil {
		return t
	}
	return tp.Add(total, t)
}

func checkFeatures(real, fake Features) {
	if len(real) == 0 || len(real) != len(fake) {
		panic(fmt.Sprintf("modelv2: %d real and %d fake sub-discriminators", len(real), len(fake)))
	}
	for s := range real {
		if len(real[s]) != len(fake[s]) || len(real[s]) == 0 {
			panic(fmt.Sprintf("modelv2: sub-discriminator %d has %d real and %d fake maps", s, len(real[s]), len(fake[s])))
		}
	}
}

// StepOptions are the inputs of a training step besides the audio.
type StepOptions struct {
	// Beta is the KL weight of this batch (Config.Beta).
	Beta float64
	// WarmedUp selects stage 2: the encoder is frozen (its output
	// detached) and the adversarial terms are added.
	WarmedUp bool
	// ReceptiveField (left, right) in samples crops the multiband pair
	// before its distance when Config.Training.ValidSignalCrop is set and
	// it is non-zero (Model.ReceptiveField in the reference).
	ReceptiveField [2]int
	// Eps is the posterior noise ε (B, latent, frames); when nil it is
	// drawn from RNG.
	Eps *core.Tensor
	// RNG draws ε and the noise generator's excitation.
	RNG *rand.Rand
}

// Losses are the values v2.3.1's training_step logs, with the same names.
type Losses struct {
	// Beta is the KL weight of the batch (beta_factor).
	Beta float64 `json:"beta_factor"`
	// MultiBand is the spectral distance of the (cropped) PQMF bands.
	MultiBand float64 `json:"multiband_spectral_distance"`
	// FullBand is the spectral distance of the raw input and the output.
	FullBand float64 `json:"fullband_spectral_distance"`
	// Regularization is β·KL (0 when the KL is exactly 0, as logged).
	Regularization float64 `json:"regularization"`
	// FeatureMatching is the logged term: FeatureMatchingWeight × the
	// feature-matching distance (stage 2).
	FeatureMatching float64 `json:"feature_matching"`
	// Adversarial is AdversarialWeight × Σ −mean D(ŷ) (stage 2).
	Adversarial float64 `json:"adversarial"`
	// LossDis is the discriminator's hinge loss (stage 2).
	LossDis float64 `json:"loss_dis"`
	// PredReal is Σ_sub mean D(x) (stage 2).
	PredReal float64 `json:"pred_real"`
	// PredFake is Σ_sub mean D(ŷ) (stage 2).
	PredFake float64 `json:"pred_fake"`
	// KL is the unweighted KL term.
	KL float64 `json:"kl"`
	// Generator is the generator loss Σ_k v_k·weight_k over the logged
	// terms: the feature-matching and adversarial weights are applied a
	// second time here (effectively 400 and 1 for v2.gin).
	Generator float64 `json:"loss_gen"`
	// MultiBandLin and MultiBandLog are the multiband distance's linear
	// and log terms per scale (2048 … 128).
	MultiBandLin, MultiBandLog []float64 `json:"-"`
	// FullBandLin and FullBandLog are the full-band distance's terms.
	FullBandLin, FullBandLog []float64 `json:"-"`
	// SubFeatureMatching, SubDis and SubAdversarial are the stage-2 terms
	// of each sub-discriminator (unweighted feature matching, hinge
	// losses).
	SubFeatureMatching, SubDis, SubAdversarial []float64 `json:"-"`
}

// Step is the result of a training step: the loss to differentiate and the
// tensors it was computed from.
type Step struct {
	// Loss is the generator loss (GeneratorStep) or the discriminator's
	// hinge loss (DiscriminatorStep).
	Loss *core.Tensor
	// Losses are the logged values.
	Losses Losses
	// XMB are the input's bands, Z the latent, YMB the generator's
	// multiband output and Y its synthesis, as the step computed them
	// (before the receptive-field crop).
	XMB, Z, YMB, Y *core.Tensor
}

// forwardStep runs the reconstruction half of training_step: PQMF,
// encoder (detached in stage 2), posterior sample, generator, synthesis,
// crop, and the two spectral distances and the regulariser. Recording
// goes on tp except for the encoder in stage 2.
func (m *Model) forwardStep(tp *core.Tape, x *core.Tensor, o StepOptions) (Step, *core.Tensor) {
	m.checkAudio("training step", x)
	var st Step
	tenc := tp
	if o.WarmedUp {
		tenc = nil // encoder frozen: its output is detached
	}
	st.XMB = m.Analysis(tp, x)
	mean, _, std := Posterior(tenc, m.Encoder.Forward(tenc, st.XMB))
	kl := nn.KL(tenc, mean, std)
	eps := o.Eps
	if eps == nil {
		if o.RNG == nil {
			panic("modelv2: training step needs Eps or RNG")
		}
		eps = core.Randn(o.RNG, mean.Shape()...)
	}
	st.Z = nn.Reparameterize(tenc, mean, std, eps)
	st.YMB = m.Generator.Forward(tp, st.Z, o.RNG)
	st.Y = m.Synthesis(tp, st.YMB)
	if n := x.Dim(2); st.Y.Dim(2) != n {
		st.Y = tp.Slice(st.Y, 2, 0, n)
	}
	xmb, ymb := st.XMB, st.YMB
	if lr, rr := o.ReceptiveField[0], o.ReceptiveField[1]; m.Config.Training.ValidSignalCrop && lr+rr > 0 {
		xmb, ymb = ValidSignalCrop(tp, xmb, lr, rr), ValidSignalCrop(tp, ymb, lr, rr)
	}
	mb := m.SpectralDistance(tp, xmb, ymb)
	fb := m.SpectralDistance(tp, x, st.Y)
	l := &st.Losses
	l.Beta, l.KL = o.Beta, float64(kl.Item())
	l.MultiBand, l.MultiBandLin, l.MultiBandLog = float64(mb.Total.Item()), mb.Lin, mb.Log
	l.FullBand, l.FullBandLin, l.FullBandLog = float64(fb.Total.Item()), fb.Lin, fb.Log
	loss := tp.Add(mb.Total, fb.Total)
	if l.KL != 0 { // training_step adds the term only when it is non-zero
		reg := tp.Scale(kl, float32(o.Beta))
		l.Regularization = float64(reg.Item())
		loss = tp.Add(loss, reg)
	}
	return st, loss
}

// GeneratorStep is a generator batch of v2.3.1's training_step for audio x
// (B, 1, T): stage 1 returns multiband + fullband + β·KL; stage 2
// (o.WarmedUp) detaches the encoder, runs the discriminator on x and the
// output and adds w·(w·fm) + a·(a·adv) with w = FeatureMatchingWeight and
// a = AdversarialWeight, the weights applied twice as the reference does.
// (The reference runs the discriminator once on the concatenated batch;
// its sub-networks treat examples independently, so two calls are the
// same.) Backward through Step.Loss gives the generator's gradients; in
// stage 2 the discriminator's parameters receive gradients too, as in the
// reference, and a trainer zeroes them before a discriminator step.
func (m *Model) GeneratorStep(tp *core.Tape, x *core.Tensor, o StepOptions) Step {
	st, loss := m.forwardStep(tp, x, o)
	if o.WarmedUp {
		m.needDiscriminator("GeneratorStep")
		real := m.Discriminator.Forward(nil, x)
		fake := m.Discriminator.Forward(tp, st.Y)
		loss, _ = m.adversarial(tp, &st.Losses, loss, real, fake)
	}
	st.Loss = loss
	st.Losses.Generator = float64(loss.Item())
	return st
}

// DiscriminatorStep is a discriminator batch of v2.3.1's training_step
// (stage 2, batch index a multiple of update_discriminator_every): the
// generator's forward pass is made without recording (only the
// discriminator is updated) and Step.Loss is the discriminator's hinge
// loss on x and the generated audio, recorded on tp. Losses holds the
// values the reference logs on that batch.
func (m *Model) DiscriminatorStep(tp *core.Tape, x *core.Tensor, o StepOptions) Step {
	m.needDiscriminator("DiscriminatorStep")
	o.WarmedUp = true
	st, gen := m.forwardStep(nil, x, o)
	real := m.Discriminator.Forward(tp, x)
	fake := m.Discriminator.Forward(tp, st.Y)
	gen, st.Loss = m.adversarial(tp, &st.Losses, gen, real, fake)
	st.Losses.Generator = float64(gen.Item())
	return st
}

// adversarial adds the stage-2 terms to the generator loss gen and logs
// them in l; it returns the new generator loss and the discriminator's
// loss. The generator loss is recorded only when gen is.
func (m *Model) adversarial(tp *core.Tape, l *Losses, gen *core.Tensor, real, fake Features) (genLoss, disLoss *core.Tensor) {
	t := m.Config.Training
	tg := tp
	if !gen.RequiresGrad() {
		tg = nil
	}
	fm, perFM := FeatureMatching(tg, real, fake, t.SkippedFeatures)
	h := HingeLosses(tp, real, fake)
	fmLogged := tg.Scale(fm, float32(t.FeatureMatchingWeight))
	advLogged := tg.Scale(h.Adv, float32(t.AdversarialWeight))
	l.FeatureMatching, l.Adversarial = float64(fmLogged.Item()), float64(advLogged.Item())
	l.LossDis, l.PredReal, l.PredFake = float64(h.Dis.Item()), h.PredReal, h.PredFake
	l.SubFeatureMatching, l.SubDis, l.SubAdversarial = perFM, h.PerDis, h.PerAdv
	gen = tg.Add(gen, tg.Scale(fmLogged, float32(t.FeatureMatchingWeight)))
	gen = tg.Add(gen, tg.Scale(advLogged, float32(t.AdversarialWeight)))
	return gen, h.Dis
}

func (m *Model) needDiscriminator(name string) {
	if m.Discriminator == nil {
		panic("modelv2: " + name + " in stage 2 needs the discriminator (build the model with one)")
	}
}
