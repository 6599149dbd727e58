package interop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/modelv2"
)

// ErrCheckpointV2 is wrapped by the error of Import and ImportWithInfo
// for a RAVE v2 state dict or Lightning checkpoint that ImportV2 reads:
// the workstation plays only v1 models so far.
var ErrCheckpointV2 = errors.New("v2 checkpoints and state dicts can be imported but not yet played here")

// RunConfigName is the file the reference trainer writes into a run's
// folder: gin's operative configuration of the run.
const RunConfigName = "config.gin"

// maxGinBytes bounds the config.gin read (a run's is a few kilobytes).
const maxGinBytes = 1 << 20

// V2Model is a reference RAVE v2 (v2.3.1) state dict or Lightning
// checkpoint imported by ImportV2.
type V2Model struct {
	// Model is the imported model, discriminator included when the file
	// holds one.
	Model *modelv2.Model
	// Kind is "Lightning checkpoint" (a .ckpt with a state_dict),
	// "PyTorch state dict" (a bare torch.save) or "state dict" (.npz,
	// .safetensors).
	Kind string
	// ConfigPath is the config.gin read, or empty when the configuration
	// was inferred from the tensor shapes.
	ConfigPath string
	// Assumed lists, in words, what neither config.gin nor the tensor
	// shapes said and was taken from configs/v2.gin.
	Assumed []string
	// IgnoredBindings are the bindings of config.gin that do not shape the
	// model (the dataset's, the augmentations').
	IgnoredBindings []string
	// Step is the checkpoint's global_step, or −1.
	Step int64
	// Discriminator reports whether the file held the discriminator.
	Discriminator bool
}

// ConfigSource says where the configuration came from: "config.gin
// (PATH)" or "inferred from tensor shapes".
func (v *V2Model) ConfigSource() string {
	if v.ConfigPath != "" {
		return RunConfigName + " (" + v.ConfigPath + ")"
	}
	return "inferred from tensor shapes"
}

// String describes what was read, in one line: "RAVE v2 Lightning
// checkpoint, step 0: capacity 8, latent 16, 44100 Hz, 16 bands, ratios
// 4·4·4·2, no noise generator, with discriminator; configuration from
// config.gin (PATH)".
func (v *V2Model) String() string {
	c := v.Model.Config
	var b strings.Builder
	fmt.Fprintf(&b, "RAVE v2 %s", v.Kind)
	if v.Step >= 0 {
		fmt.Fprintf(&b, ", step %d", v.Step)
	}
	ratios := make([]string, len(c.Ratios))
	for i, r := range c.Ratios {
		ratios[i] = fmt.Sprint(r)
	}
	fmt.Fprintf(&b, ": capacity %d, latent %d, %d Hz, %d bands, ratios %s", c.Capacity, c.LatentSize, c.SampleRate, c.Bands, strings.Join(ratios, "·"))
	if c.Causal {
		b.WriteString(", causal")
	}
	if c.Noise != nil {
		b.WriteString(", noise generator")
	} else {
		b.WriteString(", no noise generator")
	}
	if v.Discriminator {
		b.WriteString(", with discriminator")
	}
	if v.ConfigPath != "" {
		fmt.Fprintf(&b, "; configuration from %s", v.ConfigSource())
	} else {
		b.WriteString("; configuration inferred from tensor shapes")
	}
	if len(v.Assumed) > 0 {
		fmt.Fprintf(&b, " (assumed: %s)", strings.Join(v.Assumed, "; "))
	}
	return b.String()
}

