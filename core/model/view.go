package model

import (
	"slices"

	"github.com/ravestation/rave/core"
)

// A read-only view of a model's layers, for code that runs them with
// kernels of its own (core/stream): names, geometry, input activations
// and copies of the effective weights, nothing that could change the
// model.

// LeakySlope is the negative slope of every LeakyReLU in RAVE.
const LeakySlope = leakySlope

// Activation is the element-wise map a layer applies to its input before
// convolving it: an optional per-channel affine map (eval-mode BatchNorm:
// x·Scale[c] + Shift[c]), then an optional LeakyReLU of slope LeakySlope.
type Activation struct {
	Leaky        bool
	Scale, Shift []float32
}

// Apply writes the activation of channel c's samples src into dst, as the
// model's own inference computes it.
func (a Activation) Apply(dst, src []float32, c int) {
	act{leaky: a.Leaky, scale: a.Scale, shift: a.Shift}.apply(dst, src, c)
}

// ConvGeometry is the shape of a convolution: channels, kernel, stride,
// dilation, groups and, for a Conv1d, its (left, right) padding; for a
// ConvTranspose1d (groups 1) both paddings are its padding argument.
type ConvGeometry struct {
	Cin, Cout, K, Stride, Dilation, Groups int
	PadLeft, PadRight                      int
}

// Conv is a read-only view of one convolution layer of a model.
type Conv struct {
	c     *conv
	bn    *bnLayer // eval-mode BatchNorm before the activation, or nil
	leaky bool
	live  bool // the model's tensors exist (not a LayersOf view)
}

// Name returns the layer's state-dict prefix, e.g. "decoder.net.0".
func (v Conv) Name() string { return v.c.name }

// Transposed reports whether the layer is a ConvTranspose1d.
func (v Conv) Transposed() bool { return v.c.transposed }

// Geometry returns the layer's shape.
func (v Conv) Geometry() ConvGeometry {
	if v.c.transposed {
		s, p := v.c.weightShape(), v.c.tpar
		return ConvGeometry{Cin: s[0], Cout: s[1], K: s[2], Stride: p.Stride, Dilation: max(p.Dilation, 1), Groups: 1, PadLeft: p.Padding, PadRight: p.Padding}
	}
	g := v.c.geom()
	return ConvGeometry{Cin: g.cin, Cout: g.cout, K: g.k, Stride: g.stride, Dilation: g.dil, Groups: g.groups, PadLeft: g.padL, PadRight: g.padR}
}

// Weights returns private copies of the layer's effective weight (the
// weight-normed g·v/‖v‖ where it has one; (Cout, Cin/groups, K), or
// (Cin, Cout, K) transposed) and bias (nil without one). A LayersOf view
// has none: both are nil.
func (v Conv) Weights() (w, bias []float32) {
	if !v.live {
		return nil, nil
	}
	v.c.refresh()
	w = slices.Clone(v.c.cache.Data())
	if v.c.b != nil {
		bias = slices.Clone(v.c.b.Data())
	}
	return w, bias
}

// Activation returns the map applied to the layer's input (with the
// BatchNorm's running statistics as they are now).
func (v Conv) Activation() Activation {
	if v.bn != nil && v.live {
		a := v.bn.bnAct()
		return Activation{Leaky: a.leaky, Scale: a.scale, Shift: a.shift}
	}
	return Activation{Leaky: v.leaky}
}

// Layers is a read-only view of a model's layers in processing order, as
// the model runs them in eval mode: the encoder, the decoder's trunk
// stage by stage, its heads, and the sizes of the PQMF kernels.
type Layers struct {
	Config Config
	// Encoder is encoder.net.0, the strided convolutions (each after an
	// eval BatchNorm and a LeakyReLU) and the output convolution (after a
	// LeakyReLU).
	Encoder []Conv
	// DecoderIn is decoder.net.0, on the latents.
	DecoderIn Conv
	// Stages are the decoder's up-sampling stages.
	Stages []Stage
	// Wave and Loud are the waveform and loudness heads; Noise is the
	// noise synthesiser's amplitude network (empty without noise head).
	Wave, Loud Conv
	Noise      []Conv
	// AnalysisTaps and SynthesisTaps are the lengths of the PQMF's
	// analysis (M, 1, K) and synthesis (M, M, K) kernels (0 without a
	// PQMF).
	AnalysisTaps, SynthesisTaps int

	m *Model // nil for LayersOf
}

