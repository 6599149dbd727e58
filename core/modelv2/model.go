package modelv2

import (
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
)

// Model is a RAVE v2 model: PQMF, encoder, generator and (optionally) the
// discriminator, every parameter named by its reference state-dict key.
//
// Parameters live in three slabs so that a trainer can step them
// separately: Enc (encoder.*), Dec (decoder.*) and Disc (discriminator.*,
// nil without a discriminator). The reference's buffers are fields:
// LatentPCA, LatentMean, Fidelity (latent analysis), ReceptiveField and
// WarmedUp; the PQMF filters and STFT windows are designed, not stored.
//
// A Model is not safe for concurrent use: tape-free passes cache the
// effective weights in its layers (see ParamsChanged).
type Model struct {
	// Config is the model's (validated) configuration.
	Config Config
	// Enc, Dec and Disc hold the trainable parameters.
	Enc, Dec, Disc *core.ParamSet
	// Encoder is the encoder (encoder.*).
	Encoder *Encoder
	// Generator is the decoder (decoder.*).
	Generator *Generator
	// Discriminator is nil when the model was built without one.
	Discriminator *Discriminator
	// PQMF is the filter bank (CachedPQMF, 100 dB).
	PQMF *dsp.PQMF
	// LatentPCA (L, L), LatentMean (L) and Fidelity (L) are the latent
	// analysis buffers (identity, zeros and zeros until one is made).
	LatentPCA, LatentMean, Fidelity *core.Tensor
	// ReceptiveField is the reference's receptive_field buffer: the left
	// and right receptive field in samples that valid_signal_crop uses,
	// (0, 0) until measured.
	ReceptiveField [2]int
	// WarmedUp is the encoder.warmed_up buffer: stage 2 has begun.
	WarmedUp bool

	distance dsp.MultiScaleDistance
	gens     [3]*cacheGen // parameter generations of Enc, Dec and Disc (fast.go)
	pqmfInf  *pqmfKernels // the PQMF in fast.go's form, built on first use
}

// New builds a model for cfg with zero parameters (call Init or load a
// state dict), designing its PQMF. The discriminator is built when
// withDiscriminator is set.
func New(cfg Config, withDiscriminator bool) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.clone()
	bank, err := dsp.NewPQMF(cfg.Bands, cfg.PQMFAttenuation)
	if err != nil {
		return nil, fmt.Errorf("modelv2: %w", err)
	}
	m := &Model{Config: cfg, PQMF: bank, Enc: core.NewParamSet(), Dec: core.NewParamSet()}
	m.Encoder = newEncoder(m.Enc, cfg)
	m.Generator = newGenerator(m.Dec, cfg)
	m.Enc.Alloc()
	m.Dec.Alloc()
	m.gens = [3]*cacheGen{{}, {}, {}}
	setGen(m.Encoder.layers(), m.gens[0])
	setGen(m.Generator.layers(), m.gens[1])
	if withDiscriminator {
		m.Disc = core.NewParamSet()
		m.Discriminator = newDiscriminator(m.Disc, cfg.Discriminator)
		m.Disc.Alloc()
		setGen(m.Discriminator.layers(), m.gens[2])
	}
	l := cfg.LatentSize
	m.LatentPCA, m.LatentMean, m.Fidelity = core.Zeros(l, l), core.Zeros(l), core.Zeros(l)
	for i := range l {
		m.LatentPCA.Data()[i*l+i] = 1
	}
	m.distance = dsp.MultiScaleDistance{
		Scales:     cfg.Training.SpectralScales,
		Variant:    dsp.SpectralV2,
		LogEpsilon: cfg.Training.LogEpsilon,
	}
	return m, nil
}

// Init draws every parameter as PyTorch initialises the reference's
// freshly built modules (uniform ±1/√fan_in, weight_g = ‖weight_v‖).
func (m *Model) Init(rng *rand.Rand) {
	for _, l := range m.layers() {
		l.init(rng)
	}
	m.ParamsChanged()
}

