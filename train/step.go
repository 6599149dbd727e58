package train

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// stepGCPercent is the garbage collector's target (GOGC) during a step.
const stepGCPercent = 10

// stepKind is what one step trains.
type stepKind int

const (
	stepVAE  stepKind = iota // stage 1: encoder and decoder
	stepDisc                 // stage 2, odd steps: the discriminator
	stepGen                  // stage 2, even steps: the decoder
)

func (t *trainer) stepKind() stepKind {
	switch {
	case t.stage == runlog.StageVAE:
		return stepVAE
	case t.step%2 == 1:
		return stepDisc
	default:
		return stepGen
	}
}

// replica is one part of a data-parallel step: a model sharing the
// trainer's weights (model.Replica) and a tape of its own. Replica 0 is the
// trainer's model and tape.
type replica struct {
	m  *model.Model
	tp *core.Tape
}

// replicas returns the models of the step's parts, building them when the
// trainer's model is new (a fresh run, a resume, a NaN recovery).
func (t *trainer) replicas() []*replica {
	n := t.cfg.parts()
	if len(t.reps) == n && t.reps[0].m == t.m {
		return t.reps
	}
	t.reps = []*replica{{m: t.m, tp: t.tp}}
	for range n - 1 {
		r, err := t.m.Replica()
		if err != nil {
			panic(fmt.Sprintf("train: %v", err)) // same config: cannot fail
		}
		t.reps = append(t.reps, &replica{m: r, tp: core.NewTape()})
	}
	return t.reps
}

// partResult is what one part of a step computed.
type partResult struct {
	losses map[string]float64
	ok     bool
}

// trainStep runs one optimisation step on batch (Batch × NSignal samples)
// and returns the loss terms and whether they (and the gradients) are
// finite; nothing is updated when they are not.
//
// The batch is split into Config.Split parts of consecutive examples that
// run concurrently on replicas of the model, each with its own random
// stream, as the reference's DistributedDataParallel training does on that
// many devices: BatchNorm statistics and the spectral distances' norms are
// per part, the loss terms and gradients are averaged weighted by the
// parts' sizes, and the replicas take the first replica's buffers before
// every step (DDP's broadcast_buffers). One part is the whole batch at
// once. On a 2-core CPU two parts keep both cores busy where one part's
// ops, split across the cores one by one, leave a quarter of them idle.
func (t *trainer) trainStep(batch []float32) (map[string]float64, bool) {
	// The tapes recycle the buffers of the previous step (nothing of a step
	// outlives it: the losses are plain numbers), so the heap is almost all
	// live data and a step makes little garbage; collecting it early keeps
	// the footprint near one step's working set.
	defer debug.SetGCPercent(debug.SetGCPercent(stepGCPercent))
	reps := t.replicas()
	kind := t.stepKind()
	B, N := t.cfg.Batch, t.cfg.NSignal
	res := make([]partResult, len(reps))
	if len(reps) == 1 {
		res[0] = t.part(reps[0], kind, batch, B, 0)
	} else {
		for _, r := range reps[1:] {
			r.m.SyncBuffers(t.m)
		}
		var wg sync.WaitGroup
		for i, r := range reps {
			lo, hi := partBounds(i, len(reps), B)
			wg.Go(func() { res[i] = t.part(r, kind, batch[lo*N:hi*N], hi-lo, i) })
		}
		wg.Wait()
	}
	losses := res[0].losses
	ok := res[0].ok
	if len(reps) > 1 {
		losses = map[string]float64{}
		for i, r := range res {
			lo, hi := partBounds(i, len(reps), B)
			for k, v := range r.losses {
				losses[k] += float64(hi-lo) / float64(B) * v
			}
			ok = ok && r.ok
		}
	}
	key, slabs := "loss", []string{"enc", "dec"}
	switch kind {
	case stepDisc:
		key, slabs = "disc", []string{"disc"}
	case stepGen:
		slabs = []string{"dec"}
	}
	if !ok || !finite(losses[key]) {
		return losses, false
	}
	for _, name := range slabs {
		if len(reps) > 1 {
			parts := make([][]float32, len(reps))
			weights := make([]float32, len(reps))
			for i, r := range reps {
				lo, hi := partBounds(i, len(reps), B)
				parts[i] = slab(r.m, name).Grad()
				weights[i] = float32(hi-lo) / float32(B)
			}
			averageInto(parts, weights)
		}
		if !slabFinite(slab(t.m, name).Grad()) {
			return losses, false
		}
	}
	for _, name := range slabs {
		ps := slab(t.m, name)
		t.adams[name].Update(ps.Data(), ps.Grad(), nil)
	}
	for _, r := range reps {
		r.m.ParamsChanged()
	}
	return losses, true
}

