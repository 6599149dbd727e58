package interop

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/interop/torchscript"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/modelv2"
)

// ErrTorchScriptV2 is wrapped by the error of Import and ImportWithInfo
// for a RAVE v2 TorchScript export: ImportTorchScript reads it into a
// core/modelv2 model, which the rest of the workstation cannot use yet.
var ErrTorchScriptV2 = errors.New("v2 TorchScript models can be imported but not yet played here")

// TorchScriptModel is a reference TorchScript export (.ts) imported by
// ImportTorchScript.
type TorchScriptModel struct {
	// Version is the RAVE version of the export: 1 (export_rave.py of the
	// v1 tag, top module TraceModel) or 2 (scripts/export.py of v2.3.1,
	// VariationalScriptedRAVE).
	Version int
	// Streaming reports an export with cached convolutions (--cached true
	// in v1, --streaming in v2). The weights are those of the offline
	// model; the caches are not imported.
	Streaming bool
	// SampleRate is the export's sample rate in Hz.
	SampleRate int
	// LatentSize is the exported latent size: the PCA dimensions encode
	// returns and decode takes (v1 cropped_latent_size, v2 latent_size).
	// The decoder's other inputs get N(0, 1) noise.
	LatentSize int
	// FullLatentSize is the model's latent size.
	FullLatentSize int
	// Ignored lists the export's tensors that hold no weights: streaming
	// caches, the method parameters and nn~ attributes, v2's unused
	// adaptive instance normalisation.
	Ignored []string
	// Filled lists the model's buffers the export does not hold, set to
	// their defaults: v1's fidelity curve (zero: the exporter keeps only
	// its choice, LatentSize), counters and loudness tables; v2's
	// receptive_field and the windows of its losses.
	Filled []string
	// V1 is the model of a v1 export, V2 that of a v2 export.
	V1 *model.Model
	V2 *modelv2.Model
}

// ImportTorchScript reads a TorchScript export of the reference
// implementation, streaming or not: RAVE v1 (export_rave.py of the v1
// tag) into a core/model model, RAVE v2 (scripts/export.py of v2.3.1)
// into a core/modelv2 one. The exports hold the weight-norm-removed
// weights; they become weight_v with weight_g = ‖weight‖ per output
// slice, which computes the same. The architecture comes from the module
// tree (module classes, weight shapes, the convolutions' stride, dilation
// and padding declared in the code) and is checked layer by layer against
// the model's; latent_pca, latent_mean, fidelity (v2), the exported
// latent size and the sample rate are kept. A module this importer does
// not know, a convolution the model lacks or shapes differently, a
// tensor it cannot place and a missing one are refused by name.
func ImportTorchScript(src string) (*TorchScriptModel, error) {
	a, err := torchscript.Open(src)
	if err != nil {
		return nil, fmt.Errorf("interop: import: %w", err)
	}
	e := newTSExport(a, src)
	switch a.Root.Type() {
	case "TraceModel":
		return e.importV1()
	case "VariationalScriptedRAVE":
		return e.importV2()
	}
	return nil, e.errorf("not a RAVE export: its top module is %s (RAVE v1's export_rave.py writes TraceModel, v2's scripts/export.py VariationalScriptedRAVE)", a.Root.Class)
}

// isTorchScript reports whether src is named as a TorchScript export.
func isTorchScript(src string) bool { return strings.EqualFold(filepath.Ext(src), ".ts") }

// importTorchScriptV1 is Import for a .ts file: a v1 export, or an error
// wrapping ErrTorchScriptV2 for a v2 one.
func importTorchScriptV1(src string) (*model.Model, *ImportInfo, error) {
	ts, err := ImportTorchScript(src)
	if err != nil {
		return nil, nil, err
	}
	if ts.Version != 1 {
		return nil, nil, fmt.Errorf("interop: import %s: a RAVE v%d export: %w", src, ts.Version, ErrTorchScriptV2)
	}
	return ts.V1, &ImportInfo{ConfigSource: "TorchScript module structure", Filled: ts.Filled, Ignored: ts.Ignored}, nil
}

// tsExport is an export being imported.
type tsExport struct {
	src     string
	root    *torchscript.Module
	tensors map[string]*torchscript.Tensor
	names   []string // tensor names in tree order
	used    map[string]bool
	ignored map[string]bool
	checked map[string]bool // convolutions checked against the model
	stream  bool
}

func newTSExport(a *torchscript.Archive, src string) *tsExport {
	e := &tsExport{src: src, root: a.Root, tensors: map[string]*torchscript.Tensor{}, used: map[string]bool{}, ignored: map[string]bool{}, checked: map[string]bool{}}
	for _, nt := range a.Root.Tensors() {
		e.tensors[nt.Name] = nt.Tensor
		e.names = append(e.names, nt.Name)
	}
	return e
}

func (e *tsExport) errorf(format string, args ...any) error {
	return fmt.Errorf("interop: import %s: "+format, append([]any{e.src}, args...)...)
}

