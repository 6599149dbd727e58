package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/nn"
)

// Model is a RAVE v1 model: PQMF, encoder, decoder and (optionally) the
// discriminator, with every parameter and buffer named by its reference
// state-dict key.
//
// Parameters live in three slabs so that a trainer can update them
// separately: Enc (encoder.*), Dec (decoder.*) and Disc
// (discriminator.*; nil until AddDiscriminator). Buffers (PQMF filters,
// loudness tables, BatchNorm statistics, latent analysis, counters) are
// plain tensors outside the slabs.
//
// A Model is not safe for concurrent use: inference fills caches lazily
// (effective weights, packed kernels) and training mutates BatchNorm
// statistics. Give each goroutine its own Model or serialise the calls.
type Model struct {
	Config Config
	// Enc, Dec and Disc hold the trainable parameters.
	Enc, Dec, Disc *core.ParamSet
	// Encoder, Decoder and Discriminator are the networks.
	Encoder       *Encoder
	Decoder       *Decoder
	Discriminator *Discriminator
	// Step is the training step (the saved_step buffer).
	Step int64
	// Stage is the training stage (1: VAE, 2: adversarial).
	Stage int
	// LatentAnalysis describes the latent analysis held in the latent_pca,
	// latent_mean and fidelity buffers.
	LatentAnalysis LatentAnalysis

	gen     *cacheGen
	buffers []*core.Tensor
	byName  map[string]*core.Tensor
	pqmf    *pqmfBank

	lossMods *lossModules
}

// Buffer names of the reference state dict.
const (
	bufLatentPCA  = "latent_pca"
	bufLatentMean = "latent_mean"
	bufFidelity   = "fidelity"
	bufSavedStep  = "saved_step"
	bufPQMFH      = "pqmf.h"
	bufPQMFHK     = "pqmf.hk"
	bufPQMFFwd    = "pqmf.forward_conv.weight"
	bufPQMFInv    = "pqmf.inverse_conv.weight"
	bufAWeight    = "loudness.a_weight"
	bufLoudWindow = "loudness.window"
	bufNoiseSize  = "decoder.synth.branches.2.target_size"
)

// loudnessNFFT is the FFT size of the v1 loudness module.
const loudnessNFFT = 2048

// New builds a model for cfg with parameters and buffers allocated and
// initialised: parameters as PyTorch's default initialisation (drawn from
// rng, see Init), BatchNorm statistics (0, 1), latent_pca the identity,
// the PQMF filters designed for the config and the loudness tables
// computed. The discriminator is not built; call AddDiscriminator.
func New(cfg Config, rng *rand.Rand) (*Model, error) {
	m, err := newEmpty(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.FillBuffers(nil); err != nil {
		return nil, err
	}
	m.Init(rng)
	return m, nil
}

// newEmpty declares and allocates everything, leaving parameters zero and
// buffers at their trivial defaults.
func newEmpty(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, gen: &cacheGen{}, byName: map[string]*core.Tensor{}, Stage: 1}
	m.Enc = core.NewParamSet()
	m.Encoder = newEncoder(m.Enc, m.gen, cfg)
	m.Enc.Alloc()
	for _, bn := range m.Encoder.bns {
		bn.attach()
	}
	m.Dec = core.NewParamSet()
	m.Decoder = newDecoder(m.Dec, m.gen, cfg)
	m.Dec.Alloc()
	m.declareBuffers()
	return m, nil
}

// Blank returns a model of cfg with every parameter zero and the buffers
// at their trivial values, with a discriminator if disc is set: a model
// whose tensors are then filled by name (core/interop's import, through
// Tensors and Buffers), and whose other buffers FillBuffers sets.
func Blank(cfg Config, disc bool) (*Model, error) {
	m, err := newEmpty(cfg)
	if err != nil {
		return nil, err
	}
	if disc {
		m.allocDiscriminator()
	}
	return m, nil
}

// AddDiscriminator builds the discriminator if the model has none,
// initialising it from rng (PyTorch default initialisation).
func (m *Model) AddDiscriminator(rng *rand.Rand) {
	if m.Disc != nil {
		return
	}
	m.allocDiscriminator()
	for _, layers := range m.Discriminator.scales {
		for _, c := range layers {
			c.init(rng)
		}
	}
	m.ParamsChanged()
}

