package tsexport

import (
	"errors"
	"fmt"
	"io"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/modelv2"
)

// WriteV2 writes the RAVE v2 model m as a TorchScript archive to w (see
// the package documentation, "RAVE v2").
func WriteV2(w io.Writer, m *modelv2.Model, o Options) error {
	return writeArchive(w, m, o, buildV2)
}

// WriteFileV2 writes the RAVE v2 model m as a TorchScript archive at path
// (a temporary file renamed into place, so a failure leaves any old
// file).
func WriteFileV2(path string, m *modelv2.Model, o Options) error {
	return writeArchiveFile(path, m, o, buildV2)
}

// LatencyV2 returns the latency in samples of forward in the streaming
// export of the v2 model m (its forward_latency attribute), or 0 for a
// model that cannot stream.
func LatencyV2(m *modelv2.Model) int {
	tree, err := buildV2(m, Options{Streaming: true})
	if err != nil {
		return 0
	}
	return latencyOf(tree)
}

// latencyOf returns the forward_latency attribute of an export's top
// module.
func latencyOf(tree *module) int {
	for _, f := range tree.fields {
		if f.name == "forward_latency" {
			return f.value.(int)
		}
	}
	return 0
}

// v2exporter builds the module tree of one v2 model; x holds the layer
// builders it shares with the v1 export (and whether it streams).
type v2exporter struct {
	x    *exporter
	m    *modelv2.Model
	l    *modelv2.Layers
	cfg  modelv2.Config
	kept int
}

// buildV2 returns the module tree of m's export.
func buildV2(m *modelv2.Model, o Options) (*module, error) {
	c := m.Config
	switch {
	case c.Bands < 2:
		return nil, errors.New("a v2 model without a PQMF (n_band 1) cannot be exported")
	case c.Causal:
		return nil, errors.New("a causal v2 model cannot be exported: its PQMF and convolutions are padded on the left only, which this exporter does not write")
	case o.Kept < 0 || o.Kept > c.LatentSize:
		return nil, fmt.Errorf("%d latent dimensions asked of a model of %d", o.Kept, c.LatentSize)
	}
	v := &v2exporter{x: &exporter{stream: o.Streaming}, m: m, l: m.Layers(), cfg: c, kept: o.Kept}
	if v.kept == 0 {
		v.kept = c.LatentSize
	}
	if o.Streaming {
		if err := v.checkStreaming(); err != nil {
			return nil, err
		}
	}
	return v.top(), nil
}

// checkStreaming refuses a model the streaming export cannot run (see
// checkStreaming of v1).
func (v *v2exporter) checkStreaming() error {
	l := v.l
	convs := []modelv2.Conv{l.EncoderIn, l.EncoderOut, l.GeneratorIn, l.Wave}
	for _, st := range append(append([]modelv2.Stage{}, l.EncoderStages...), l.GeneratorStages...) {
		convs = append(convs, st.Resample)
		for _, u := range st.Units {
			convs = append(convs, u.Dilated, u.Pointwise)
		}
	}
	for _, cv := range append(convs, l.Noise...) {
		if g := cv.Geometry(); g.Stride > 1 && g.Dilation > 1 {
			return fmt.Errorf("streaming: %s is strided and dilated", cv.Name())
		}
	}
	if r := v.cfg.SubbandRatio(); r%2 != 0 {
		return fmt.Errorf("streaming: %d band samples per latent frame; the streaming export needs an even number", r)
	}
	return nil
}

// geometry returns the shape of a v2 convolution as the layer builders
// take it.
func geometry(c modelv2.Conv) model.ConvGeometry {
	g := c.Geometry()
	in, out := c.Channels()
	return model.ConvGeometry{Cin: in, Cout: out, K: g.K, Stride: g.Stride, Dilation: g.Dilation, Groups: 1, PadLeft: g.PadLeft, PadRight: g.PadRight}
}

// conv returns a layer of the model as a (cached) convolution module with
// its effective weight, for an input delayed by d, and its output's
// delay.
func (v *v2exporter) conv(c modelv2.Conv, d int) (*module, int) {
	w, b := c.Weights()
	if c.Transposed() {
		return v.x.convTranspose1d(w, b, geometry(c), d)
	}
	return v.x.conv1d(w, b, geometry(c), d)
}