// ImportV2 reads a reference RAVE v2 (v2.3.1) state dict into a
// core/modelv2 model: a PyTorch-Lightning checkpoint (.ckpt, the weights
// under "state_dict", as scripts/train.py saves best.ckpt and last.ckpt),
// a bare torch.save of the state dict, or a .npz or .safetensors state
// dict.
//
// The architecture comes from the run folder's config.gin when there is
// one (FindRunConfig): the bindings that shape the model (capacity,
// latent size, ratios, dilations, kernel size, PQMF bands and
// attenuation, sampling rate, amplitude modulation, the noise generator,
// causal padding, the discriminator and the training objective) are read,
// and a binding the model cannot follow — another encoder, decoder or
// discriminator class, biases, another normalisation, a configurable this
// importer does not know — is refused by name. Without one it is inferred
// from the tensor shapes, and what the shapes cannot tell (dilations,
// sampling rate, discriminator periods and stride, causal padding, the
// training schedule) is taken from configs/v2.gin and listed in
// V2Model.Assumed. Either way the file must then hold exactly the model's
// tensors with the reference's shapes (modelv2.Model.LoadStateDict): a
// missing, unexpected or mis-shaped tensor is refused by name.
func ImportV2(src string) (*V2Model, error) {
	sd, err := readStateDict(src)
	if err != nil {
		return nil, err
	}
	return importV2(sd, src)
}

// isV2StateDict reports whether sd holds RAVE v2 weights (encoder.encoder.*,
// where v1 has encoder.net.*).
func isV2StateDict(sd *stateDict) bool {
	for n := range sd.tensors {
		if strings.HasPrefix(n, "encoder.encoder.net.") {
			return true
		}
	}
	return false
}

// FindRunConfig returns the config.gin of the run that src (a checkpoint
// or state dict) belongs to: next to it, or one or two folders above
// (scripts/train.py writes runs/NAME_hash/config.gin and Lightning
// runs/NAME_hash/version_0/checkpoints/best.ckpt), the nearest first; or
// "" when there is none.
func FindRunConfig(src string) string {
	dir := filepath.Dir(src)
	for range 3 {
		p := filepath.Join(dir, RunConfigName)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			break
		}
		dir = up
	}
	return ""
}

// importV2 builds a v2 model from sd, read from src.
func importV2(sd *stateDict, src string) (*V2Model, error) {
	errorf := func(format string, args ...any) error {
		return fmt.Errorf("interop: import %s: "+format, append([]any{src}, args...)...)
	}
	v := &V2Model{Kind: "state dict", Step: sd.step}
	switch {
	case sd.lightning:
		v.Kind = "Lightning checkpoint"
	case sd.pickled:
		v.Kind = "PyTorch state dict"
	}
	cfg, assumed, inferErr := inferV2Config(sd)
	if gp := FindRunConfig(src); gp != "" {
		gc, err := readRunConfig(gp)
		if err != nil {
			return nil, errorf("%w", err)
		}
		if inferErr != nil {
			// The tensors are checked against config.gin below; start
			// from configs/v2.gin.
			cfg, _ = modelv2.Preset("v2")
			cfg.Preset = ""
			assumed = v2Assumptions()
		}
		if cfg, assumed, err = gc.apply(cfg, assumed); err != nil {
			return nil, errorf("%w", err)
		}
		v.ConfigPath, v.IgnoredBindings = gp, gc.ignored
	} else if inferErr != nil {
		return nil, errorf("%w (and no %s next to it or up to two folders above)", inferErr, RunConfigName)
	}
	v.Assumed = assumedWords(assumed)
	if err := cfg.Validate(); err != nil {
		return nil, errorf("%w", err)
	}
	if cfg.PQMFAttenuation > 200 {
		// The prototype's length grows with the attenuation.
		return nil, errorf("a PQMF attenuation of %g dB is not supported (at most 200)", cfg.PQMFAttenuation)
	}
	// A damaged configuration must not allocate more than the file holds.
	have := 0
	for _, t := range sd.tensors {
		have += len(t.data)
	}
	if need := v2ParamValues(cfg); need > 2*have+1<<20 {
		return nil, errorf("its configuration needs about %d weights, the file holds %d", need, have)
	}
	v.Discriminator = slices.ContainsFunc(sd.names(), func(n string) bool { return strings.HasPrefix(n, "discriminator.") })
	m, err := modelv2.New(cfg, v.Discriminator)
	if err != nil {
		return nil, errorf("%w", err)
	}
	tf, err := sd.tensorFile(src)
	if err != nil {
		return nil, err
	}
	if err := m.LoadStateDict(tf); err != nil {
		how := "the tensor shapes"
		if v.ConfigPath != "" {
			how = v.ConfigPath
		}
		return nil, errorf("%w (configuration from %s)", err, how)
	}
	v.Model = m
	return v, nil
}