// ignore marks tensors that carry no weights.
func (e *tsExport) ignore(names ...string) {
	for _, n := range names {
		if _, ok := e.tensors[n]; ok {
			e.ignored[n] = true
		}
	}
}

// ignoredNames returns the ignored tensors in tree order.
func (e *tsExport) ignoredNames() []string {
	var out []string
	for _, n := range e.names {
		if e.ignored[n] {
			out = append(out, n)
		}
	}
	return out
}

// checkUsed refuses the export if a tensor was neither imported nor
// ignored.
func (e *tsExport) checkUsed() error {
	for _, n := range e.names {
		if !e.used[n] && !e.ignored[n] {
			return e.errorf("tensor %s %v has no counterpart in the model", n, model.FormatShape(e.tensors[n].Shape))
		}
	}
	return nil
}

// Module classes (without __torch__ and mangling) the importers know.
var (
	tsCommon = []string{
		"cached_conv.convs.Conv1d", "cached_conv.convs.CachedConv1d",
		"cached_conv.convs.ConvTranspose1d", "cached_conv.convs.CachedConvTranspose1d",
		"cached_conv.convs.CachedSequential", "cached_conv.convs.Branches", "cached_conv.convs.AlignBranches",
		"cached_conv.convs.CachedPadding1d", "rave.pqmf.CachedPQMF",
		"torch.nn.modules.activation.LeakyReLU", "torch.nn.modules.linear.Identity",
		"torch.nn.modules.container.ModuleList", "torch.nn.modules.container.Sequential",
	}
	tsV1Modules = append(slices.Clone(tsCommon), "TraceModel", "rave.resample.Resampling",
		"rave.model.Encoder", "rave.model.Generator", "rave.model.UpsampleLayer", "rave.model.ResidualStack",
		"rave.model.Residual", "rave.model.NoiseGenerator", "torch.nn.modules.batchnorm.BatchNorm1d")
	tsV2Modules = append(slices.Clone(tsCommon), "VariationalScriptedRAVE", "DumbPrior",
		"rave.blocks.AdaptiveInstanceNormalization", "rave.blocks.VariationalEncoder", "rave.blocks.EncoderV2",
		"rave.blocks.GeneratorV2", "rave.blocks.Residual", "rave.blocks.DilatedUnit", "rave.blocks.NoiseGeneratorV2")
)

// isConv reports whether a module class is a convolution.
func isConv(typ string) bool {
	return strings.HasSuffix(typ, "Conv1d") || strings.HasSuffix(typ, "ConvTranspose1d")
}

// checkModules refuses a module of a class outside known, checks the
// LeakyReLU slopes and BatchNorm eps, and ignores the streaming caches
// (CachedPadding1d.pad, CachedConvTranspose1d.cache).
func (e *tsExport) checkModules(known []string) error {
	return e.root.Walk(func(m *torchscript.Module) error {
		typ := m.Type()
		where := m.Path
		if where == "" {
			where = "the top module"
		}
		if !slices.Contains(known, typ) {
			return e.errorf("unknown module %s of class %s: this importer cannot map it", where, m.Class)
		}
		switch typ {
		case "cached_conv.convs.CachedPadding1d":
			e.ignore(m.Path + ".pad")
			e.stream = true
		case "cached_conv.convs.CachedConvTranspose1d":
			e.ignore(m.Path + ".cache")
			e.stream = true
		case "cached_conv.convs.CachedConv1d":
			e.stream = true
		case "torch.nn.modules.activation.LeakyReLU":
			if m.Decl != nil {
				if s, err := m.Decl.Float("negative_slope"); err != nil || math.Abs(s-model.LeakySlope) > 1e-12 {
					return e.errorf("%s: LeakyReLU slope %s, the model's is %g", where, m.Decl.Constants["negative_slope"], model.LeakySlope)
				}
			}
		case "torch.nn.modules.batchnorm.BatchNorm1d":
			if m.Decl != nil {
				if eps, err := m.Decl.Float("eps"); err != nil || math.Abs(eps-1e-5) > 1e-12 {
					return e.errorf("%s: BatchNorm eps %s, the model's is 1e-05", where, m.Decl.Constants["eps"])
				}
			}
		}
		return nil
	})
}

// tsConv is the geometry of a convolution of the export, or of the model.
type tsConv struct {
	transposed                  bool
	k, stride, dilation, groups int
	// padL and padR are a Conv1d's zero padding or a ConvTranspose1d's
	// padding argument (both). A streaming Conv1d (cached) pads its cache
	// of padL past samples on the left only.
	padL, padR int
	cached     bool
}

func (c tsConv) String() string {
	kind := "Conv1d"
	if c.transposed {
		kind = "ConvTranspose1d"
	}
	s := fmt.Sprintf("%s kernel %d stride %d dilation %d groups %d", kind, c.k, c.stride, c.dilation, c.groups)
	switch {
	case c.transposed:
		return s + fmt.Sprintf(" padding %d", c.padL)
	case c.cached:
		return s + fmt.Sprintf(" cache %d", c.padL)
	}
	return s + fmt.Sprintf(" padding (%d, %d)", c.padL, c.padR)
}

