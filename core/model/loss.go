package model

import (
	"fmt"
	"slices"

	"github.com/ravestation/rave/core"
)

// Distances are the terms of the v1 reconstruction distance (rave/model.py
// RAVE.training_step, rave-spec.md §6.1), as plain numbers for logging.
type Distances struct {
	// MultiBand is the multiscale spectral distance between the PQMF bands
	// of the input and of the output (each band a signal).
	MultiBand float64 `json:"mss_mb"`
	// FullBand is the same distance between the PQMF round trip of the
	// input and the synthesised output.
	FullBand float64 `json:"mss_fb"`
	// Loudness is mean((L(x) − L(y))²) of their A-weighted loudness.
	Loudness float64 `json:"loud_dist"`
	// Envelope is EnvelopeDistance between the full-band signals, when
	// the distance includes it (DistanceWithEnvelope); not a term of the
	// reference's.
	Envelope float64 `json:"env,omitempty"`
	// MultiBandLin, MultiBandLog, FullBandLin and FullBandLog are the two
	// terms of each distance per scale (2048 … 128).
	MultiBandLin, MultiBandLog []float64 `json:"-"`
	FullBandLin, FullBandLog   []float64 `json:"-"`
}

// Distance returns the v1 reconstruction distance between the input bands
// xmb and the decoded bands ymb (B, data_size, T): mss(xmb, ymb) +
// mss(PQMF⁻¹ xmb, PQMF⁻¹ ymb) + loud_dist(PQMF⁻¹ xmb, PQMF⁻¹ ymb), the
// full-band target being the PQMF round trip of the input as in the
// reference. With data_size 1 the full-band term is left out (the
// reference's pqmf is None). It is differentiable with respect to ymb (and
// xmb if it requires a gradient).
func (m *Model) Distance(tp *core.Tape, xmb, ymb *core.Tensor) (*core.Tensor, Distances) {
	total, d, _, _ := m.distance(tp, xmb, ymb)
	return total, d
}

// DistanceWithEnvelope returns Distance plus weight times
// EnvelopeDistance of the full-band signals in frames of frame samples:
// a departure from the reference that holds the decoder to the input's
// level frame by frame, quiet frames as much as loud ones (the quick
// preset's, train.Config.Envelope). d.Envelope is the unweighted term.
func (m *Model) DistanceWithEnvelope(tp *core.Tape, xmb, ymb *core.Tensor, weight float32, frame int) (*core.Tensor, Distances) {
	total, d, x, y := m.distance(tp, xmb, ymb)
	env := EnvelopeDistance(tp, x, y, frame)
	d.Envelope = float64(env.Item())
	return tp.Add(total, tp.Scale(env, weight)), d
}

// EnvelopeFloor is the power below which EnvelopeDistance does not tell
// levels apart: −100 dB relative to a full-scale square wave, far below
// the 50 dB range over which levels are compared.
const EnvelopeFloor = 1e-10

// EnvelopeDistance is the mean absolute difference of the natural log of
// the frame powers of x and y (B, 1, T), frames of frame samples (T a
// multiple of frame): mean |ln(P_x + ε) − ln(P_y + ε)| with P the mean
// square of a frame and ε EnvelopeFloor. A frame 3 dB too quiet costs
// 0.69, whatever its level, where the spectral terms weigh a quiet decay
// by its few loud bins (linear term) or spread it over every bin of the
// noise floor (log term).
func EnvelopeDistance(tp *core.Tape, x, y *core.Tensor, frame int) *core.Tensor {
	if x.Dim(2)%frame != 0 || !slices.Equal(x.Shape(), y.Shape()) {
		panic(fmt.Sprintf("model: EnvelopeDistance: shapes %v and %v in frames of %d", x.Shape(), y.Shape(), frame))
	}
	power := func(s *core.Tensor) *core.Tensor {
		f := tp.Reshape(tp.Square(s), s.Dim(0), s.Dim(2)/frame, frame)
		return tp.Log(tp.AddScalar(tp.Mean(f, false, 2), EnvelopeFloor))
	}
	return tp.MeanAbsDiff(power(x), power(y))
}