// v2ParamValues estimates the parameter count of cfg from its widths,
// without building it (a bound against damaged configurations).
func v2ParamValues(c modelv2.Config) int {
	n, w := 0, c.Capacity
	k := max(c.KernelSize, 1)
	for s, r := range c.Ratios {
		units := 1
		if s < len(c.Dilations) {
			units = len(c.Dilations[s]) + 1
		}
		n += 2 * units * w * w * (k + 1)
		n += 2 * w * 2 * w * 2 * r
		w *= 2
		if w > 1<<24 {
			return 1 << 62
		}
	}
	n += 2*c.LatentSize*w*k + c.LatentSize*c.LatentSize
	// The PQMF's filters and the discriminator's widths.
	n += c.Bands * c.Bands * 64
	d := c.Discriminator
	in, out := 1, d.Capacity
	for range min(d.Layers, 32) {
		n += (len(d.Periods)*d.PeriodKernel + d.Scales*d.ScaleKernel) * in * out
		in, out = out, 2*out
		if out > 1<<24 {
			return 1 << 62
		}
	}
	if c.Noise != nil {
		n += c.Noise.HiddenSize * (w + c.Noise.HiddenSize) * 4
	}
	// The STFT windows of the two spectral distances.
	for _, s := range c.Training.SpectralScales {
		n += 2 * min(s, 1<<40)
	}
	return n
}

// tensorFile returns sd as a core.TensorFile (float32), for
// modelv2.Model.LoadStateDict.
func (sd *stateDict) tensorFile(src string) (*core.TensorFile, error) {
	ts := make([]*core.Tensor, 0, len(sd.tensors))
	for _, n := range sd.names() {
		st := sd.tensors[n]
		size := 1
		for _, d := range st.shape {
			size *= d
		}
		if size != len(st.data) {
			return nil, fmt.Errorf("interop: import %s: tensor %q has %d values for shape %v", src, n, len(st.data), st.shape)
		}
		t := core.New(st.data, slices.Clone(st.shape)...)
		t.Name = n
		ts = append(ts, t)
	}
	var buf bytes.Buffer
	if err := core.EncodeSafetensors(&buf, ts, nil); err != nil {
		return nil, fmt.Errorf("interop: import %s: %w", src, err)
	}
	tf, err := core.ParseSafetensors(buf.Bytes(), src)
	if err != nil {
		return nil, fmt.Errorf("interop: import %s: %w", src, err)
	}
	return tf, nil
}

// Assumptions of a configuration inferred from tensor shapes, by the
// field they fill; config.gin bindings remove them.
const (
	assumeSampleRate  = "sampling_rate"
	assumeDilations   = "dilations"
	assumeCausal      = "padding"
	assumeAttenuation = "pqmf_attenuation"
	assumePeriods     = "periods"
	assumeDiscStride  = "discriminator_stride"
	assumeTraining    = "training"
)

// v2Assumptions returns the assumptions of configs/v2.gin's defaults, by
// field, in words.
func v2Assumptions() map[string]string {
	return map[string]string{
		assumeSampleRate:  "sampling rate 44100 Hz",
		assumeDilations:   "dilations 1, 3, 9, … per stage",
		assumeCausal:      "centred (non-causal) padding",
		assumeAttenuation: "PQMF attenuation 100 dB",
		assumePeriods:     "discriminator periods 2, 3, 5, 7, 11",
		assumeDiscStride:  "discriminator stride 4",
		assumeTraining:    "configs/v2.gin's training schedule",
	}
}

// assumedWords returns the assumptions in a fixed order.
func assumedWords(a map[string]string) []string {
	var out []string
	for _, k := range []string{assumeSampleRate, assumeDilations, assumeCausal, assumeAttenuation, assumePeriods, assumeDiscStride, assumeTraining} {
		if w, ok := a[k]; ok {
			out = append(out, w)
		}
	}
	return out
}