// matches reports whether the export's convolution c computes the model's
// want (offline; a streaming one caches the same total padding).
func (c tsConv) matches(want tsConv) bool {
	if c.transposed != want.transposed || c.k != want.k || c.stride != want.stride || c.dilation != want.dilation || c.groups != want.groups {
		return false
	}
	switch {
	case c.transposed:
		return c.padL == want.padL
	case c.cached:
		return c.padL == want.padL+want.padR
	}
	return c.padL == want.padL && c.padR == want.padR
}

// convOf reads the geometry of the convolution module m from its class
// declaration and padding attributes.
func convOf(m *torchscript.Module) (tsConv, error) {
	typ := m.Type()
	c := tsConv{transposed: strings.HasSuffix(typ, "ConvTranspose1d"), cached: strings.Contains(typ, ".Cached")}
	if m.Decl == nil {
		return c, fmt.Errorf("%s (%s) has no class declaration in the export's code: its stride and dilation are unknown", m.Path, m.Class)
	}
	w := m.Tensor("weight")
	if w == nil || len(w.Shape) != 3 {
		return c, fmt.Errorf("%s (%s) has no 3-D weight", m.Path, m.Class)
	}
	one := func(name string) (int, error) {
		v, err := m.Decl.Ints(name)
		if err != nil {
			return 0, err
		}
		if len(v) != 1 {
			return 0, fmt.Errorf("%s: %s = %s is not one value", m.Path, name, m.Decl.Constants[name])
		}
		return v[0], nil
	}
	var err error
	var padding int
	for _, p := range []struct {
		name string
		v    *int
	}{{"kernel_size", &c.k}, {"stride", &c.stride}, {"dilation", &c.dilation}, {"groups", &c.groups}, {"padding", &padding}} {
		if *p.v, err = one(p.name); err != nil {
			return c, err
		}
	}
	if c.k != w.Shape[2] {
		return c, fmt.Errorf("%s: kernel_size %d but a weight of shape %v", m.Path, c.k, w.Shape)
	}
	if c.transposed {
		out, err := one("output_padding")
		if err != nil || out != 0 {
			return c, fmt.Errorf("%s: output_padding %s is not supported", m.Path, m.Decl.Constants["output_padding"])
		}
		c.padL, c.padR = padding, padding
		return c, nil
	}
	if padding != 0 {
		return c, fmt.Errorf("%s: padding %d inside the convolution is not supported", m.Path, padding)
	}
	c.padL, c.padR, err = padOf(m, c.cached)
	return c, err
}

// padOf returns the zero padding of a Conv1d module: its _pad, or the
// length of its cache (all on the left) when cached.
func padOf(m *torchscript.Module, cached bool) (left, right int, err error) {
	if cached {
		cache := m.Submodule("cache")
		if cache == nil {
			return 0, 0, fmt.Errorf("%s: a cached convolution without a cache", m.Path)
		}
		n, ok := cache.Int("padding")
		if !ok {
			return 0, 0, fmt.Errorf("%s: a cache without padding", m.Path)
		}
		return n, 0, nil
	}
	v, _ := m.Get("_pad")
	if pad, ok := v.([]any); ok && len(pad) == 2 {
		l, okl := pad[0].(int64)
		r, okr := pad[1].(int64)
		if okl && okr {
			return int(l), int(r), nil
		}
	}
	return 0, 0, fmt.Errorf("%s: no (left, right) _pad", m.Path)
}

// checkConv checks the export's convolution at name against want.
func (e *tsExport) checkConv(name string, want tsConv) error {
	m := e.root.Lookup(name)
	if m == nil || !isConv(m.Type()) {
		return e.errorf("the export has no convolution %s (the model's is a %s)", name, want)
	}
	got, err := convOf(m)
	if err != nil {
		return e.errorf("%w", err)
	}
	if !got.matches(want) {
		return e.errorf("layer %s is a %s; the model's is a %s", name, got, want)
	}
	e.checked[name] = true
	return nil
}

// checkAllConvsChecked refuses a convolution of the export that the model
// does not have.
func (e *tsExport) checkAllConvsChecked() error {
	return e.root.Walk(func(m *torchscript.Module) error {
		if isConv(m.Type()) && !e.checked[m.Path] {
			return e.errorf("convolution %s (%s) has no counterpart in the model", m.Path, m.Class)
		}
		return nil
	})
}

// module returns the submodule at path, of the given class.
func (e *tsExport) module(path, typ string) (*torchscript.Module, error) {
	m := e.root.Lookup(path)
	switch {
	case m == nil:
		return nil, e.errorf("missing module %s (%s)", path, typ)
	case m.Type() != typ:
		return nil, e.errorf("module %s is a %s, want %s", path, m.Class, typ)
	}
	return m, nil
}