// partBounds returns the examples [lo, hi) of part i of a batch of B
// split into n.
func partBounds(i, n, B int) (lo, hi int) { return i * B / n, (i + 1) * B / n }

// slab returns the named parameter set of m: "enc", "dec" or "disc".
func slab(m *model.Model, name string) *core.ParamSet {
	switch name {
	case "enc":
		return m.Enc
	case "dec":
		return m.Dec
	}
	return m.Disc
}

// averageInto sets parts[0] to Σ weights[i]·parts[i], in parallel chunks
// (the result does not depend on the number of threads).
func averageInto(parts [][]float32, weights []float32) {
	dst := parts[0]
	const chunk = 1 << 16
	n := (len(dst) + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for c := w; c < n; c += workers {
				lo, hi := c*chunk, min((c+1)*chunk, len(dst))
				for j := lo; j < hi; j++ {
					v := weights[0] * dst[j]
					for i := 1; i < len(parts); i++ {
						v += weights[i] * parts[i][j]
					}
					dst[j] = v
				}
			}
		})
	}
	wg.Wait()
}

// partSalt separates the random streams of a step's parts; part 0 keeps
// the stream a whole-batch step uses.
func partSalt(i int) uint64 { return uint64(i) * 0x9e3779b97f4a7c15 >> 1 }