// weightShape returns the shape of the weight of the layer name, weight
// normalised (name.weight_v) or not (name.weight), nil without either.
func (sd *stateDict) weightShape(name string) []int {
	if t, ok := sd.tensors[name+".weight_v"]; ok {
		return t.shape
	}
	if t, ok := sd.tensors[name+".weight"]; ok {
		return t.shape
	}
	return nil
}

// lastIndex returns the highest index i (under 2¹⁶) of the tensors named
// prefix + "i." + …, 0 without any.
func (sd *stateDict) lastIndex(prefix string) int {
	last := 0
	for n := range sd.tensors {
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			var i int
			if _, err := fmt.Sscanf(rest, "%d.", &i); err == nil && i > last && i < 1<<16 {
				last = i
			}
		}
	}
	return last
}

// inferV2Config derives the configuration of a v2.3.1 state dict from
// its tensor shapes. What the shapes do not hold comes from configs/v2.gin
// and is returned as assumptions, by field.
func inferV2Config(sd *stateDict) (modelv2.Config, map[string]string, error) {
	c, _ := modelv2.Preset("v2")
	c.Preset = ""
	assumed := v2Assumptions()
	shape := sd.weightShape
	fail := func(format string, args ...any) (modelv2.Config, map[string]string, error) {
		return c, nil, fmt.Errorf("cannot infer the configuration: "+format, args...)
	}
	w0 := shape("encoder.encoder.net.0")
	if len(w0) != 3 || w0[2]%2 != 1 {
		return fail("encoder.encoder.net.0.weight_v has shape %v, want (capacity, bands, 2·kernel+1)", w0)
	}
	c.Capacity, c.Bands, c.KernelSize = w0[0], w0[1], (w0[2]-1)/2
	// The encoder: units (…net.i.aligned.*), strided convs of kernel 2r,
	// and last the output conv; LeakyReLUs hold no tensors.
	last := sd.lastIndex("encoder.encoder.net.")
	c.Ratios, c.Dilations = nil, nil
	var units []int
	width := c.Capacity
	for i := 1; i < last; i++ {
		p := fmt.Sprintf("encoder.encoder.net.%d", i)
		if u := shape(p + ".aligned.branches.0.net.1"); u != nil {
			units = append(units, 1)
			continue
		}
		w := shape(p)
		if w == nil {
			continue
		}
		if len(w) != 3 || w[2]%2 != 0 || w[2] < 4 || w[1] != width || w[0] != 2*width {
			return fail("%s.weight_v has shape %v, want a down-sampling conv (%d, %d, 2·ratio)", p, w, 2*width, width)
		}
		c.Ratios = append(c.Ratios, w[2]/2)
		d := make([]int, len(units))
		for j := range d {
			d[j] = 1
			for range j {
				d[j] *= 3
			}
		}
		c.Dilations = append(c.Dilations, d)
		units = nil
		width *= 2
	}
	if len(units) > 0 || len(c.Ratios) == 0 {
		return fail("the encoder's layers encoder.encoder.net.* are not those of EncoderV2")
	}
	out := shape(fmt.Sprintf("encoder.encoder.net.%d", last))
	if len(out) != 3 || out[1] != width || out[0]%2 != 0 {
		return fail("encoder.encoder.net.%d.weight_v has shape %v, want (2·latent, %d, kernel)", last, out, width)
	}
	c.LatentSize = out[0] / 2
	if d0 := shape("decoder.net.0"); len(d0) != 3 || d0[1] != c.LatentSize {
		return fail("decoder.net.0.weight_v has shape %v, want (…, %d, …)", d0, c.LatentSize)
	}
	wave := shape("decoder.waveform_module")
	if wave == nil {
		wave = shape(fmt.Sprintf("decoder.net.%d", sd.lastIndex("decoder.net.")))
	}
	switch {
	case len(wave) != 3:
		return fail("no waveform convolution in the decoder")
	case wave[0] == 2*c.Bands:
		c.AmplitudeModulation = true
	case wave[0] == c.Bands:
		c.AmplitudeModulation = false
	default:
		return fail("the waveform convolution has %d outputs for %d bands", wave[0], c.Bands)
	}
	c.Noise = nil
	if n0 := shape("decoder.noise_module.net.0"); n0 != nil {
		nc := &modelv2.NoiseConfig{}
		var lastOut int
		for i := 0; ; i++ {
			w := shape(fmt.Sprintf("decoder.noise_module.net.%d", 2*i))
			if w == nil {
				break
			}
			if len(w) != 3 || w[2]%2 != 0 || i > 64 {
				return fail("decoder.noise_module.net.%d.weight_v has shape %v, want a kernel of 2·ratio", 2*i, w)
			}
			nc.Ratios = append(nc.Ratios, w[2]/2)
			lastOut = w[0]
		}
		nc.HiddenSize = n0[0]
		if c.Bands > 0 {
			nc.NoiseBands = lastOut / c.Bands
		}
		c.Noise = nc
	}
	if h, ok := sd.tensors["pqmf.h"]; ok {
		att, err := pqmfAttenuation(h.data, c.Bands)
		if err != nil {
			return fail("%v", err)
		}
		c.PQMFAttenuation = att
		delete(assumed, assumeAttenuation)
	}
	c.Discriminator.Capacity = c.Capacity
	if err := inferV2Discriminator(sd, &c, assumed); err != nil {
		return fail("%v", err)
	}
	if err := c.Validate(); err != nil {
		return fail("%v", err)
	}
	return c, assumed, nil
}

