package modelv2

import (
	"fmt"
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
)

// Generator is v2.3.1's GeneratorV2 (rave-spec.md §4.3; layers
// decoder.net.{i}): a weight-normed conv (latent → 2^n·C, kernel k), then
// per ratio, in reverse order, LeakyReLU → weight-normed ConvTranspose1d
// (kernel 2r, stride r, padding r/2) halving the width and the residual
// dilated units of that stage (dilation lists reversed), then LeakyReLU →
// the weight-normed waveform conv (kernel 2k+1) to 2·Bands channels x, a.
// The output is tanh(x·σ(a) + noise) (B, Bands, T): amplitude modulation,
// plus the noise generator's output when configured (configs/noise.gin,
// added in both stages). No biases.
//
// Without a noise generator the waveform conv is decoder.net.{last}; with
// one it is decoder.waveform_module and the noise generator is
// decoder.noise_module, both fed the activated trunk, as in the reference.
type Generator struct {
	input  *layer
	ups    []*layer
	stages [][]unit
	wave   *layer
	noise  *NoiseGenerator
	bands  int
	amMod  bool
}

func newGenerator(ps *core.ParamSet, c Config) *Generator {
	g := &Generator{bands: c.Bands, amMod: c.AmplitudeModulation}
	n := len(c.Ratios)
	width := c.Capacity << n
	l, r := c.Padding(c.KernelSize, 1)
	g.input = newLayer(ps, layerSpec{prefix: "decoder.net.0", cin: c.LatentSize, cout: width, k: c.KernelSize, left: l, right: r, weightNorm: true})
	idx := 1
	for s := n - 1; s >= 0; s-- {
		ratio := c.Ratios[s]
		g.ups = append(g.ups, newLayer(ps, layerSpec{
			prefix: fmt.Sprintf("decoder.net.%d", idx+1), kind: transposedConv, cin: width, cout: width / 2,
			k: 2 * ratio, stride: ratio, crop: ratio / 2, weightNorm: true,
		}))
		idx += 2
		width /= 2
		var units []unit
		for _, d := range c.Dilations[s] {
			units = append(units, newUnit(ps, fmt.Sprintf("decoder.net.%d", idx), width, c.KernelSize, d, c))
			idx++
		}
		g.stages = append(g.stages, units)
	}
	out := c.Bands
	if c.AmplitudeModulation {
		out *= 2
	}
	kw := 2*c.KernelSize + 1
	l, r = c.Padding(kw, 1)
	name := fmt.Sprintf("decoder.net.%d", idx+1)
	if c.Noise != nil {
		name = "decoder.waveform_module"
		g.noise = newNoiseGenerator(ps, "decoder.noise_module", width, c.Bands, *c.Noise)
	}
	g.wave = newLayer(ps, layerSpec{prefix: name, cin: width, cout: out, k: kw, left: l, right: r, weightNorm: true})
	return g
}

// GeneratorStages are the intermediate tensors of one generator pass,
// named after the parity fixture's keys.
type GeneratorStages struct {
	// In is the input conv's output (dec_in).
	In *core.Tensor
	// Blocks are the trunk after each stage's residual units
	// (dec_block1…), before the final LeakyReLU.
	Blocks []*core.Tensor
	// Wave is the waveform conv's output (dec_wave_conv).
	Wave *core.Tensor
	// Noise is the noise generator's output, nil without one.
	Noise *core.Tensor
	// PreTanh is x·σ(a) (+ noise) (dec_pre_tanh).
	PreTanh *core.Tensor
	// Out is the multiband output tanh(PreTanh) (dec_out_mb).
	Out *core.Tensor
}

// Stages runs the generator on a latent z (B, latent, F) and returns every
// intermediate tensor. rng draws the noise generator's excitation and may
// be nil without one.
func (g *Generator) Stages(tp *core.Tape, z *core.Tensor, rng *rand.Rand) GeneratorStages {
	var st GeneratorStages
	h := g.input.apply(tp, z)
	st.In = h
	for s, up := range g.ups {
		h = up.applyLeaky(tp, h)
		for _, u := range g.stages[s] {
			h = u.forward(tp, h)
		}
		st.Blocks = append(st.Blocks, h)
	}
	if g.noise == nil {
		st.Wave = g.wave.applyLeaky(tp, h)
	} else {
		if rng == nil {
			panic("modelv2: Generator: the noise generator needs a random source")
		}
		a := tp.LeakyReLU(h, slope)
		st.Wave = g.wave.apply(tp, a)
		st.Noise = g.noise.Forward(tp, a, rng)
	}
	st.PreTanh = st.Wave
	if g.amMod {
		st.PreTanh = AmplitudeModulation(tp, st.Wave)
	}
	if st.Noise != nil {
		st.PreTanh = tp.Add(st.PreTanh, st.Noise)
	}
	st.Out = tp.Tanh(st.PreTanh)
	return st
}