func (m *Model) layers() []*layer {
	ls := append(m.Encoder.layers(), m.Generator.layers()...)
	if m.Discriminator != nil {
		ls = append(ls, m.Discriminator.layers()...)
	}
	return ls
}

// checkAudio panics unless x is (B, 1, T) with T a positive multiple of
// the compression ratio.
func (m *Model) checkAudio(name string, x *core.Tensor) {
	s := x.Shape()
	if r := m.Config.CompressionRatio(); len(s) != 3 || s[1] != 1 || s[2] == 0 || s[2]%r != 0 {
		panic(fmt.Sprintf("modelv2: %s: audio %v, want (B, 1, T) with T a positive multiple of %d", name, s, r))
	}
}

// Analysis splits audio x (B, 1, T) into PQMF bands (B, Bands, T/Bands):
// CachedPQMF's forward, its convolution padded (L/2, L/2) or, with
// Config.Causal, (L, 0) (rave-spec.md §2.4).
func (m *Model) Analysis(tp *core.Tape, x *core.Tensor) *core.Tensor {
	if tp == nil && fastInference {
		return m.analysisInfer(x)
	}
	if !m.Config.Causal {
		return m.PQMF.Analysis(tp, x)
	}
	M := m.PQMF.Bands()
	if s := x.Shape(); len(s) != 3 || s[1] != 1 || s[2] == 0 || s[2]%M != 0 {
		panic(fmt.Sprintf("modelv2: Analysis: audio %v, want (B, 1, T) with T a positive multiple of %d", s, M))
	}
	p := core.ConvParams{Stride: M, PadLeft: m.PQMF.FilterLength()}
	return dsp.ReverseHalf(tp, tp.Conv1d(x, m.PQMF.AnalysisWeight(), nil, p))
}

// Synthesis recombines bands y (B, Bands, T') into audio (B, 1, Bands·T'):
// CachedPQMF's inverse, its convolution padded (L/2M, L/2M) or, with
// Config.Causal, (L/M, 0) (rave-spec.md §2.5).
func (m *Model) Synthesis(tp *core.Tape, y *core.Tensor) *core.Tensor {
	if tp == nil && fastInference {
		return m.synthesisInfer(y)
	}
	if !m.Config.Causal {
		return m.PQMF.Synthesis(tp, y)
	}
	M := m.PQMF.Bands()
	if s := y.Shape(); len(s) != 3 || s[1] != M || s[2] == 0 {
		panic(fmt.Sprintf("modelv2: Synthesis: bands %v, want (B, %d, T')", s, M))
	}
	p := core.ConvParams{PadLeft: m.PQMF.FilterLength() / M}
	u := tp.Conv1d(dsp.ReverseHalf(tp, y), m.PQMF.SynthesisWeight(), nil, p)
	return dsp.Interleave(tp, u, float32(M), true)
}

// Encode returns the raw encoder output (B, 2·latent, T/2048) of audio x
// (B, 1, T), T a multiple of the compression ratio (model.encode).
func (m *Model) Encode(tp *core.Tape, x *core.Tensor) *core.Tensor {
	m.checkAudio("Encode", x)
	return m.Encoder.Forward(tp, m.Analysis(tp, x))
}

// Decode returns the audio (B, 1, F·2048) of latent z (B, latent, F)
// (model.decode); rng feeds the noise generator, if any.
func (m *Model) Decode(tp *core.Tape, z *core.Tensor, rng *rand.Rand) *core.Tensor {
	if s := z.Shape(); len(s) != 3 || s[1] != m.Config.LatentSize {
		panic(fmt.Sprintf("modelv2: Decode: latent %v, want (B, %d, frames)", s, m.Config.LatentSize))
	}
	return m.Synthesis(tp, m.Generator.Forward(tp, z, rng))
}

// ParamCount returns the number of trainable parameters of the encoder,
// the generator and the discriminator (0 without one), weight-norm gains
// included.
func (m *Model) ParamCount() (enc, dec, disc int) {
	enc, dec = m.Enc.Count(), m.Dec.Count()
	if m.Disc != nil {
		disc = m.Disc.Count()
	}
	return enc, dec, disc
}