func (m *Model) distance(tp *core.Tape, xmb, ymb *core.Tensor) (*core.Tensor, Distances, *core.Tensor, *core.Tensor) {
	l := m.losses()
	var d Distances
	total, lin, lg := l.spectralDistance(tp, xmb, ymb)
	d.MultiBand, d.MultiBandLin, d.MultiBandLog = float64(total.Item()), lin, lg
	x, y := xmb, ymb
	if m.bank() != nil {
		x, y = m.Synthesis(tp, xmb), m.Synthesis(tp, ymb)
		fb, lin, lg := l.spectralDistance(tp, x, y)
		d.FullBand, d.FullBandLin, d.FullBandLog = float64(fb.Item()), lin, lg
		total = tp.Add(total, fb)
	}
	lx, ly := m.Loudness(tp, x, y)
	loud := tp.Mean(tp.Square(tp.Sub(lx, ly)), false)
	d.Loudness = float64(loud.Item())
	return tp.Add(total, loud), d, x, y
}

// Loudness returns the v1 A-weighted loudness curves of full-band signals x
// and y (B, 1, T) → (B, 1, 1 + T/512) (rave/core.py Loudness), using the
// model's loudness.a_weight buffer.
func (m *Model) Loudness(tp *core.Tape, x, y *core.Tensor) (lx, ly *core.Tensor) {
	return m.losses().loudnessCurves(tp, x, y, m.byName[bufAWeight].Data())
}

func (m *Model) losses() *lossModules {
	if m.lossMods == nil {
		m.lossMods = newLossModules(m.Config.SR)
	}
	return m.lossMods
}

// Stage1Terms are the parts of Stage1DetLoss.
type Stage1Terms struct {
	Distances
	// KL is the KL term as the reference codes it (rave-spec.md §3.3).
	KL float64 `json:"kl"`
	// Beta is the KL weight used.
	Beta float64 `json:"beta"`
	// Total is the loss value.
	Total float64 `json:"loss"`
}

// Stage1DetLoss is the deterministic stage-1 generator loss of the
// reference fixture (stage1_det_loss): for audio x (B, 1, T), encode with
// the encoder in its current mode, decode the posterior mean without the
// noise head, and return mss_mb + mss_fb + loud_dist + β·KL with β =
// max_kl (the constant 0.1 of v1's train_rave.py). Backward through the
// result gives every encoder and decoder parameter's gradient.
func (m *Model) Stage1DetLoss(tp *core.Tape, x *core.Tensor) (*core.Tensor, Stage1Terms) {
	checkInput("Stage1DetLoss", x, 1)
	if r := m.Config.CompressionRatio(); x.Dim(2)%r != 0 {
		panic(fmt.Sprintf("model: Stage1DetLoss: length %d is not a multiple of the compression ratio %d", x.Dim(2), r))
	}
	xmb := m.Analysis(tp, x)
	mean, scale := m.Encoder.Forward(tp, xmb)
	std := PosteriorStd(tp, scale)
	kl := KL(tp, mean, std)
	z := m.CompleteLatent(tp, mean, nil)
	ymb := m.Decoder.Forward(tp, z, false, nil)
	dist, d := m.Distance(tp, xmb, ymb)
	beta := m.Config.MaxKL
	loss := tp.Add(dist, tp.Scale(kl, float32(beta)))
	return loss, Stage1Terms{Distances: d, KL: float64(kl.Item()), Beta: beta, Total: float64(loss.Item())}
}

// distanceMinSub is the shortest signal, in samples per band, the v1
// distance accepts: its largest STFT (2048) reflect-pads 1024 samples.
const distanceMinSub = 1025

// AudioDistance returns the model's v1 reconstruction distance between
// signals x and y of equal length: its full-band multiscale spectral term
// (between the PQMF round trips of each) and every term (Distance). Both
// are zero-padded to a multiple of the compression ratio, and to at least
// 1025 samples per PQMF band (about 0.35 s at 48 kHz) which the largest
// STFT scale needs.
func (m *Model) AudioDistance(x, y []float32) (float64, Distances) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("model: AudioDistance: %d and %d samples", len(x), len(y)))
	}
	r := m.Config.CompressionRatio()
	n := max(len(x), distanceMinSub*max(m.Config.DataSize, 1))
	n = ceilDiv(n, r) * r
	xt, yt := core.Zeros(1, 1, n), core.Zeros(1, 1, n)
	copy(xt.Data(), x)
	copy(yt.Data(), y)
	_, d := m.Distance(nil, m.Analysis(nil, xt), m.Analysis(nil, yt))
	if m.bank() == nil {
		return d.MultiBand, d
	}
	return d.FullBand, d
}