// tensor returns the tensor name, refusing a missing one.
func (e *tsExport) tensor(name string) (*torchscript.Tensor, error) {
	t, ok := e.tensors[name]
	if !ok {
		return nil, e.errorf("missing tensor %s", name)
	}
	return t, nil
}

// scalar returns the value of a one-element tensor, or of an int
// attribute, at name.
func (e *tsExport) scalar(name string) (int, error) {
	if t, ok := e.tensors[name]; ok {
		if t.Len() != 1 {
			return 0, e.errorf("%s has shape %v, want a scalar", name, t.Shape)
		}
		return int(t.Float64()[0]), nil
	}
	parent, attr := "", name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		parent, attr = name[:i], name[i+1:]
	}
	if m := e.root.Lookup(parent); m != nil {
		if v, ok := m.Int(attr); ok {
			return v, nil
		}
	}
	return 0, e.errorf("missing attribute %s", name)
}

// flag returns a bool attribute of the top module (false when absent).
func (e *tsExport) flag(name string) bool {
	v, _ := e.root.Bool(name)
	return v
}

// shape returns the shape of the tensor name, or nil.
func (e *tsExport) shape(name string) []int {
	if t, ok := e.tensors[name]; ok {
		return t.Shape
	}
	return nil
}

// stride returns the stride of the convolution at name.
func (e *tsExport) stride(name string) (int, error) {
	m := e.root.Lookup(name)
	if m == nil || !isConv(m.Type()) {
		return 0, e.errorf("missing convolution %s", name)
	}
	c, err := convOf(m)
	if err != nil {
		return 0, e.errorf("%w", err)
	}
	return c.stride, nil
}

// RAVE v1.

// v1Config derives the configuration of a v1 export from its module tree.
func (e *tsExport) v1Config() (model.Config, error) {
	c, _ := model.Preset("v1")
	c.Preset = ""
	pqmf, err := e.module("pqmf", "rave.pqmf.CachedPQMF")
	if err != nil {
		return c, err
	}
	if poly, _ := pqmf.Bool("polyphase"); !poly {
		return c, e.errorf("pqmf is not polyphase; the model's PQMF is")
	}
	if c.DataSize, err = e.scalar("pqmf.n_band"); err != nil {
		return c, err
	}
	w0 := e.shape("encoder.net.0.weight")
	if len(w0) != 3 {
		return c, e.errorf("missing tensor encoder.net.0.weight")
	}
	if w0[1] != c.DataSize {
		return c, e.errorf("pqmf.n_band %d, but encoder.net.0 takes %d channels", c.DataSize, w0[1])
	}
	c.Capacity = w0[0]
	_, c.Bias = e.tensors["encoder.net.0.bias"]
	if c.Ratios, err = e.v1Ratios(); err != nil {
		return c, err
	}
	d0 := e.shape("decoder.net.0.weight")
	if len(d0) != 3 {
		return c, e.errorf("missing tensor decoder.net.0.weight")
	}
	c.LatentSize = d0[1]
	if out := e.shape(fmt.Sprintf("encoder.net.%d.weight", 3*len(c.Ratios)+2)); len(out) == 3 && out[0]/2 != c.LatentSize {
		c.CroppedLatentSize = out[0] / 2
	}
	if c.LoudStride, err = e.scalar("decoder.loud_stride"); err != nil {
		return c, err
	}
	c.UseNoise, _ = e.root.Lookup("decoder").Bool("use_noise")
	if c.UseNoise {
		var out int
		if c.NoiseRatios, out, err = e.strides("decoder.synth.branches.2.net", 2); err != nil {
			return c, err
		}
		c.NoiseBands = out / c.DataSize
	}
	if h := e.shape("pqmf.h"); len(h) == 1 {
		n70, _ := model.PQMFSizes(c.DataSize, 70)
		n100, _ := model.PQMFSizes(c.DataSize, 100)
		c.NoLatency = h[0] == n70 && n70 != n100
	}
	if c.SR, err = e.scalar("sampling_rate"); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, e.errorf("%w", err)
	}
	return c, nil
}

// v1Ratios returns the strides of the encoder's strided convolutions
// (encoder.net.3, 6, …, each after a BatchNorm1d).
func (e *tsExport) v1Ratios() ([]int, error) {
	var ratios []int
	for i := 0; ; i++ {
		bn := e.root.Lookup(fmt.Sprintf("encoder.net.%d", 1+3*i))
		if bn == nil || bn.Type() != "torch.nn.modules.batchnorm.BatchNorm1d" {
			break
		}
		r, err := e.stride(fmt.Sprintf("encoder.net.%d", 3+3*i))
		if err != nil {
			return nil, err
		}
		ratios = append(ratios, r)
	}
	if len(ratios) == 0 {
		return nil, e.errorf("no strided convolutions in the encoder (encoder.net.1 is not a BatchNorm1d)")
	}
	return ratios, nil
}