func (m *Model) allocDiscriminator() {
	m.Disc = core.NewParamSet()
	m.Discriminator = newDiscriminator(m.Disc, m.gen, m.Config)
	m.Disc.Alloc()
}

// Replica returns a model that shares m's parameters (the same slabs: an
// update of m is seen by both) with gradients, buffers, caches and scratch
// of its own, so that each goroutine of a data-parallel training step can
// run forward and backward passes on part of a batch while the others do.
// Its buffers (BatchNorm statistics included) start as copies of m's; call
// SyncBuffers to copy them again.
func (m *Model) Replica() (*Model, error) {
	r, err := newEmpty(m.Config)
	if err != nil {
		return nil, err
	}
	if m.Disc != nil {
		r.allocDiscriminator()
	}
	for _, p := range []struct{ dst, src *core.ParamSet }{{r.Enc, m.Enc}, {r.Dec, m.Dec}, {r.Disc, m.Disc}} {
		if p.src == nil {
			continue
		}
		if err := p.dst.ShareData(p.src); err != nil {
			return nil, fmt.Errorf("model: replica: %w", err)
		}
	}
	r.Step, r.Stage, r.LatentAnalysis = m.Step, m.Stage, m.LatentAnalysis
	r.SyncBuffers(m)
	return r, nil
}

// SyncBuffers copies every buffer of src, a model of the same
// configuration (a Replica's source), into m and drops m's caches; this is
// what PyTorch's DistributedDataParallel does before each forward pass
// (broadcast_buffers), so every replica uses the same BatchNorm statistics.
func (m *Model) SyncBuffers(src *Model) {
	for i, b := range m.buffers {
		copy(b.Data(), src.buffers[i].Data())
	}
	m.pqmf = nil
	m.ParamsChanged()
}

// Init draws every encoder and decoder parameter as PyTorch's default
// initialisation does (and the discriminator's, if present).
func (m *Model) Init(rng *rand.Rand) {
	for _, c := range m.Encoder.convs {
		c.init(rng)
	}
	for _, bn := range m.Encoder.bns {
		bn.init()
	}
	for _, c := range m.Decoder.convs() {
		c.init(rng)
	}
	if m.Discriminator != nil {
		for _, layers := range m.Discriminator.scales {
			for _, c := range layers {
				c.init(rng)
			}
		}
	}
	m.ParamsChanged()
}

// ParamsChanged must be called after parameters were modified other than
// through a recorded (training) forward pass followed by an update: it drops
// the inference caches (effective weight-normed weights). Forward passes on
// a non-nil tape do it automatically.
func (m *Model) ParamsChanged() { m.gen.gen++ }

// convs lists the decoder's layers in state-dict order.
func (d *Decoder) convs() []*conv {
	out := []*conv{d.in}
	for i, up := range d.ups {
		out = append(out, up)
		for _, blk := range d.res[i] {
			out = append(out, blk[0], blk[1])
		}
	}
	out = append(out, d.wave, d.loud)
	return append(out, d.noise...)
}

func (m *Model) addBuffer(name string, shape ...int) *core.Tensor {
	t := core.Zeros(shape...)
	t.Name = name
	m.buffers = append(m.buffers, t)
	m.byName[name] = t
	return t
}

// declareBuffers creates every buffer of the reference state dict.
func (m *Model) declareBuffers() {
	c := m.Config
	L := c.LatentSize
	m.addBuffer(bufLatentPCA, L, L)
	m.addBuffer(bufLatentMean, L)
	m.addBuffer(bufFidelity, L)
	m.addBuffer(bufSavedStep)
	if c.DataSize > 1 {
		n, taps := PQMFSizes(c.DataSize, c.PQMFAttenuation())
		m.addBuffer(bufPQMFHK, c.DataSize, taps)
		m.addBuffer(bufPQMFH, n)
		m.addBuffer(bufPQMFFwd, c.DataSize, 1, taps+1)
		m.addBuffer(bufPQMFInv, c.DataSize, c.DataSize, taps/c.DataSize+1)
	}
	m.addBuffer(bufAWeight, loudnessNFFT/2+1, 1)
	m.addBuffer(bufLoudWindow, loudnessNFFT)
	for _, bn := range m.Encoder.bns {
		for _, t := range []*core.Tensor{bn.mean, bn.vari, bn.tracked} {
			m.buffers = append(m.buffers, t)
			m.byName[t.Name] = t
		}
	}
	if c.UseNoise {
		m.addBuffer(bufNoiseSize)
	}
}

