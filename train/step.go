package train

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
)

// stepGCPercent is the garbage collector's target (GOGC) during a step.
const stepGCPercent = 10

// trainStep runs one optimisation step on batch (Batch × NSignal samples)
// and returns the loss terms and whether they (and the gradients) are
// finite; nothing is updated when they are not.
//
// Stage 1 (rave-spec §6.6): encoder in training mode, z sampled, decoder
// without noise, L = mss_mb + mss_fb + loud + β·KL; encoder and decoder
// step. Stage 2: encoder frozen (eval mode, no gradient), decoder with the
// noise synthesiser; on odd steps the discriminator steps on the hinge loss,
// on even steps the decoder steps on the distances + hinge adversarial term
// + feature matching (×10), the reference's 1:1 alternation.
func (t *trainer) trainStep(batch []float32) (map[string]float64, bool) {
	m, tp := t.m, t.tp
	// The tape recycles the buffers of the previous step (nothing of a step
	// outlives it: the losses are plain numbers), so the heap is almost all
	// live data and a step makes little garbage; collecting it early keeps
	// the footprint near one step's working set.
	tp.SetRecycling(true)
	tp.Reset()
	defer debug.SetGCPercent(debug.SetGCPercent(stepGCPercent))
	m.Enc.ZeroGrad()
	m.Dec.ZeroGrad()
	if t.stage != StageVAE {
		// Stage 1 never touches the discriminator, whose gradients stay
		// zero; clearing them would only make 4·|disc| bytes resident.
		m.Disc.ZeroGrad()
	}
	x := core.New(batch, t.cfg.Batch, 1, t.cfg.NSignal)
	rng := t.stepRNG(0)
	losses := map[string]float64{}
	if t.stage == StageVAE {
		m.Encoder.Training = true
		xmb := m.Analysis(tp, x)
		mean, scale := m.Encoder.Forward(tp, xmb)
		std := model.PosteriorStd(tp, scale)
		kl := model.KL(tp, mean, std)
		z, _ := model.Reparameterize(tp, mean, std, rng)
		z = m.CompleteLatent(tp, z, rng)
		ymb := m.Decoder.Forward(tp, z, false, rng)
		dist, d := m.Distance(tp, xmb, ymb)
		beta := m.Config.MaxKL
		loss := tp.Add(dist, tp.Scale(kl, float32(beta)))
		losses["mss_mb"], losses["mss_fb"], losses["loud"] = d.MultiBand, d.FullBand, d.Loudness
		losses["kl"], losses["loss"] = float64(kl.Item()), float64(loss.Item())
		if !finite(losses["loss"]) {
			return losses, false
		}
		tp.Backward(loss)
		if !slabFinite(m.Enc.Grad()) || !slabFinite(m.Dec.Grad()) {
			return losses, false
		}
		t.adams["enc"].Update(m.Enc.Data(), m.Enc.Grad(), nil)
		t.adams["dec"].Update(m.Dec.Data(), m.Dec.Grad(), nil)
		m.ParamsChanged()
		return losses, true
	}

	// Stage 2: the encoder is frozen, so it runs without a tape.
	m.Encoder.Training = false
	xmb := m.Analysis(nil, x)
	mean, scale := m.Encoder.Forward(nil, xmb)
	std := model.PosteriorStd(nil, scale)
	losses["kl"] = float64(model.KL(nil, mean, std).Item())
	z, _ := model.Reparameterize(nil, mean, std, rng)
	z = m.CompleteLatent(nil, z, rng)
	xfb := m.Synthesis(nil, xmb)
	if t.step%2 == 1 {
		// Discriminator step on real audio and detached generated audio.
		y := m.Decode(nil, z, true, rng)
		real := m.Discriminator.Forward(tp, xfb)
		fake := m.Discriminator.Forward(tp, y)
		lossD := model.HingeDiscriminatorLoss(tp, real, fake)
		losses["disc"] = float64(lossD.Item())
		if !finite(losses["disc"]) {
			return losses, false
		}
		tp.Backward(lossD)
		if !slabFinite(m.Disc.Grad()) {
			return losses, false
		}
		t.adams["disc"].Update(m.Disc.Data(), m.Disc.Grad(), nil)
		m.ParamsChanged()
		return losses, true
	}
	// Generator step: the discriminator's parameters get no gradient.
	setRequiresGrad(m.Disc, false)
	defer setRequiresGrad(m.Disc, true)
	ymb := m.Decoder.Forward(tp, z, true, rng)
	dist, d := m.Distance(tp, xmb, ymb)
	y := m.Synthesis(tp, ymb)
	// The real features are targets. The discriminator's parameters need no
	// gradient here, so nothing of this pass is recorded and its values are
	// ordinary memory (the tape keeps only what it records); the tape's
	// kernels are faster than the inference path at training batch sizes.
	real := m.Discriminator.Forward(tp, xfb)
	fake := m.Discriminator.Forward(tp, y)
	adv := model.HingeGeneratorLoss(tp, fake)
	loss := tp.Add(dist, adv)
	if m.Config.FeatureMatch {
		fm := model.FeatureMatchingLoss(tp, real, fake)
		losses["fm"] = float64(fm.Item())
		loss = tp.Add(loss, fm)
	}
	losses["mss_mb"], losses["mss_fb"], losses["loud"] = d.MultiBand, d.FullBand, d.Loudness
	losses["adv"], losses["loss"] = float64(adv.Item()), float64(loss.Item())
	if !finite(losses["loss"]) {
		return losses, false
	}
	tp.Backward(loss)
	if !slabFinite(m.Dec.Grad()) {
		return losses, false
	}
	t.adams["dec"].Update(m.Dec.Data(), m.Dec.Grad(), nil)
	m.ParamsChanged()
	return losses, true
}