// inferV2Discriminator sets the discriminator's widths, depth, kernels
// and sub-discriminator counts from sd's discriminator tensors, if any.
func inferV2Discriminator(sd *stateDict, c *modelv2.Config, assumed map[string]string) error {
	shape := sd.weightShape
	count := func(prefix string) int {
		n := 0
		for shape(fmt.Sprintf("%s.layers.%d.net.0", prefix, n)) != nil && n < 64 {
			n++
		}
		return n
	}
	const mpd, msd = "discriminator.discriminators.0", "discriminator.discriminators.1"
	periods, scales := count(mpd), count(msd)
	if periods+scales == 0 {
		// No discriminator to build: its settings are not the file's.
		delete(assumed, assumePeriods)
		delete(assumed, assumeDiscStride)
		return nil
	}
	d := &c.Discriminator
	if periods != len(d.Periods) {
		return fmt.Errorf("%d period discriminators, but their periods are not in the tensors (configs/v2.gin has %d); import with the run's %s", periods, len(d.Periods), RunConfigName)
	}
	d.Scales = scales
	first := mpd + ".layers.0.net."
	if periods == 0 {
		first = msd + ".layers.0.net."
	}
	w0 := shape(first + "0")
	if len(w0) < 3 {
		return fmt.Errorf("%s0.weight_v has shape %v", first, w0)
	}
	d.Capacity = w0[0]
	d.Layers = 0
	for shape(fmt.Sprintf("%s%d", first, 2*(d.Layers+1))) != nil && d.Layers < 64 {
		d.Layers++
	}
	if p := shape(mpd + ".layers.0.net.0"); len(p) == 4 {
		d.PeriodKernel = p[2]
	}
	if s := shape(msd + ".layers.0.net.0"); len(s) == 3 {
		d.ScaleKernel = s[2]
	}
	if periods == 0 {
		delete(assumed, assumePeriods)
	}
	return nil
}

// pqmfAttenuation returns the attenuation of the PQMF design that h, the
// pqmf.h buffer, holds (100 dB in configs/v2.gin, 70 dB in causal ones).
func pqmfAttenuation(h []float32, bands int) (float64, error) {
	if bands < 2 || bands > 256 {
		return 0, fmt.Errorf("%d PQMF bands", bands)
	}
	for _, att := range []float64{100, 70} {
		p, err := dsp.NewPQMF(bands, att)
		if err != nil {
			continue
		}
		if want := p.H().Data(); len(want) == len(h) && maxRelDiff(h, want) <= 1e-6 {
			return att, nil
		}
	}
	return 0, fmt.Errorf("pqmf.h (%d taps) is neither the 100 dB nor the 70 dB PQMF design of %d bands", len(h), bands)
}