// FillBuffers sets the buffers not listed in keep to their values for a
// fresh model: identity PCA, zero mean and fidelity, loudness tables,
// BatchNorm (0, 1) statistics, noise target size, and PQMF filters:
// designed, or derived from the kept kernels or prototype (pqmf.h).
func (m *Model) FillBuffers(keep map[string]bool) error {
	c := m.Config
	set := func(name string, f func(t *core.Tensor)) {
		if t := m.byName[name]; t != nil && !keep[name] {
			f(t)
		}
	}
	set(bufLatentPCA, func(t *core.Tensor) {
		clear(t.Data())
		for i := range c.LatentSize {
			t.Data()[i*c.LatentSize+i] = 1
		}
	})
	set(bufLatentMean, func(t *core.Tensor) { clear(t.Data()) })
	set(bufFidelity, func(t *core.Tensor) { clear(t.Data()) })
	set(bufSavedStep, func(t *core.Tensor) { t.Data()[0] = float32(m.Step) })
	set(bufAWeight, func(t *core.Tensor) { copy(t.Data(), aWeighting(loudnessNFFT, float64(c.SR))) })
	set(bufLoudWindow, func(t *core.Tensor) { copy(t.Data(), hannWindow32(loudnessNFFT)) })
	set(bufNoiseSize, func(t *core.Tensor) { t.Data()[0] = float32(c.NoiseRatio()) })
	for _, bn := range m.Encoder.bns {
		set(bn.mean.Name, func(t *core.Tensor) { clear(t.Data()) })
		set(bn.vari.Name, func(t *core.Tensor) {
			for i := range t.Data() {
				t.Data()[i] = 1
			}
		})
		set(bn.tracked.Name, func(t *core.Tensor) { t.Data()[0] = 0 })
	}
	if c.DataSize > 1 {
		switch {
		case keep[bufPQMFFwd] && keep[bufPQMFInv]:
			// The convolution kernels are what the model runs; h and hk
			// are informative: hk is the analysis kernel without its
			// last tap, h is designed afresh.
			if !keep[bufPQMFHK] {
				hk, fw := m.byName[bufPQMFHK], m.byName[bufPQMFFwd]
				L := hk.Dim(1)
				for k := range c.DataSize {
					copy(hk.Data()[k*L:(k+1)*L], fw.Data()[k*(L+1):])
				}
			}
			if !keep[bufPQMFH] {
				h, err := designPQMF(c.DataSize, c.PQMFAttenuation())
				if err != nil {
					return err
				}
				if t := m.byName[bufPQMFH]; t.Len() == len(h) {
					put(t.Data(), h)
				}
			}
		case keep[bufPQMFH]:
			deriveFromPrototype(m, toF64(m.byName[bufPQMFH].Data()), keep)
		default:
			h, hk, fwd, inv, err := designedPQMFBuffers(c.DataSize, c.PQMFAttenuation())
			if err != nil {
				return err
			}
			for name, v := range map[string][]float32{bufPQMFH: h, bufPQMFHK: hk, bufPQMFFwd: fwd, bufPQMFInv: inv} {
				if t := m.byName[name]; !keep[name] {
					if t.Len() != len(v) {
						return fmt.Errorf("model: designed PQMF buffer %s has %d values, want %d", name, len(v), t.Len())
					}
					copy(t.Data(), v)
				}
			}
		}
	}
	m.pqmf = nil
	return nil
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// Buffer returns the named buffer, or nil.
func (m *Model) Buffer(name string) *core.Tensor { return m.byName[name] }

// Buffers returns every buffer in state-dict order.
func (m *Model) Buffers() []*core.Tensor { return m.buffers }

// Tensors returns every parameter and buffer in state-dict order, as
// Save writes them: buffers of the RAVE module, pqmf, loudness, encoder,
// decoder, discriminator.
func (m *Model) Tensors() []*core.Tensor {
	var out []*core.Tensor
	head := []string{bufLatentPCA, bufLatentMean, bufFidelity, bufSavedStep, bufPQMFHK, bufPQMFH, bufPQMFFwd, bufPQMFInv, bufAWeight, bufLoudWindow}
	for _, n := range head {
		if t := m.byName[n]; t != nil {
			out = append(out, t)
		}
	}
	for i, c := range m.Encoder.convs {
		out = append(out, c.params()...)
		if i < len(m.Encoder.bns) {
			bn := m.Encoder.bns[i]
			out = append(out, bn.gamma, bn.beta, bn.mean, bn.vari, bn.tracked)
		}
	}
	for _, c := range m.Decoder.convs() {
		if c == m.Decoder.noise0() {
			if t := m.byName[bufNoiseSize]; t != nil {
				out = append(out, t)
			}
		}
		out = append(out, c.params()...)
	}
	if m.Discriminator != nil {
		for _, layers := range m.Discriminator.scales {
			for _, c := range layers {
				out = append(out, c.params()...)
			}
		}
	}
	return out
}

func (d *Decoder) noise0() *conv {
	if len(d.noise) == 0 {
		return nil
	}
	return d.noise[0]
}

// ParamCounts returns the number of scalar parameters of the encoder,
// decoder and discriminator (0 if absent), weight-norm gains included.
func (m *Model) ParamCounts() (enc, dec, disc int) {
	enc, dec = m.Enc.Count(), m.Dec.Count()
	if m.Disc != nil {
		disc = m.Disc.Count()
	}
	return
}

// syncCounters writes Step into the saved_step buffer.
func (m *Model) syncCounters() {
	if t := m.byName[bufSavedStep]; t != nil {
		t.Data()[0] = float32(m.Step)
	}
}

// checkInput panics unless x is (B, channels, T).
func checkInput(what string, x *core.Tensor, channels int) {
	if len(x.Shape()) != 3 || x.Dim(1) != channels {
		panic(fmt.Sprintf("model: %s: input %v, want (B, %d, T)", what, x.Shape(), channels))
	}
}

// SmoothUpsamplers re-initialises the decoder's transposed-convolution
// up-samplers so that each starts as a 1×1 convolution followed by linear
// interpolation: weight[i][o][k] = a[i][o]·h[k], with h the triangle of
// length 2r whose taps for every output phase sum to one (h[k] + h[k+r] =
// 1) and a[i][o] = weight[i][o][0] + weight[i][o][r] of the drawn weights,
// which keeps the variance of each output. A freshly drawn transposed
// convolution gives each of the r output phases its own sum of taps, which
// the decoder turns into a buzz at the latent frame rate and its
// harmonics (checkerboard artifacts, Odena et al. 2016); starting without
// it is the idea of ICNR (Aitken et al. 2017, "Checkerboard artifact free
// sub-pixel convolution"). Only the starting point changes: the layers,
// and so inference, streaming and export, are those of any v1 model.
// Weight-normed layers get weight_g = ‖weight_v‖ per slice again.
func (m *Model) SmoothUpsamplers() {
	for _, c := range m.Decoder.ups {
		if !c.transposed {
			continue
		}
		w := c.w
		if w == nil {
			w = c.v
		}
		in, out, k := w.Dim(0), w.Dim(1), w.Dim(2)
		r := k / 2
		h := make([]float32, k)
		for j := range h {
			h[j] = float32(1 - math.Abs(float64(j)-(float64(r)-0.5))/float64(r))
		}
		d := w.Data()
		for i := range in {
			for o := range out {
				row := d[(i*out+o)*k : (i*out+o+1)*k]
				a := row[0] + row[r]
				for j := range row {
					row[j] = a * h[j]
				}
			}
		}
		if c.g != nil {
			nn.SetNormGain(c.g, w)
		}
	}
	m.ParamsChanged()
}