// unit returns a residual dilated unit (rave.blocks.Residual around a
// DilatedUnit: LeakyReLU, dilated conv, LeakyReLU, 1×1 conv) and its
// output's delay.
func (v *v2exporter) unit(u modelv2.Unit, d int) (*module, int) {
	c1, d1 := v.conv(u.Dilated, d)
	c2, d2 := v.conv(u.Pointwise, d1)
	branch := newModule("rave.blocks", "DilatedUnit").sub("net", seq(leaky(), c1, leaky(), c2)).method(forwardMethod)
	in, _ := u.Dilated.Channels()
	return v.x.residualIn("rave.blocks", branch, in, d2-d), d2
}

// encoder returns encoder (rave.blocks.VariationalEncoder around
// EncoderV2, whose net is encoder.encoder.net.<i>; forward returns the raw
// output, mean and scale) for bands delayed by d, and the delay of its
// output in latent frames.
func (v *v2exporter) encoder(d int) (*module, int) {
	var net []*module
	add := func(m *module, dm int) {
		net, d = append(net, m), dm
	}
	add(v.conv(v.l.EncoderIn, d))
	for _, st := range v.l.EncoderStages {
		for _, u := range st.Units {
			add(v.unit(u, d))
		}
		net = append(net, leaky())
		add(v.conv(st.Resample, d))
	}
	net = append(net, leaky())
	add(v.conv(v.l.EncoderOut, d))
	warm := float32(0)
	if v.m.WarmedUp {
		warm = 1
	}
	enc := newModule("rave.blocks", "EncoderV2").sub("net", seq(net...)).method(forwardMethod)
	return newModule("rave.blocks", "VariationalEncoder").
		buffer("warmed_up", f32([]float32{warm})).
		sub("encoder", enc).
		method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
			"    encoder = self.encoder\n    return (encoder).forward(x, )\n"), d
}

// decoder returns decoder (rave.blocks.GeneratorV2: the trunk net, the
// waveform convolution, amplitude modulation, the noise generator when
// the model has one, tanh) and the delay of its output in bands'
// samples.
func (v *v2exporter) decoder() (*module, int) {
	l := v.l
	in, d := v.conv(l.GeneratorIn, 0)
	net := []*module{in}
	for _, st := range l.GeneratorStages {
		var up *module
		up, d = v.conv(st.Resample, d)
		net = append(net, leaky(), up)
		for _, u := range st.Units {
			var m *module
			m, d = v.unit(u, d)
			net = append(net, m)
		}
	}
	net = append(net, leaky())
	wave, dw := v.conv(l.Wave, d)
	M := v.cfg.Bands
	g := newModule("rave.blocks", "GeneratorV2").attr("amplitude_modulation", "bool", v.cfg.AmplitudeModulation)
	var src string
	var noise *module
	dn := 0
	if len(l.Noise) == 0 {
		g.sub("net", seq(append(net, wave)...))
		src = "    net = self.net\n    w = (net).forward(x, )\n"
	} else {
		noise, dn = v.noise(d)
		g.sub("net", seq(net...)).sub("waveform_module", wave).sub("noise_module", noise)
		src = "    net = self.net\n    h = (net).forward(x, )\n" +
			"    waveform_module = self.waveform_module\n    w = (waveform_module).forward(h, )\n"
	}
	dy := max(dw, dn)
	if v.cfg.AmplitudeModulation {
		src += fmt.Sprintf("    y = torch.mul(torch.slice(w, 1, 0, %d, 1), torch.sigmoid(torch.slice(w, 1, %d, %d, 1)))\n", M, M, 2*M)
	} else {
		src += "    y = w\n"
	}
	if v.x.stream && noise != nil {
		g.sub("delays", list(cache(M, dy-dw, 0), cache(M, dy-dn, 0)))
		src += "    delays = self.delays\n    _d0 = getattr(delays, \"0\")\n    y = " + delayed("_d0", "y") + "\n"
	}
	if noise != nil {
		src += "    if add_noise:\n      noise_module = self.noise_module\n      n = (noise_module).forward(h, )\n"
		if v.x.stream {
			src += "      _d1 = getattr(delays, \"1\")\n      n = " + delayed("_d1", "n") + "\n"
		}
		src += "      t = torch.size(y, 2)\n" +
			"      tn = torch.size(n, 2)\n" +
			"      if tn > t:\n" +
			"        n0 = torch.slice(n, 2, 0, t, 1)\n" +
			"      else:\n" +
			"        n0 = torch.constant_pad_nd(n, [0, t - tn], 0.)\n" +
			"      y = torch.add(y, n0)\n"
	}
	if !v.x.stream {
		dy = 0
	}
	return g.method("  def forward(self: " + selfType + ",\n    x: Tensor,\n    add_noise: bool) -> Tensor:\n" +
		src + "    return torch.tanh(y)\n"), dy
}