func setRequiresGrad(ps *core.ParamSet, on bool) {
	for _, p := range ps.Params() {
		p.SetRequiresGrad(on)
	}
}

// validate measures the full-band spectral distance of the held-out chunks
// (the reference's "validation" metric) with the encoder in eval mode and,
// during stage 1, refits the latent analysis on their posterior means
// (rave-spec §7.2, §8).
func (t *trainer) validate() error {
	if len(t.valIdx) == 0 {
		return nil
	}
	m := t.m
	m.Encoder.Training = false
	n := min(len(t.valIdx), t.cfg.ValExamples)
	rng := t.stepRNG(0x7a1)
	chunk := make([]float32, t.ds.ChunkLen())
	var fb, mb float64
	var frames [][]float32
	for lo := 0; lo < n; lo += t.cfg.Batch {
		hi := min(lo+t.cfg.Batch, n)
		B := hi - lo
		data := make([]float32, B*t.cfg.NSignal)
		for b := range B {
			t.ds.ChunkFloat(chunk, t.valIdx[lo+b])
			copy(data[b*t.cfg.NSignal:], chunk[:t.cfg.NSignal])
		}
		x := core.New(data, B, 1, t.cfg.NSignal)
		xmb := m.Analysis(nil, x)
		mean, scale := m.Encoder.Forward(nil, xmb)
		std := model.PosteriorStd(nil, scale)
		z, _ := model.Reparameterize(nil, mean, std, rng)
		z = m.CompleteLatent(nil, z, rng)
		ymb := m.Decoder.Forward(nil, z, t.stage == StageAdversarial, rng)
		_, d := m.Distance(nil, xmb, ymb)
		fb += d.FullBand * float64(B)
		mb += d.MultiBand * float64(B)
		D, F := mean.Dim(1), mean.Dim(2)
		md := mean.Data()
		for b := range B {
			for f := range F {
				fr := make([]float32, D)
				for c := range D {
					fr[c] = md[(b*D+c)*F+f]
				}
				frames = append(frames, fr)
			}
		}
	}
	losses := map[string]float64{"validation": fb / float64(n), "val_mss_mb": mb / float64(n)}
	t.lastVal = losses["validation"]
	ev := Event{Kind: EventValidation, Step: t.step, Stage: t.stage, Losses: losses, Time: time.Now(), Wall: t.wall()}
	if t.stage == StageVAE {
		if err := t.analyze(frames); err != nil {
			ev.Message = err.Error()
		}
	}
	t.metrics.Write(ev)
	t.emit(ev)
	return nil
}

// analyze fits the latent PCA on validation posterior means and stores it
// in the model's latent_pca, latent_mean and fidelity buffers.
func (t *trainer) analyze(frames [][]float32) error {
	a, err := latent.Fit(frames)
	if errors.Is(err, latent.ErrTooFewFrames) {
		return fmt.Errorf("latent analysis skipped: %w", err)
	}
	if err != nil {
		return err
	}
	if err := t.m.SetLatentAnalysis(a, t.step, "validation split"); err != nil {
		return err
	}
	return nil
}
