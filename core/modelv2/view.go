package modelv2

import (
	"slices"
	"strings"

	"github.com/ravestation/rave/core"
)

// A read-only view of a model's encoder and generator, for code that runs
// them with kernels of its own (core/stream): names, geometry, input
// activations and copies of the effective weights, nothing that could
// change the model.

// LeakySlope is the negative slope of every LeakyReLU of RAVE v2.
const LeakySlope = slope

// Conv is a read-only view of one convolution of the encoder or the
// generator.
type Conv struct {
	l     *layer
	leaky bool
}

// Name returns the layer's state-dict prefix, e.g. "decoder.net.2".
func (c Conv) Name() string {
	if c.l.w != nil {
		return strings.TrimSuffix(c.l.w.Name, ".weight")
	}
	return strings.TrimSuffix(c.l.v.Name, ".weight_v")
}

// Transposed reports whether the layer is a ConvTranspose1d (weight
// (Cin, Cout, K)); otherwise it is a Conv1d (weight (Cout, Cin, K)).
func (c Conv) Transposed() bool { return c.l.kind == transposedConv }

// Geometry returns the layer's kernel, stride, dilation and padding.
func (c Conv) Geometry() ConvGeometry {
	g := ConvGeometry{Transposed: c.Transposed(), K: c.l.shape[2]}
	if g.Transposed {
		p := c.l.tconv
		g.Stride, g.Dilation, g.PadLeft, g.PadRight = max(p.Stride, 1), max(p.Dilation, 1), p.Padding, p.Padding
		return g
	}
	p := c.l.conv
	g.Stride, g.Dilation, g.PadLeft, g.PadRight = max(p.Stride, 1), max(p.Dilation, 1), p.PadLeft, p.PadRight
	return g
}

// Channels returns the layer's input and output channels.
func (c Conv) Channels() (in, out int) {
	if c.Transposed() {
		return c.l.shape[0], c.l.shape[1]
	}
	return c.l.shape[1], c.l.shape[0]
}

// Leaky reports whether the layer runs on LeakyReLU(x, LeakySlope) of its
// input rather than on the input itself.
func (c Conv) Leaky() bool { return c.leaky }

// Weights returns private copies of the layer's effective weight (the
// weight-normed g·v/‖v‖ where it has one) and bias (nil without one).
func (c Conv) Weights() (w, bias []float32) {
	w = slices.Clone(c.l.effective().Data())
	if c.l.bias != nil {
		bias = slices.Clone(c.l.bias.Data())
	}
	return w, bias
}

// Unit is a residual dilated unit, x + Pointwise(Dilated(x)), both
// convolutions on LeakyReLU of their input.
type Unit struct {
	Dilated, Pointwise Conv
}

// Stage is one stage of the encoder (its units, then the strided
// convolution Resample) or of the generator (the transposed convolution
// Resample, then the units).
type Stage struct {
	Units    []Unit
	Resample Conv
}

// Layers is a read-only view of a model's encoder and generator in
// processing order. The view reads the model when its methods are called:
// weights changed in between are seen.
type Layers struct {
	Config Config
	// EncoderIn is encoder.encoder.net.0, on the PQMF bands; EncoderOut is
	// the last convolution (mean and scale).
	EncoderIn, EncoderOut Conv
	// EncoderStages and GeneratorStages are the stages in processing order.
	EncoderStages, GeneratorStages []Stage
	// GeneratorIn is decoder.net.0, on the latents; Wave is the waveform
	// convolution (2·Bands channels with amplitude modulation).
	GeneratorIn, Wave Conv
	// Noise are the noise generator's convolutions (the first on the
	// trunk, as the waveform convolution), nil without one.
	Noise []Conv

	m *Model
}

// Layers returns the view of m's encoder and generator.
func (m *Model) Layers() *Layers {
	view := func(l *layer, leaky bool) Conv { return Conv{l: l, leaky: leaky} }
	units := func(us []unit) []Unit {
		var out []Unit
		for _, u := range us {
			out = append(out, Unit{Dilated: view(u.dilated, true), Pointwise: view(u.pointwise, true)})
		}
		return out
	}
	e, g := m.Encoder, m.Generator
	l := &Layers{Config: m.Config, m: m}
	l.EncoderIn, l.EncoderOut = view(e.input, false), view(e.output, true)
	for i, us := range e.stages {
		l.EncoderStages = append(l.EncoderStages, Stage{Units: units(us), Resample: view(e.downs[i], true)})
	}
	l.GeneratorIn, l.Wave = view(g.input, false), view(g.wave, true)
	for i, up := range g.ups {
		l.GeneratorStages = append(l.GeneratorStages, Stage{Units: units(g.stages[i]), Resample: view(up, true)})
	}
	if g.noise != nil {
		for _, c := range g.noise.convs {
			l.Noise = append(l.Noise, view(c, true))
		}
	}
	return l
}

// PQMF returns copies of the PQMF's analysis kernel (M × 1 × (L+1)) and
// synthesis kernel (M × M × (L/M+1)), the reference's
// pqmf.forward_conv.weight and pqmf.inverse_conv.weight.
func (l *Layers) PQMF() (analysis, synthesis []float32) {
	p := l.m.PQMF
	return slices.Clone(p.AnalysisWeight().Data()), slices.Clone(p.SynthesisWeight().Data())
}

// Latent returns copies of the latent_pca (L × L, row-major) and
// latent_mean (L) buffers as they are (identity and zeros until a latent
// analysis or a state dict fills them), and of the fidelity curve (L
// cumulative explained-variance shares, all zero without an analysis).
func (l *Layers) Latent() (pca, mean, fidelity []float32) {
	m := l.m
	return slices.Clone(m.LatentPCA.Data()), slices.Clone(m.LatentMean.Data()), slices.Clone(m.Fidelity.Data())
}

// DiscriminatorParamCount returns the number of trainable parameters of
// cfg's discriminator (weight-norm gains included) without allocating it.
func DiscriminatorParamCount(cfg Config) int {
	ps := core.NewParamSet()
	newDiscriminator(ps, cfg.Discriminator)
	n := 0
	for _, p := range ps.Params() {
		k := 1
		for _, d := range p.Shape() {
			k *= d
		}
		n += k
	}
	return n
}
