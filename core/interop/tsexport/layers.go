package tsexport

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/interop/torchscript"
	"github.com/ravestation/rave/core/model"
)

// The layers of the export. Each builder takes the delay of its input in
// the streaming export (in samples of the input's rate: 0 for the
// offline export, where it is ignored) and returns the delay of its
// output: a streaming layer's output at time n is the offline layer's at
// n − delay.

// ceilDiv returns ⌈a/b⌉ for b > 0 and any a.
func ceilDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}

// forwardMethod is the source of a forward that runs the submodule net.
const forwardMethod = "  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n    net = self.net\n    return (net).forward(x, )\n"

// leaky returns a LeakyReLU of RAVE's slope.
func leaky() *module {
	s := lit(model.LeakySlope)
	return newModule("torch.nn.modules.activation", "LeakyReLU").
		constant("inplace", "bool", "False").
		constant("negative_slope", "float", s).
		method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n    return torch.leaky_relu(x, " + s + ")\n")
}

// cache returns a CachedPadding1d: forward returns its n cached samples
// followed by x, and keeps the last n for the next call (one cache per
// batch item, up to MaxBatchSize). padding is the declared padding of
// the convolution it serves (what the importer checks).
func cache(channels, n, padding int) *module {
	return newModule("cached_conv.convs", "CachedPadding1d").
		buffer("pad", f32(make([]float32, MaxBatchSize*channels*n), MaxBatchSize, channels, n)).
		attr("padding", "int", padding).
		method(fmt.Sprintf("  def forward(self: %s,\n    x: Tensor) -> Tensor:\n"+
			"    pad = torch.slice(self.pad, 0, 0, torch.size(x, 0), 1)\n"+
			"    x0 = torch.cat([pad, x], 2)\n"+
			"    n = torch.size(x0, 2)\n"+
			"    _0 = pad.copy_(torch.slice(x0, 2, n - %d, n, 1))\n"+
			"    return x0\n", selfType, n))
}

// delayed is the source of the expression that delays x by the cache
// module held in the local variable name: its output cut to x's length.
func delayed(name, x string) string {
	return "torch.slice((" + name + ").forward(" + x + ", ), 2, 0, torch.size(" + x + ", 2), 1)"
}

// conv returns a layer of the model as a (cached) Conv1d or
// ConvTranspose1d module with its effective (weight-norm folded) weight.
func (x *exporter) conv(c model.Conv, d int) (*module, int) {
	g := c.Geometry()
	w, b := c.Weights()
	if !c.Transposed() {
		return x.conv1d(w, b, g, d)
	}
	return x.convTranspose1d(w, b, g, d)
}

// convTranspose1d returns a ConvTranspose1d module (weight (Cin, Cout,
// K), PadLeft its padding argument); streaming, a CachedConvTranspose1d
// that keeps the overlap of its last input frames.
func (x *exporter) convTranspose1d(w, b []float32, g model.ConvGeometry, d int) (*module, int) {
	typ, bias := "ConvTranspose1d", "None"
	if x.stream {
		typ = "CachedConvTranspose1d"
	}
	m := newModule("cached_conv.convs", typ).param("weight", f32(w, g.Cin, g.Cout, g.K))
	if b != nil {
		m.param("bias", f32(b, g.Cout))
		bias = "self.bias"
	}
	convConstants(m, g, g.PadLeft)
	m.constant("output_padding", "Tuple[int]", ints(0))
	if !x.stream {
		return m.method(fmt.Sprintf("  def forward(self: %s,\n    x: Tensor) -> Tensor:\n"+
			"    return torch.conv_transpose1d(x, self.weight, %s, [%d], [%d], [0], 1, [%d])\n",
			selfType, bias, g.Stride, g.PadLeft, g.Dilation)), d
	}
	// Streaming: the full transposed convolution of the last n input
	// frames and x, from which the samples every input has reached are
	// kept: out[t] is the offline out[t − (d·s + padding)].
	s := g.Stride
	n := ceilDiv(g.K, s) - 1
	m.buffer("cache", f32(make([]float32, MaxBatchSize*g.Cin*n), MaxBatchSize, g.Cin, n))
	return m.method(fmt.Sprintf("  def forward(self: %s,\n    x: Tensor) -> Tensor:\n"+
		"    t = torch.size(x, 2)\n"+
		"    cache = torch.slice(self.cache, 0, 0, torch.size(x, 0), 1)\n"+
		"    x0 = torch.cat([cache, x], 2)\n"+
		"    _0 = cache.copy_(torch.slice(x0, 2, t, t + %d, 1))\n"+
		"    y = torch.conv_transpose1d(x0, self.weight, %s, [%d], [0], [0], 1, [%d])\n"+
		"    return torch.slice(y, 2, %d, %d + t * %d, 1)\n",
		selfType, n, bias, s, g.Dilation, n*s, n*s, s)), d*s + g.PadLeft
}