// strides returns the strides of the convolutions prefix.0, prefix.step,
// prefix.2·step, … (a noise generator's) and the output channels of the
// last; there must be at least one.
func (e *tsExport) strides(prefix string, step int) (strides []int, out int, err error) {
	for i := 0; e.root.Lookup(fmt.Sprintf("%s.%d", prefix, step*i)) != nil; i++ {
		name := fmt.Sprintf("%s.%d", prefix, step*i)
		r, err := e.stride(name)
		if err != nil {
			return nil, 0, err
		}
		strides = append(strides, r)
		out = e.shape(name + ".weight")[0]
	}
	if len(strides) == 0 {
		return nil, 0, e.errorf("the export has no noise convolution %s.0", prefix)
	}
	return strides, out, nil
}

// v1Convs returns the convolutions of a v1 model of cfg with their
// geometry, by state-dict prefix.
func v1Convs(cfg model.Config) (map[string]tsConv, error) {
	l, err := model.LayersOf(cfg)
	if err != nil {
		return nil, err
	}
	out := map[string]tsConv{}
	add := func(c model.Conv) {
		g := c.Geometry()
		out[c.Name()] = tsConv{transposed: c.Transposed(), k: g.K, stride: g.Stride, dilation: g.Dilation, groups: g.Groups, padL: g.PadLeft, padR: g.PadRight}
	}
	for _, c := range l.Encoder {
		add(c)
	}
	add(l.DecoderIn)
	for _, st := range l.Stages {
		add(st.Up)
		for _, blk := range st.Residual {
			add(blk[0])
			add(blk[1])
		}
	}
	add(l.Wave)
	add(l.Loud)
	for _, c := range l.Noise {
		add(c)
	}
	if cfg.DataSize > 1 {
		pl, pr := core.SamePadding(l.AnalysisTaps, 1)
		out["pqmf.forward_conv"] = tsConv{k: l.AnalysisTaps, stride: cfg.DataSize, dilation: 1, groups: 1, padL: pl, padR: pr}
		sl, sr := core.SamePadding(l.SynthesisTaps, 1)
		out["pqmf.inverse_conv"] = tsConv{k: l.SynthesisTaps, stride: 1, dilation: 1, groups: 1, padL: sl, padR: sr}
	}
	return out, nil
}

// importV1 imports an export of RAVE v1's export_rave.py.
func (e *tsExport) importV1() (*TorchScriptModel, error) {
	if err := e.checkModules(tsV1Modules); err != nil {
		return nil, err
	}
	if err := e.v1CheckTop(); err != nil {
		return nil, err
	}
	cfg, err := e.v1Config()
	if err != nil {
		return nil, err
	}
	convs, err := v1Convs(cfg)
	if err != nil {
		return nil, e.errorf("%w", err)
	}
	if err := e.checkConvs(convs); err != nil {
		return nil, err
	}
	kept, err := e.v1Kept(cfg)
	if err != nil {
		return nil, err
	}
	e.ignore("latent_size", "sampling_rate", "max_batch_size", "encode_params", "decode_params", "forward_params")
	sd := newStateDict()
	for _, n := range e.names {
		if !e.ignored[n] {
			t := e.tensors[n]
			sd.tensors[n] = stateTensor{shape: t.Shape, data: t.Float32()}
		}
	}
	m, err := fromStateDict(cfg, sd, e.src)
	if err != nil {
		return nil, err
	}
	for n := range sd.used {
		e.used[n] = true
	}
	if err := e.checkUsed(); err != nil {
		return nil, err
	}
	m.LatentAnalysis = model.LatentAnalysis{Done: true, Source: "TorchScript export " + filepath.Base(e.src), Dims: kept}
	ts := &TorchScriptModel{
		Version: 1, Streaming: e.stream, SampleRate: cfg.SR, LatentSize: kept, FullLatentSize: cfg.LatentSize,
		Ignored: e.ignoredNames(), V1: m,
	}
	for _, b := range m.Buffers() {
		if _, ok := e.tensors[b.Name]; !ok {
			ts.Filled = append(ts.Filled, b.Name)
		}
	}
	return ts, nil
}

// v1CheckTop refuses what TraceModel can do and the model cannot:
// resampling, and a latent PCA over a cropped latent space.
func (e *tsExport) v1CheckTop() error {
	if e.flag("trained_cropped") {
		return e.errorf("the model was trained with cropped_latent_size (trained_cropped): its latent PCA covers the cropped dimensions only, which the model does not support")
	}
	if res := e.root.Submodule("resample"); res != nil {
		if id, ok := res.Bool("identity"); ok && !id {
			src, _ := res.Int("source_sr")
			dst, _ := res.Int("taget_sr")
			return e.errorf("the export resamples between %d Hz and the model's %d Hz, which the model cannot do", dst, src)
		}
	}
	return nil
}