// noise returns decoder.noise_module (rave.blocks.NoiseGeneratorV2) on
// the activated trunk delayed by d, and the delay of its output.
func (v *v2exporter) noise(d int) (*module, int) {
	var net []*module
	for i, nc := range v.l.Noise {
		if i > 0 {
			net = append(net, leaky())
		}
		var m *module
		m, d = v.conv(nc, d)
		net = append(net, m)
	}
	nc := v.cfg.Noise
	ts := 1
	for _, r := range nc.Ratios {
		ts *= r
	}
	return v.x.noiseGenerator(newModule("rave.blocks", "NoiseGeneratorV2"), net, v.cfg.Bands, nc.NoiseBands, ts, d)
}

// top returns the VariationalScriptedRAVE: buffers and attributes of the
// nn~ contract and of the reference's v2 export, encode, decode and
// forward.
func (v *v2exporter) top() *module {
	c := v.cfg
	L, K, R := c.LatentSize, v.kept, c.CompressionRatio()
	dec, dy := v.decoder()
	pq, da, ds := v.x.cachedPQMF(c.Bands, v.m.PQMF.AnalysisWeight(), v.m.PQMF.SynthesisWeight(), v.m.PQMF.HK(), v.m.PQMF.H(), dy)
	enc, dz := v.encoder(da)
	pca, mean, fid := v.l.Latent()
	t := newModule("", "VariationalScriptedRAVE").
		buffer("latent_pca", f32(pca, L, L)).buffer("latent_mean", f32(mean, L)).buffer("fidelity", f32(fid, L)).
		nnParams(K, R).
		attr("sr", "int", c.SampleRate).attr("sampling_rate", "int", c.SampleRate).
		attr("input_mode", "str", "pqmf").attr("output_mode", "str", "pqmf").
		attr("n_channels", "int", 1).attr("target_channels", "int", 1).attr("stereo_mode", "bool", false).
		attr("full_latent_size", "int", L).attr("latent_size", "int", K).
		attr("is_using_adain", "bool", false).attr("_has_prior", "bool", false).
		attr("max_batch_size", "int", MaxBatchSize).
		latencies(v.x.stream, R*dz, ds).
		sub("pqmf", pq).sub("encoder", enc).sub("decoder", dec)
	t.method(encodeMethod("torch.add(torch.mul(torch.randn_like(mean), std), mean)"))
	t.method(fmt.Sprintf("  def posterior(self: %s,\n    x: Tensor) -> Tuple[Tensor, Tensor]:\n"+
		"    pqmf = self.pqmf\n"+
		"    encoder = self.encoder\n"+
		"    h = (encoder).forward((pqmf).forward(x, ), )\n"+
		"    mean = torch.slice(h, 1, 0, %d, 1)\n"+
		"    scale = torch.slice(h, 1, %d, %d, 1)\n"+
		"    return (mean, torch.add(torch.softplus(scale, 1, 20), %s))\n", selfType, L, L, 2*L, lit(1e-4)))
	latentMethods(t, L, K)
	t.method("  def get_methods(self: " + selfType + ") -> List[str]:\n" +
		"    return [\"encode\", \"decode\", \"forward\"]\n")
	t.method("  def get_attributes(self: " + selfType + ") -> List[str]:\n" +
		"    return [\"none\"]\n")
	return t
}