// conv1d returns a Conv1d module: zero padding (PadLeft, PadRight) then
// the convolution; streaming, a CachedConv1d whose cache holds the input
// samples the next outputs need.
func (x *exporter) conv1d(w, b []float32, g model.ConvGeometry, d int) (*module, int) {
	typ, bias := "Conv1d", "None"
	if x.stream {
		typ = "CachedConv1d"
	}
	m := newModule("cached_conv.convs", typ).param("weight", f32(w, g.Cout, g.Cin/g.Groups, g.K))
	if b != nil {
		m.param("bias", f32(b, g.Cout))
		bias = "self.bias"
	}
	convConstants(m, g, 0)
	call := fmt.Sprintf("torch.conv1d(x0, self.weight, %s, [%d], [0], [%d], %d)", bias, g.Stride, g.Dilation, g.Groups)
	if !x.stream {
		m.attr("_pad", "Tuple[int, int]", torchscript.Tuple{g.PadLeft, g.PadRight})
		return m.method(fmt.Sprintf("  def forward(self: %s,\n    x: Tensor) -> Tensor:\n"+
			"    x0 = torch.constant_pad_nd(x, [%d, %d], 0.)\n"+
			"    return %s\n", selfType, g.PadLeft, g.PadRight, call)), d
	}
	// Streaming: output n is the offline output n − d2 with
	// d2 = ⌈(d + right + 1 − stride)/stride⌉, the first for which all its
	// inputs have come; it reads the cached n0 = d2·stride + left − d
	// samples before x (the stride-1 case: left + right). A kernel
	// shorter than the stride may need none of the first −n0 samples of
	// each stride instead. right is the kernel's reach past its output's
	// stride (K − 1 − left, dilated): the right padding of a centred
	// convolution, but more than that of one padded (stride, 0), as v2's
	// noise generator is, whose offline output still has ⌈T/stride⌉
	// samples.
	s := g.Stride
	right := g.Dilation*(g.K-1) - g.PadLeft
	d2 := ceilDiv(d+right+1-s, s)
	n0 := d2*s + g.PadLeft - d
	if s == 1 {
		d2, n0 = d+g.PadRight, g.PadLeft+g.PadRight
	}
	in := "x"
	if n0 < 0 {
		in = fmt.Sprintf("torch.slice(x, 2, %d, torch.size(x, 2), 1)", -n0)
	}
	m.sub("cache", cache(g.Cin, max(n0, 0), g.PadLeft+g.PadRight))
	return m.method(fmt.Sprintf("  def forward(self: %s,\n    x: Tensor) -> Tensor:\n"+
		"    cache = self.cache\n"+
		"    x0 = (cache).forward(%s, )\n"+
		"    return %s\n", selfType, in, call)), d2
}

// convConstants declares a convolution's geometry as torch.nn's classes
// do (the importer reads it back).
func convConstants(m *module, g model.ConvGeometry, padding int) {
	m.constant("in_channels", "int", strconv.Itoa(g.Cin)).
		constant("out_channels", "int", strconv.Itoa(g.Cout)).
		constant("kernel_size", "Tuple[int]", ints(g.K)).
		constant("stride", "Tuple[int]", ints(g.Stride)).
		constant("padding", "Tuple[int]", ints(padding)).
		constant("dilation", "Tuple[int]", ints(g.Dilation)).
		constant("groups", "int", strconv.Itoa(g.Groups))
}