// Stage is one up-sampling stage of the decoder: the up-sampler (a
// ConvTranspose1d, or a k3 Conv1d for a ratio of 1) and the residual
// stack, three blocks of two convolutions whose sum is added to the
// trunk. Every one of them runs after a LeakyReLU.
type Stage struct {
	Up       Conv
	Residual [3][2]Conv
}

// Layers returns the view of m's layers. The view reads m when its
// methods are called: weights changed in between are seen.
func (m *Model) Layers() *Layers {
	l := layersOf(m.Config, m.Encoder, m.Decoder, true)
	l.m = m
	if m.Config.DataSize > 1 {
		l.AnalysisTaps = m.byName[bufPQMFFwd].Dim(2)
		l.SynthesisTaps = m.byName[bufPQMFInv].Dim(2)
	}
	return l
}

// LayersOf returns the layers a model of cfg would have, without
// allocating its weights: names and geometry only (Conv.Weights returns
// nil, Layers.PQMF and Layers.Latent nothing).
func LayersOf(cfg Config) (*Layers, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	gen := &cacheGen{}
	l := layersOf(cfg, newEncoder(core.NewParamSet(), gen, cfg), newDecoder(core.NewParamSet(), gen, cfg), false)
	if cfg.DataSize > 1 {
		_, L := PQMFSizes(cfg.DataSize, cfg.PQMFAttenuation())
		l.AnalysisTaps, l.SynthesisTaps = L+1, L/cfg.DataSize+1
	}
	return l, nil
}

func layersOf(cfg Config, e *Encoder, d *Decoder, live bool) *Layers {
	view := func(c *conv, leaky bool) Conv { return Conv{c: c, leaky: leaky, live: live} }
	l := &Layers{Config: cfg}
	for i, c := range e.convs {
		v := view(c, i > 0)
		if i > 0 && i < len(e.convs)-1 {
			v.bn = e.bns[i-1]
		}
		l.Encoder = append(l.Encoder, v)
	}
	l.DecoderIn = view(d.in, false)
	for i, up := range d.ups {
		st := Stage{Up: view(up, true)}
		for j, blk := range d.res[i] {
			st.Residual[j] = [2]Conv{view(blk[0], true), view(blk[1], true)}
		}
		l.Stages = append(l.Stages, st)
	}
	l.Wave, l.Loud = view(d.wave, false), view(d.loud, false)
	for i, c := range d.noise {
		l.Noise = append(l.Noise, view(c, i > 0))
	}
	return l
}

// PQMF returns copies of the PQMF's analysis kernel
// (pqmf.forward_conv.weight, M × 1 × AnalysisTaps) and synthesis kernel
// (pqmf.inverse_conv.weight, M × M × SynthesisTaps); nil for a LayersOf
// view or a model without a PQMF.
func (l *Layers) PQMF() (analysis, synthesis []float32) {
	if l.m == nil || l.Config.DataSize < 2 {
		return nil, nil
	}
	return slices.Clone(l.m.byName[bufPQMFFwd].Data()), slices.Clone(l.m.byName[bufPQMFInv].Data())
}

// Latent returns copies of the latent_pca (D × D, row-major) and
// latent_mean (D) buffers as they are (identity and zero until a latent
// analysis or an import fills them); nil for a LayersOf view.
func (l *Layers) Latent() (pca, mean []float32) {
	if l.m == nil {
		return nil, nil
	}
	return slices.Clone(l.m.byName[bufLatentPCA].Data()), slices.Clone(l.m.byName[bufLatentMean].Data())
}