// part runs the forward and backward pass of one part of a step (b
// examples of x) on replica r, leaving the gradients of what kind trains in
// r's slabs, and returns the loss terms; ok is false when the loss is not
// finite.
//
// Stage 1 (rave-spec §6.6): encoder in training mode, z sampled, decoder
// without noise, L = mss_mb + mss_fb + loud + β·KL. Stage 2: encoder frozen
// (eval mode, no gradient), decoder with the noise synthesiser; on odd
// steps the discriminator's hinge loss, on even steps the decoder's
// distances + hinge adversarial term + feature matching (×10), the
// reference's 1:1 alternation. With Config.Envelope both generator losses
// add the envelope term (trainer.distance).
func (t *trainer) part(r *replica, kind stepKind, batch []float32, b, i int) partResult {
	m, tp := r.m, r.tp
	tp.SetRecycling(true)
	tp.Reset()
	m.Enc.ZeroGrad()
	m.Dec.ZeroGrad()
	if kind != stepVAE {
		// Stage 1 never touches the discriminator, whose gradients stay
		// zero; clearing them would only make 4·|disc| bytes resident.
		m.Disc.ZeroGrad()
	}
	x := core.New(batch, b, 1, t.cfg.NSignal)
	rng := t.stepRNG(partSalt(i))
	losses := map[string]float64{}
	if kind == stepVAE {
		m.Encoder.Training = true
		xmb := m.Analysis(tp, x)
		mean, scale := m.Encoder.Forward(tp, xmb)
		std := model.PosteriorStd(tp, scale)
		kl := model.KL(tp, mean, std)
		z, _ := model.Reparameterize(tp, mean, std, rng)
		z = m.CompleteLatent(tp, z, rng)
		ymb := m.Decoder.Forward(tp, z, false, rng)
		dist, d := t.distance(m, tp, xmb, ymb)
		beta := t.cfg.Beta(t.step, m.Config.MaxKL)
		loss := tp.Add(dist, tp.Scale(kl, float32(beta)))
		logDistances(losses, d)
		losses["kl"], losses["loss"] = float64(kl.Item()), float64(loss.Item())
		if !finite(losses["loss"]) {
			return partResult{losses, false}
		}
		tp.Backward(loss)
		return partResult{losses, true}
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
	if kind == stepDisc {
		// Discriminator step on real audio and detached generated audio.
		y := m.Decode(nil, z, true, rng)
		real := m.Discriminator.Forward(tp, xfb)
		fake := m.Discriminator.Forward(tp, y)
		lossD := model.HingeDiscriminatorLoss(tp, real, fake)
		losses["disc"] = float64(lossD.Item())
		if !finite(losses["disc"]) {
			return partResult{losses, false}
		}
		tp.Backward(lossD)
		return partResult{losses, true}
	}
	// Generator step: the discriminator's parameters get no gradient.
	setRequiresGrad(m.Disc, false)
	defer setRequiresGrad(m.Disc, true)
	ymb := m.Decoder.Forward(tp, z, true, rng)
	dist, d := t.distance(m, tp, xmb, ymb)
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
	logDistances(losses, d)
	losses["adv"], losses["loss"] = float64(adv.Item()), float64(loss.Item())
	if !finite(losses["loss"]) {
		return partResult{losses, false}
	}
	tp.Backward(loss)
	return partResult{losses, true}
}

// distance is the generator's reconstruction distance: the reference's
// (model.Distance), plus the envelope term when the run has one
// (Config.Envelope), in frames of one latent frame.
func (t *trainer) distance(m *model.Model, tp *core.Tape, xmb, ymb *core.Tensor) (*core.Tensor, model.Distances) {
	if t.cfg.Envelope > 0 {
		return m.DistanceWithEnvelope(tp, xmb, ymb, float32(t.cfg.Envelope), m.Config.CompressionRatio())
	}
	return m.Distance(tp, xmb, ymb)
}

// logDistances puts the distance terms in a step's losses.
func logDistances(losses map[string]float64, d model.Distances) {
	losses["mss_mb"], losses["mss_fb"], losses["loud"] = d.MultiBand, d.FullBand, d.Loudness
	if d.Envelope != 0 {
		losses["env"] = d.Envelope
	}
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
	// With a moving average the average is validated, analysed and kept
	// as the best model: it is the model the session hands out.
	return t.withAverage(t.validateModel)
}

// validateModel is validate on the weights in place.
func (t *trainer) validateModel() error {
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
		ymb := m.Decoder.Forward(nil, z, t.stage == runlog.StageAdversarial, rng)
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
	ev := Event{Kind: runlog.EventValidation, Step: t.step, Stage: t.stage, Losses: losses, Time: time.Now(), Wall: t.wall()}
	if t.stage == runlog.StageVAE {
		if err := t.analyze(frames); err != nil {
			ev.Message = err.Error()
		}
	}
	if v := losses["validation"]; finite(v) && (t.bestVal == 0 || v < t.bestVal) {
		t.m.Step, t.m.Stage = t.step, int(t.stage)
		if err := t.m.Save(layout.BestModel(t.dir)); err != nil {
			return fmt.Errorf("train: best model: %w", err)
		}
		t.bestVal = v
		note := "best so far: " + layout.BestModelFile
		if ev.Message != "" {
			note = ev.Message + "; " + note
		}
		ev.Message = note
	}
	if t.plateau(losses["validation"]) {
		t.cfg.Stage1Steps = t.step
		note := fmt.Sprintf("validation plateau: %d validations without a %.0f %% gain on the best distance %.4g; stage 2 starts now",
			t.cfg.Stage2Plateau, 100*Stage2MinGain, t.bestVal)
		if ev.Message != "" {
			note = ev.Message + "; " + note
		}
		ev.Message = note
	}
	t.record(ev)
	return nil
}

// plateau advances the plateau switch (Config.Stage2Plateau) with the
// validation distance v, after bestVal has taken it in, and reports whether
// stage 2 should start at this step: in stage 1, from Stage2From on, after
// Stage2Plateau validations in a row none of which lowered the best
// distance below (1 − Stage2MinGain) times the reference, the best distance
// at the last validation that did.
func (t *trainer) plateau(v float64) bool {
	if !t.cfg.PlateauSwitch() || t.stage != runlog.StageVAE || !finite(v) || t.step >= t.cfg.Stage1Steps {
		return false
	}
	if t.plateauRef == 0 || t.bestVal < t.plateauRef*(1-Stage2MinGain) {
		t.plateauRef, t.plateauCount = t.bestVal, 0
		return false
	}
	if t.step < t.cfg.Stage2From {
		return false
	}
	t.plateauCount++
	return t.plateauCount >= t.cfg.Stage2Plateau
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