// batchNorm returns encoder.net.<i> (an eval-mode BatchNorm1d).
func (x *exporter) batchNorm(name string) *module {
	t := func(suffix string) *core.Tensor { return x.m.Buffer(name + "." + suffix) }
	var gamma, beta *core.Tensor
	for _, p := range x.m.Enc.Params() {
		switch p.Name {
		case name + ".weight":
			gamma = p
		case name + ".bias":
			beta = p
		}
	}
	eps := lit(1e-5)
	return newModule("torch.nn.modules.batchnorm", "BatchNorm1d").
		param("weight", tensor(gamma)).param("bias", tensor(beta)).
		buffer("running_mean", tensor(t("running_mean"))).buffer("running_var", tensor(t("running_var"))).
		buffer("num_batches_tracked", i64(int(t("num_batches_tracked").Data()[0]))).
		constant("eps", "float", eps).
		constant("num_features", "int", strconv.Itoa(gamma.Len())).
		method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
			"    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, False, 0., " + eps + ", True)\n")
}

// modSigmoid is the source of 2·sigmoid(v)^2.3 + 1e-7 (the model's
// ModSigmoid).
func modSigmoid(v string) string {
	return "torch.add(torch.mul(torch.pow(torch.sigmoid(" + v + "), " + lit(2.3) + "), 2.), " + lit(1e-7) + ")"
}

// reverseHalf is the source of a method negating the odd channels of x
// at the even times of the offline signal: x's sample t is the offline
// sample t − shift (mod 2).
func reverseHalf(name string, shift int) string {
	return fmt.Sprintf("  def %s(self: %s,\n    x: Tensor) -> Tensor:\n"+
		"    odd = torch.remainder(torch.arange(torch.size(x, 1), dtype=6, device=x.device), 2.)\n"+
		"    even = torch.remainder(torch.add(torch.arange(torch.size(x, 2), dtype=6, device=x.device), %s), 2.)\n"+
		"    sign = torch.rsub(torch.mul(torch.outer(odd, even), 2.), 1.)\n"+
		"    return torch.mul(x, sign)\n", name, selfType, lit(float64(1+shift%2)))
}

// pqmf returns the CachedPQMF module: forward is the model's analysis,
// inverse its synthesis of bands delayed by dy (streaming). It returns
// the delays of the analysis (in bands' samples) and of the synthesis
// (in audio samples).
func (x *exporter) pqmf(dy int) (m *module, analysis, synthesis int) {
	return x.cachedPQMF(x.cfg.DataSize, x.m.Buffer("pqmf.forward_conv.weight"), x.m.Buffer("pqmf.inverse_conv.weight"),
		x.m.Buffer("pqmf.hk"), x.m.Buffer("pqmf.h"), dy)
}

// cachedPQMF is pqmf for a bank of M bands of analysis kernel fw (M, 1,
// ka), synthesis kernel inv (M, M, ks) and prototype buffers hk and h,
// both convolutions centred.
func (x *exporter) cachedPQMF(M int, fw, inv, hk, h *core.Tensor, dy int) (m *module, analysis, synthesis int) {
	ka, ks := fw.Dim(2), inv.Dim(2)
	al, ar := core.SamePadding(ka, 1)
	sl, sr := core.SamePadding(ks, 1)
	fwd, da := x.conv1d(append([]float32(nil), fw.Data()...), nil, model.ConvGeometry{Cin: 1, Cout: M, K: ka, Stride: M, Dilation: 1, Groups: 1, PadLeft: al, PadRight: ar}, 0)
	syn, ds := x.conv1d(append([]float32(nil), inv.Data()...), nil, model.ConvGeometry{Cin: M, Cout: M, K: ks, Stride: 1, Dilation: 1, Groups: 1, PadLeft: sl, PadRight: sr}, dy)
	if !x.stream {
		da, dy = 0, 0
	}
	m = newModule("rave.pqmf", "CachedPQMF").
		buffer("hk", tensor(hk)).buffer("h", tensor(h)).
		attr("n_band", "int", M).attr("polyphase", "bool", true).
		sub("forward_conv", fwd).sub("inverse_conv", syn).
		method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
			"    forward_conv = self.forward_conv\n" +
			"    return (self).reverse_half_analysis((forward_conv).forward(x, ), )\n").
		method(fmt.Sprintf("  def inverse(self: %s,\n    y: Tensor) -> Tensor:\n"+
			"    inverse_conv = self.inverse_conv\n"+
			"    u = (inverse_conv).forward((self).reverse_half_synthesis(y, ), )\n"+
			"    u0 = torch.mul(torch.flip(u, [1]), %d.)\n"+
			"    b = torch.size(u0, 0)\n"+
			"    t = torch.size(u0, 2)\n"+
			"    return torch.reshape(torch.permute(u0, [0, 2, 1]), [b, 1, t * %d])\n", selfType, M, M)).
		method(reverseHalf("reverse_half_analysis", da)).
		method(reverseHalf("reverse_half_synthesis", dy))
	return m, da, M * ds
}