// v1Kept checks the latent buffers and sizes of a v1 export and returns
// its latent size (cropped_latent_size).
func (e *tsExport) v1Kept(cfg model.Config) (int, error) {
	for _, n := range []string{"latent_pca", "latent_mean"} {
		if _, err := e.tensor(n); err != nil {
			return 0, err
		}
	}
	latent, err := e.scalar("latent_size")
	if err != nil {
		return 0, err
	}
	if latent != cfg.LatentSize {
		return 0, e.errorf("latent_size %d, but the decoder takes %d dimensions", latent, cfg.LatentSize)
	}
	kept, err := e.scalar("cropped_latent_size")
	if err != nil {
		return 0, err
	}
	if kept < 1 || kept > cfg.LatentSize {
		return 0, e.errorf("cropped_latent_size %d is not in [1, %d]", kept, cfg.LatentSize)
	}
	return kept, nil
}

// checkConvs checks the export's convolutions against the model's, by
// name, and refuses any other.
func (e *tsExport) checkConvs(convs map[string]tsConv) error {
	for _, name := range slices.Sorted(maps.Keys(convs)) {
		if err := e.checkConv(name, convs[name]); err != nil {
			return err
		}
	}
	return e.checkAllConvsChecked()
}

// RAVE v2.

// v2Config derives the configuration of a v2 export from its module tree.
func (e *tsExport) v2Config() (modelv2.Config, error) {
	c, _ := modelv2.Preset("v2")
	c.Preset = ""
	if _, err := e.module("pqmf", "rave.pqmf.CachedPQMF"); err != nil {
		return c, err
	}
	if _, err := e.module("encoder.encoder", "rave.blocks.EncoderV2"); err != nil {
		return c, err
	}
	dec, err := e.module("decoder", "rave.blocks.GeneratorV2")
	if err != nil {
		return c, err
	}
	if c.Bands, err = e.scalar("pqmf.n_band"); err != nil {
		return c, err
	}
	if c.SampleRate, err = e.scalar("sr"); err != nil {
		return c, err
	}
	if c.LatentSize, err = e.scalar("full_latent_size"); err != nil {
		return c, err
	}
	w0 := e.shape("encoder.encoder.net.0.weight")
	if len(w0) != 3 || w0[2]%2 != 1 {
		return c, e.errorf("encoder.encoder.net.0.weight has shape %v, want (capacity, bands, 2·kernel+1)", w0)
	}
	c.Capacity, c.KernelSize = w0[0], (w0[2]-1)/2
	// The sizes that New allocates by must agree with the tensors.
	if w0[1] != c.Bands {
		return c, e.errorf("pqmf.n_band %d, but encoder.encoder.net.0 takes %d channels", c.Bands, w0[1])
	}
	if d0 := e.shape("decoder.net.0.weight"); len(d0) != 3 || d0[1] != c.LatentSize {
		return c, e.errorf("full_latent_size %d, but decoder.net.0.weight has shape %v", c.LatentSize, d0)
	}
	if c.Ratios, c.Dilations, err = e.v2Stages(); err != nil {
		return c, err
	}
	if am, ok := dec.Bool("amplitude_modulation"); ok {
		c.AmplitudeModulation = am
	}
	if noise := dec.Submodule("noise_module"); noise != nil {
		if noise.Type() != "rave.blocks.NoiseGeneratorV2" {
			return c, e.errorf("decoder.noise_module is a %s, want rave.blocks.NoiseGeneratorV2", noise.Class)
		}
		nc := &modelv2.NoiseConfig{}
		var out int
		if nc.Ratios, out, err = e.strides("decoder.noise_module.net", 2); err != nil {
			return c, err
		}
		for i, r := range nc.Ratios {
			if w := e.shape(fmt.Sprintf("decoder.noise_module.net.%d.weight", 2*i)); w[2] != 2*r {
				return c, e.errorf("decoder.noise_module.net.%d has kernel %d for stride %d, want 2·stride", 2*i, w[2], r)
			}
		}
		nc.HiddenSize, nc.NoiseBands = e.shape("decoder.noise_module.net.0.weight")[0], out/c.Bands
		c.Noise = nc
	}
	att, err := e.v2Attenuation(c.Bands)
	if err != nil {
		return c, err
	}
	c.PQMFAttenuation = att
	c.Discriminator.Capacity = c.Capacity
	if err := c.Validate(); err != nil {
		return c, e.errorf("%w", err)
	}
	return c, nil
}