// Forward returns the multiband output (B, Bands, F·Π ratios) for latent z.
// Without a tape it runs the inference kernels of fast.go.
func (g *Generator) Forward(tp *core.Tape, z *core.Tensor, rng *rand.Rand) *core.Tensor {
	if tp == nil && fastInference {
		return g.infer(z, rng)
	}
	return g.Stages(tp, z, rng).Out
}

// AmplitudeModulation splits w (B, 2·M, T) into its channel halves x and a
// and returns x·σ(a) (B, M, T), GeneratorV2's amplitude modulation before
// the tanh.
func AmplitudeModulation(tp *core.Tape, w *core.Tensor) *core.Tensor {
	c := w.Dim(1)
	if c%2 != 0 {
		panic(fmt.Sprintf("modelv2: AmplitudeModulation: %d channels, want an even number", c))
	}
	x, a := tp.Slice(w, 1, 0, c/2), tp.Slice(w, 1, c/2, c)
	return tp.Mul(x, tp.Sigmoid(a))
}

func (g *Generator) layers() []*layer {
	ls := []*layer{g.input}
	for s, up := range g.ups {
		ls = append(ls, up)
		for _, u := range g.stages[s] {
			ls = append(ls, u.layers()...)
		}
	}
	ls = append(ls, g.wave)
	if g.noise != nil {
		ls = append(ls, g.noise.convs...)
	}
	return ls
}

// NoiseGenerator is v2.3.1's NoiseGeneratorV2 (rave-spec.md §4.2): plain
// (not weight-normed, bias-free under v2.gin) convs of kernel 2r, stride r
// and padding (r, 0) with LeakyReLU(0.2) between them, ending with
// Bands·NoiseBands channels; their output a gives band amplitudes
// 2·σ(a − 5)^2.3 + 1e-7 that shape uniform noise, block by block
// (core/dsp.NoiseFilter, the reference's amp_to_impulse_response and
// fft_convolve). Its layers are decoder.noise_module.net.{0,2,…}; the
// reference also stores the block length as the buffer
// decoder.noise_module.target_size.
type NoiseGenerator struct {
	convs  []*layer
	filter *dsp.NoiseFilter
}

func newNoiseGenerator(ps *core.ParamSet, prefix string, in, bands int, nc NoiseConfig) *NoiseGenerator {
	n := &NoiseGenerator{filter: dsp.NewNoiseFilter(bands, nc.NoiseBands, product(nc.Ratios))}
	width := in
	for i, r := range nc.Ratios {
		out := nc.HiddenSize
		if i == len(nc.Ratios)-1 {
			out = bands * nc.NoiseBands
		}
		n.convs = append(n.convs, newLayer(ps, layerSpec{
			prefix: fmt.Sprintf("%s.net.%d", prefix, 2*i), cin: width, cout: out, k: 2 * r, stride: r, left: r,
		}))
		width = out
	}
	return n
}

// Amplitudes returns the band amplitudes mod_sigmoid(net(h) − 5),
// (B, Bands·NoiseBands, T/Π ratios), channel = band·NoiseBands + bin.
func (n *NoiseGenerator) Amplitudes(tp *core.Tape, h *core.Tensor) *core.Tensor {
	a := n.convs[0].apply(tp, h)
	for _, c := range n.convs[1:] {
		a = c.applyLeaky(tp, a)
	}
	sig := tp.Sigmoid(tp.AddScalar(a, -5))
	return tp.AddScalar(tp.Scale(tp.Pow(sig, 2.3), 2), 1e-7)
}

// Forward returns filtered noise (B, Bands, T) for the activated trunk h
// (B, C, T), its excitation drawn from rng.
func (n *NoiseGenerator) Forward(tp *core.Tape, h *core.Tensor, rng *rand.Rand) *core.Tensor {
	return n.filter.Synthesize(tp, n.Amplitudes(tp, h), rng)
}

// BlockSize returns the noise block length in sub-band samples (the
// reference's target_size buffer).
func (n *NoiseGenerator) BlockSize() int { return n.filter.TargetSize }