// encoder returns rave.model.Encoder (net holds encoder.net.<i>; forward
// returns the posterior mean and scale) for bands delayed by d, and the
// delay of its output in latent frames.
func (x *exporter) encoder(d int) (*module, int) {
	l := x.m.Layers()
	var net []*module
	add := func(c model.Conv) {
		var m *module
		m, d = x.conv(c, d)
		net = append(net, m)
	}
	add(l.Encoder[0])
	for i := range x.cfg.Ratios {
		net = append(net, x.batchNorm(fmt.Sprintf("encoder.net.%d", 1+3*i)), leaky())
		add(l.Encoder[i+1])
	}
	net = append(net, leaky())
	add(l.Encoder[len(l.Encoder)-1])
	L := x.cfg.LatentSize
	return newModule("rave.model", "Encoder").sub("net", seq(net...)).
		method(fmt.Sprintf("  def forward(self: %s,\n    x: Tensor) -> Tuple[Tensor, Tensor]:\n"+
			"    net = self.net\n"+
			"    h = (net).forward(x, )\n"+
			"    return (torch.slice(h, 1, 0, %d, 1), torch.slice(h, 1, %d, %d, 1))\n", selfType, L, L, 2*L)), d
}

// decoder returns rave.model.Generator (net is the trunk, synth the
// heads) and the delay of its output in bands' samples.
func (x *exporter) decoder() (*module, int) {
	l := x.m.Layers()
	in, d := x.conv(l.DecoderIn, 0)
	net := []*module{in}
	for _, st := range l.Stages {
		upConv, du := x.conv(st.Up, d)
		d = du
		up := newModule("rave.model", "UpsampleLayer").sub("net", seq(leaky(), upConv)).method(forwardMethod)
		var blocks []*module
		for _, blk := range st.Residual {
			c1, d1 := x.conv(blk[0], d)
			c2, d2 := x.conv(blk[1], d1)
			blocks = append(blocks, x.residual(seq(leaky(), c1, leaky(), c2), blk[0].Geometry().Cin, d2-d))
			d = d2
		}
		stack := newModule("rave.model", "ResidualStack").sub("net", seq(blocks...)).method(forwardMethod)
		net = append(net, up, stack)
	}
	synth, dy := x.synth(l, d)
	return newModule("rave.model", "Generator").
		attr("loud_stride", "int", x.cfg.LoudStride).attr("use_noise", "bool", len(l.Noise) > 0).
		sub("net", seq(net...)).sub("synth", synth).
		method("  def forward(self: " + selfType + ",\n    z: Tensor,\n    add_noise: bool) -> Tensor:\n" +
			"    net = self.net\n    synth = self.synth\n    return (synth).forward((net).forward(z, ), add_noise, )\n"), dy
}

// residual returns rave.model.Residual: x + branch(x); streaming, x is
// delayed by the branch's delay (an AlignBranches whose second branch is
// the delay line).
func (x *exporter) residual(branch *module, channels, delay int) *module {
	return x.residualIn("rave.model", branch, channels, delay)
}

// residualIn is residual with the Residual class of package pkg.
func (x *exporter) residualIn(pkg string, branch *module, channels, delay int) *module {
	if !x.stream {
		aligned := newModule("cached_conv.convs", "Branches").sub("branches", list(branch)).
			method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
				"    branches = self.branches\n    _0 = getattr(branches, \"0\")\n    return (_0).forward(x, )\n")
		return newModule(pkg, "Residual").sub("aligned", aligned).
			method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
				"    aligned = self.aligned\n    return torch.add(x, (aligned).forward(x, ))\n")
	}
	aligned := newModule("cached_conv.convs", "AlignBranches").sub("branches", list(branch, cache(channels, delay, 0))).
		method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
			"    branches = self.branches\n    _0 = getattr(branches, \"0\")\n    _1 = getattr(branches, \"1\")\n" +
			"    return torch.add(" + delayed("_1", "x") + ", (_0).forward(x, ))\n")
	return newModule(pkg, "Residual").sub("aligned", aligned).
		method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
			"    aligned = self.aligned\n    return (aligned).forward(x, )\n")
}