// v2Stages reads the encoder's stages from encoder.encoder.net: a conv,
// then per stage residual units, LeakyReLU and a strided conv, then
// LeakyReLU and the output conv. It returns the strides and the dilations
// of the units of every stage.
func (e *tsExport) v2Stages() (ratios []int, dilations [][]int, err error) {
	var units []int
	for i := 1; ; i++ {
		name := fmt.Sprintf("encoder.encoder.net.%d", i)
		m := e.root.Lookup(name)
		if m == nil {
			return nil, nil, e.errorf("the encoder ends without an output convolution (at %s)", name)
		}
		switch m.Type() {
		case "rave.blocks.Residual":
			conv := e.root.Lookup(name + ".aligned.branches.0.net.1")
			if conv == nil || !isConv(conv.Type()) {
				return nil, nil, e.errorf("residual unit %s has no convolution aligned.branches.0.net.1", name)
			}
			g, err := convOf(conv)
			if err != nil {
				return nil, nil, e.errorf("%w", err)
			}
			units = append(units, g.dilation)
			continue
		case "torch.nn.modules.activation.LeakyReLU":
			continue
		}
		r, err := e.stride(name)
		if err != nil {
			return nil, nil, err
		}
		if k := e.shape(name + ".weight")[2]; r > 1 && k != 2*r {
			return nil, nil, e.errorf("%s has kernel %d for stride %d, want 2·stride", name, k, r)
		}
		if r == 1 { // the output convolution
			if len(units) > 0 {
				return nil, nil, e.errorf("residual units after the last down-sampling of the encoder")
			}
			return ratios, dilations, nil
		}
		ratios = append(ratios, r)
		dilations = append(dilations, units)
		units = nil
	}
}

// v2Attenuation returns the attenuation of the PQMF design that pqmf.h
// holds (100 dB in v2.gin, 70 dB for causal configurations).
func (e *tsExport) v2Attenuation(bands int) (float64, error) {
	h, err := e.tensor("pqmf.h")
	if err != nil {
		return 0, err
	}
	for _, att := range []float64{100, 70} {
		p, err := dsp.NewPQMF(bands, att)
		if err != nil {
			continue
		}
		if want := p.H().Data(); len(want) == h.Len() && maxRelDiff(h.Float32(), want) <= 1e-6 {
			return att, nil
		}
	}
	return 0, e.errorf("pqmf.h (%d taps) is neither the 100 dB nor the 70 dB PQMF design of %d bands", h.Len(), bands)
}

// maxRelDiff returns max|a − b| / max|b|.
func maxRelDiff(a, b []float32) float64 {
	var d, w float64
	for i, x := range b {
		d = max(d, math.Abs(float64(a[i])-float64(x)))
		w = max(w, math.Abs(float64(x)))
	}
	return d / max(w, 1e-30)
}

// importV2 imports an export of v2.3.1's scripts/export.py.
func (e *tsExport) importV2() (*TorchScriptModel, error) {
	if err := e.checkModules(tsV2Modules); err != nil {
		return nil, err
	}
	if err := e.v2CheckTop(); err != nil {
		return nil, err
	}
	cfg, err := e.v2Config()
	if err != nil {
		return nil, err
	}
	m, err := modelv2.New(cfg, false)
	if err != nil {
		return nil, e.errorf("%w", err)
	}
	if err := e.checkConvs(v2Convs(m)); err != nil {
		return nil, err
	}
	kept, err := e.scalar("latent_size")
	if err != nil {
		return nil, err
	}
	if kept < 1 || kept > cfg.LatentSize {
		return nil, e.errorf("latent_size %d is not in [1, %d]", kept, cfg.LatentSize)
	}
	e.ignore("encode_params", "decode_params", "forward_params",
		"learn_target_params", "reset_target_params", "learn_source_params", "reset_source_params")
	if adain := e.root.Submodule("fake_adain"); adain != nil {
		for _, nt := range adain.Tensors() {
			e.ignore("fake_adain." + nt.Name)
		}
	}
	tf, err := e.v2StateDict(m)
	if err != nil {
		return nil, err
	}
	if err := m.LoadStateDict(tf); err != nil {
		return nil, e.errorf("%w", err)
	}
	if err := e.checkUsed(); err != nil {
		return nil, err
	}
	ts := &TorchScriptModel{
		Version: 2, Streaming: e.stream, SampleRate: cfg.SampleRate, LatentSize: kept, FullLatentSize: cfg.LatentSize,
		Ignored: e.ignoredNames(), V2: m,
	}
	for _, t := range m.StateDict() {
		if _, ok := e.tensors[strings.TrimSuffix(strings.TrimSuffix(t.Name, "_v"), "_g")]; !ok {
			if _, ok := e.tensors[t.Name]; !ok {
				ts.Filled = append(ts.Filled, t.Name)
			}
		}
	}
	return ts, nil
}

// v2CheckTop refuses what VariationalScriptedRAVE can do and the model
// cannot: other input or output modes, a spectrogram or resampler,
// several channels, adaptive instance normalisation, a prior.
func (e *tsExport) v2CheckTop() error {
	for _, p := range []struct{ name, want string }{{"input_mode", "pqmf"}, {"output_mode", "pqmf"}} {
		if v, ok := e.root.String(p.name); ok && v != p.want {
			return e.errorf("%s %q is not supported (want %q)", p.name, v, p.want)
		}
	}
	for _, name := range []string{"spectrogram", "resampler"} {
		if v, ok := e.root.Get(name); ok && v != nil {
			return e.errorf("the export has a %s, which the model cannot run", name)
		}
	}
	if n, ok := e.root.Int("n_channels"); ok && n != 1 {
		return e.errorf("%d channels: the model is mono", n)
	}
	if e.flag("is_using_adain") {
		return e.errorf("the export uses adaptive instance normalisation, which the model cannot run")
	}
	if e.flag("_has_prior") {
		return e.errorf("the export has a prior, which this importer cannot map")
	}
	return nil
}