// synth returns decoder.synth, the heads on the trunk output h (delayed
// by d): tanh(wave)·mod_sigmoid(loudness) plus, when add_noise is set,
// the filtered noise; streaming, the three are delayed to line up. It
// returns the delay of its output.
func (x *exporter) synth(l *model.Layers, d int) (*module, int) {
	wave, dw := x.conv(l.Wave, d)
	loud, dl := x.conv(l.Loud, d)
	S := x.cfg.LoudStride
	dl *= S // repeated S times
	heads := []*module{wave, loud}
	var noise *module
	dn := 0
	if len(l.Noise) > 0 {
		noise, dn = x.noise(l, d)
		heads = append(heads, noise)
	}
	dy := max(dw, dl, dn)
	var src strings.Builder
	fmt.Fprintf(&src, "  def forward(self: %s,\n    h: Tensor,\n    add_noise: bool) -> Tensor:\n"+
		"    branches = self.branches\n"+
		"    _0 = getattr(branches, \"0\")\n"+
		"    _1 = getattr(branches, \"1\")\n"+
		"    wave = (_0).forward(h, )\n"+
		"    loud = (_1).forward(h, )\n", selfType)
	if S > 1 {
		fmt.Fprintf(&src, "    loud = torch.repeat_interleave(loud, %d, 2)\n", S)
	}
	synth := newModule("cached_conv.convs", "Branches").sub("branches", list(heads...))
	if x.stream {
		M := x.cfg.DataSize
		delays := list(cache(M, dy-dw, 0), cache(1, dy-dl, 0), cache(M, dy-dn, 0))
		synth.sub("delays", delays)
		src.WriteString("    delays = self.delays\n" +
			"    _d0 = getattr(delays, \"0\")\n" +
			"    _d1 = getattr(delays, \"1\")\n" +
			"    wave = " + delayed("_d0", "wave") + "\n" +
			"    loud = " + delayed("_d1", "loud") + "\n")
	}
	fmt.Fprintf(&src, "    y = torch.mul(torch.tanh(wave), %s)\n", modSigmoid("loud"))
	if noise != nil {
		src.WriteString("    if add_noise:\n" +
			"      _2 = getattr(branches, \"2\")\n" +
			"      n = (_2).forward(h, )\n")
		if x.stream {
			src.WriteString("      _d2 = getattr(delays, \"2\")\n" +
				"      n = " + delayed("_d2", "n") + "\n")
		}
		src.WriteString("      t = torch.size(y, 2)\n" +
			"      tn = torch.size(n, 2)\n" +
			"      if tn > t:\n" +
			"        n0 = torch.slice(n, 2, 0, t, 1)\n" +
			"      else:\n" +
			"        n0 = torch.constant_pad_nd(n, [0, t - tn], 0.)\n" +
			"      y = torch.add(y, n0)\n")
	}
	src.WriteString("    return y\n")
	if !x.stream {
		dy = d
	}
	return synth.method(src.String()), dy
}

// noise returns rave.model.NoiseGenerator, the noise synthesiser on the
// trunk output h (delayed by d), and the delay of its output (its
// attribute latency is that delay in frames of the noise): its
// amplitude network, then per frame and band an impulse response
// ir = basis·a (dsp.NoiseFilter's, as the list ir_basis) filtering a
// block of uniform noise in [−1, 1) drawn by torch.rand (the first
// TargetSize samples of their linear convolution).
func (x *exporter) noise(l *model.Layers, d int) (*module, int) {
	c := x.cfg
	var net []*module
	for i, nc := range l.Noise {
		if i > 0 {
			net = append(net, leaky())
		}
		var m *module
		m, d = x.conv(nc, d)
		net = append(net, m)
	}
	return x.noiseGenerator(newModule("rave.model", "NoiseGenerator"), net, c.DataSize, c.NoiseBands, c.NoiseRatio(), d)
}

// noiseGenerator completes m as the noise synthesiser whose amplitude
// network net outputs M·nb channels, delayed by d frames, each frame
// filtering ts samples of noise per band (see noise).
func (x *exporter) noiseGenerator(m *module, net []*module, M, nb, ts, d int) (*module, int) {
	basis := noiseBasis(M, nb, ts)
	if !x.stream {
		d = 0
	}
	return m.
		buffer("target_size", i64(ts)).
		attr("ir_basis", "List[float]", basis).
		attr("latency", "int", d).
		sub("net", seq(net...)).
		method(fmt.Sprintf("  def forward(self: %s,\n    h: Tensor) -> Tensor:\n"+
			"    net = self.net\n"+
			"    a = (net).forward(h, )\n"+
			"    amp = %s\n"+
			"    b = torch.size(amp, 0)\n"+
			"    f = torch.size(amp, 2)\n"+
			"    amp0 = torch.reshape(torch.permute(amp, [0, 2, 1]), [b, f, %d, %d])\n"+
			"    basis = torch.reshape(torch.tensor(self.ir_basis, dtype=6, device=h.device), [%d, %d])\n"+
			"    ir = torch.matmul(amp0, torch.t(basis))\n"+
			"    u = torch.rand([b, f, %d, %d], dtype=None, layout=None, device=h.device)\n"+
			"    e = torch.sub(torch.mul(u, 2.), 1.)\n"+
			"    n = b * f * %d\n"+
			"    e0 = torch.constant_pad_nd(torch.reshape(e, [1, n, %d]), [%d, 0], 0.)\n"+
			"    w = torch.reshape(torch.flip(ir, [3]), [n, 1, %d])\n"+
			"    y = torch.conv1d(e0, w, None, [1], [0], [1], n)\n"+
			"    y0 = torch.permute(torch.reshape(y, [b, f, %d, %d]), [0, 2, 1, 3])\n"+
			"    return torch.reshape(y0, [b, %d, f * %d])\n",
			selfType, modSigmoid("torch.sub(a, 5.)"), M, nb, ts, nb, M, ts, M, ts, ts-1, ts, M, ts, M, ts)), d * ts
}

// noiseBasis returns the (ts × nb) map from a frame's nb amplitudes to
// its impulse response, row-major, read from dsp.NoiseFilter: the
// response to amplitude e_k of a unit impulse is column k.
func noiseBasis(bands, nb, ts int) torchscript.FloatList {
	nf := dsp.NewNoiseFilter(bands, nb, ts)
	out := make(torchscript.FloatList, ts*nb)
	for k := range nb {
		amp := core.Zeros(1, bands*nb, 1)
		amp.Data()[k] = 1
		delta := core.Zeros(1, 1, bands, ts)
		delta.Data()[0] = 1
		ir := nf.Filter(nil, amp, delta).Data()[:ts]
		for i, v := range ir {
			out[i*nb+k] = float64(v)
		}
	}
	return out
}

// top returns the TraceModel: buffers and attributes of the nn~ contract,
// encode, encode_amortized (offline only), decode and forward.
func (x *exporter) top() *module {
	c := x.cfg
	L, K, R := c.LatentSize, x.kept, c.CompressionRatio()
	dec, dy := x.decoder()
	pq, da, ds := x.pqmf(dy)
	enc, dz := x.encoder(da)
	pca, mean := x.m.Layers().Latent()
	t := newModule("", "TraceModel").
		buffer("latent_pca", f32(pca, L, L)).buffer("latent_mean", f32(mean, L)).
		buffer("latent_size", i64(L)).buffer("sampling_rate", i64(c.SR)).buffer("max_batch_size", i64(MaxBatchSize)).
		nnParams(K, R).
		attr("cropped_latent_size", "int", K).attr("trained_cropped", "bool", false).
		latencies(x.stream, R*dz, ds).
		sub("pqmf", pq).sub("encoder", enc).sub("decoder", dec)
	t.method(encodeMethod("torch.add(mean, torch.mul(torch.randn_like(mean), std))"))
	if !x.stream {
		t.method(fmt.Sprintf("  def encode_amortized(self: %s,\n    x: Tensor) -> Tuple[Tensor, Tensor]:\n"+
			"    mean, std = (self).posterior(x, )\n"+
			"    pca = self.latent_pca\n"+
			"    var = torch.conv1d(torch.mul(std, std), torch.unsqueeze(torch.mul(pca, pca), -1))\n"+
			"    return ((self).project(mean, ), torch.sqrt(torch.slice(var, 1, 0, %d, 1)))\n", selfType, K))
	}
	t.method("  def posterior(self: " + selfType + ",\n    x: Tensor) -> Tuple[Tensor, Tensor]:\n" +
		"    pqmf = self.pqmf\n" +
		"    encoder = self.encoder\n" +
		"    mean, scale = (encoder).forward((pqmf).forward(x, ), )\n" +
		"    return (mean, torch.add(torch.softplus(scale, 1, 20), " + lit(1e-4) + "))\n")
	latentMethods(t, L, K)
	return t
}