// v2Convs returns the convolutions of m (encoder, generator, PQMF) with
// their geometry, by state-dict prefix.
func v2Convs(m *modelv2.Model) map[string]tsConv {
	l := m.Layers()
	convs := []modelv2.Conv{l.EncoderIn, l.EncoderOut, l.GeneratorIn, l.Wave}
	for _, st := range append(slices.Clone(l.EncoderStages), l.GeneratorStages...) {
		convs = append(convs, st.Resample)
		for _, u := range st.Units {
			convs = append(convs, u.Dilated, u.Pointwise)
		}
	}
	out := map[string]tsConv{}
	for _, c := range append(convs, l.Noise...) {
		g := c.Geometry()
		out[c.Name()] = tsConv{transposed: g.Transposed, k: g.K, stride: g.Stride, dilation: g.Dilation, groups: 1, padL: g.PadLeft, padR: g.PadRight}
	}
	ka, ks := m.PQMF.AnalysisWeight().Dim(2), m.PQMF.SynthesisWeight().Dim(2)
	pl, pr := core.SamePadding(ka, 1)
	out["pqmf.forward_conv"] = tsConv{k: ka, stride: m.Config.Bands, dilation: 1, groups: 1, padL: pl, padR: pr}
	sl, sr := core.SamePadding(ks, 1)
	out["pqmf.inverse_conv"] = tsConv{k: ks, stride: 1, dilation: 1, groups: 1, padL: sl, padR: sr}
	return out
}

// v2StateDict returns the state dict of m (modelv2.Model.StateDict names)
// filled from the export: weight_v = weight and weight_g = ‖weight‖ per
// output slice for the weight-normed convolutions, the other tensors by
// name. Only receptive_field and the STFT windows of the losses, which
// the exporter drops, keep the model's values.
func (e *tsExport) v2StateDict(m *modelv2.Model) (*core.TensorFile, error) {
	var out []*core.Tensor
	for _, t := range m.StateDict() {
		name := t.Name
		var v []float32
		switch {
		case strings.HasSuffix(name, ".weight_v"), strings.HasSuffix(name, ".weight_g"):
			src := strings.TrimSuffix(strings.TrimSuffix(name, "_v"), "_g")
			w, err := e.tensor(src)
			if err != nil {
				return nil, err
			}
			e.used[src] = true
			if strings.HasSuffix(name, "_v") {
				if err := model.CheckShape(e.src, src, w.Shape, t.Shape()); err != nil {
					return nil, fmt.Errorf("interop: import: %w", err)
				}
				v = w.Float32()
			} else {
				v = rowNorms(w)
			}
		case name == "receptive_field" || strings.Contains(name, "audio_distance.multiscale_stft."):
			if _, ok := e.tensors[name]; !ok {
				v = t.Data()
				break
			}
			fallthrough
		default:
			w, err := e.tensor(name)
			if err != nil {
				return nil, err
			}
			if err := model.CheckShape(e.src, name, w.Shape, t.Shape()); err != nil {
				return nil, fmt.Errorf("interop: import: %w", err)
			}
			e.used[name] = true
			v = w.Float32()
		}
		x := core.New(slices.Clone(v), t.Shape()...)
		x.Name = name
		out = append(out, x)
	}
	var buf bytes.Buffer
	if err := core.EncodeSafetensors(&buf, out, nil); err != nil {
		return nil, e.errorf("%w", err)
	}
	tf, err := core.ParseSafetensors(buf.Bytes(), e.src)
	if err != nil {
		return nil, e.errorf("%w", err)
	}
	return tf, nil
}

// rowNorms returns ‖w[o]‖ for every slice o of w's first dimension: the
// weight_g that makes g·v/‖v‖ equal w for v = w.
func rowNorms(w *torchscript.Tensor) []float32 {
	data := w.Float32()
	rows := 1
	if len(w.Shape) > 0 {
		rows = w.Shape[0]
	}
	per := len(data) / max(rows, 1)
	out := make([]float32, rows)
	for o := range out {
		var s float64
		for _, x := range data[o*per : (o+1)*per] {
			s += float64(x) * float64(x)
		}
		out[o] = float32(math.Sqrt(s))
	}
	return out
}

// String describes the export: "RAVE v1 TorchScript export
// (non-streaming), 48000 Hz, latent size 4 of 16".
func (ts *TorchScriptModel) String() string {
	kind := "non-streaming"
	if ts.Streaming {
		kind = "streaming"
	}
	return "RAVE v" + strconv.Itoa(ts.Version) + " TorchScript export (" + kind + "), " +
		strconv.Itoa(ts.SampleRate) + " Hz, latent size " + strconv.Itoa(ts.LatentSize) + " of " + strconv.Itoa(ts.FullLatentSize)
}