// nnParams adds the encode, decode and forward params buffers that nn~
// reads, for K latent dimensions at compression ratio R.
func (m *module) nnParams(K, R int) *module {
	return m.buffer("encode_params", torchscript.Int64Data([]int64{1, 1, int64(K), int64(R)}, 4)).
		buffer("decode_params", torchscript.Int64Data([]int64{int64(K), int64(R), 1, 1}, 4)).
		buffer("forward_params", torchscript.Int64Data([]int64{1, 1, 1, 1}, 4))
}

// latencies adds the deterministic and streaming flags and the encode,
// decode and forward latencies (samples) of an export.
func (m *module) latencies(stream bool, encode, decode int) *module {
	return m.attr("deterministic", "bool", false).attr("streaming", "bool", stream).
		attr("encode_latency", "int", encode).attr("decode_latency", "int", decode).attr("forward_latency", "int", encode+decode)
}

// encodeMethod returns the source of the method encode of a top-level
// module: the posterior's mean, or when not deterministic its draw
// sample (a TorchScript expression of mean and std, in the order of
// operations of the reference's export), projected.
func encodeMethod(sample string) string {
	return "  def encode(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
		"    mean, std = (self).posterior(x, )\n" +
		"    if self.deterministic:\n" +
		"      z = mean\n" +
		"    else:\n" +
		"      z = " + sample + "\n" +
		"    return (self).project(z, )\n"
}

// latentMethods adds the methods project (PCA rotation of the posterior,
// cut to K of L dimensions), decode (the K dimensions padded back to L,
// rotated back, decoded and synthesised) and forward (decode of encode)
// of a top-level module with latent_pca, latent_mean, pqmf and decoder.
func latentMethods(t *module, L, K int) {
	t.method(fmt.Sprintf("  def project(self: %s,\n    z: Tensor) -> Tensor:\n"+
		"    z0 = torch.sub(z, torch.unsqueeze(self.latent_mean, -1))\n"+
		"    z1 = torch.conv1d(z0, torch.unsqueeze(self.latent_pca, -1))\n"+
		"    return torch.slice(z1, 1, 0, %d, 1)\n", selfType, K))
	var fill string
	if K < L {
		fill = fmt.Sprintf("    shape = [torch.size(z, 0), %d, torch.size(z, 2)]\n"+
			"    if self.deterministic:\n"+
			"      pad = torch.zeros(shape, dtype=None, layout=None, device=z.device)\n"+
			"    else:\n"+
			"      pad = torch.randn(shape, dtype=None, layout=None, device=z.device)\n"+
			"    z = torch.cat([z, pad], 1)\n", L-K)
	}
	t.method("  def decode(self: " + selfType + ",\n    z: Tensor) -> Tensor:\n" + fill +
		"    pca = self.latent_pca\n" +
		"    z0 = torch.conv1d(z, torch.unsqueeze(torch.t(pca), -1))\n" +
		"    z1 = torch.add(z0, torch.unsqueeze(self.latent_mean, -1))\n" +
		"    decoder = self.decoder\n" +
		"    pqmf = self.pqmf\n" +
		"    return (pqmf).inverse((decoder).forward(z1, not self.deterministic, ), )\n")
	t.method("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n" +
		"    return (self).decode((self).encode(x, ), )\n")
}
