package model

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"codeberg.org/sbinet/npyio/npz"

	"github.com/ravestation/rave/core"
)

// stateTensor is one entry of a reference state dict.
type stateTensor struct {
	shape []int
	data  []float32
}

// stateDict is a reference state dict read from a file, with the
// hyper-parameters when the file carries them.
type stateDict struct {
	tensors map[string]stateTensor
	// hparams is the reference hyper-parameter dict (Lightning
	// "hyper_parameters"), or nil.
	hparams map[string]any
	// step is the Lightning "global_step", or −1.
	step int64
}

func (sd *stateDict) names() []string {
	out := make([]string, 0, len(sd.tensors))
	for n := range sd.tensors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ImportInfo reports what Import did besides copying tensors.
type ImportInfo struct {
	// ConfigSource is "hyper_parameters", "metadata" or "inferred from
	// tensor shapes".
	ConfigSource string
	// Filled lists the buffers absent from the source that were set to
	// their defaults (designed PQMF, identity PCA, …).
	Filled []string
	// Ignored lists source tensors the model does not use (for example
	// streaming cache buffers).
	Ignored []string
	// Discriminator reports whether discriminator weights were imported.
	Discriminator bool
}

// Import reads reference RAVE v1 weights: a state dict saved as .npz or
// .safetensors (tensor names = state-dict keys), or a PyTorch-Lightning
// training checkpoint (.ckpt, weights under "state_dict", hyper-parameters
// under "hyper_parameters"). Without hyper-parameters the configuration is
// inferred from the tensor shapes. Missing buffers are filled with their
// defaults; missing parameters and mis-shaped tensors are refused.
func Import(src string) (*Model, error) {
	m, _, err := ImportWithInfo(src)
	return m, err
}

// ImportWithInfo is Import, also reporting how the import went.
func ImportWithInfo(src string) (*Model, *ImportInfo, error) {
	sd, err := readStateDict(src)
	if err != nil {
		return nil, nil, err
	}
	return importStateDict(sd, src, nil)
}

// ImportDiscriminator reads the discriminator.* tensors of a reference
// state dict (.npz, .safetensors or .ckpt) into m, building its
// discriminator if needed. Other tensors of the file are ignored.
func (m *Model) ImportDiscriminator(src string) error {
	sd, err := readStateDict(src)
	if err != nil {
		return err
	}
	if m.Disc == nil {
		c := m.Config
		if err := inferDiscConfig(sd, &c); err != nil {
			return fmt.Errorf("model: import %s: %w", src, err)
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("model: import %s: %w", src, err)
		}
		m.Config = c
		m.allocDiscriminator()
	}
	found := false
	for _, layers := range m.Discriminator.scales {
		for _, c := range layers {
			if err := assignConv(c, sd, src); err != nil {
				return err
			}
			found = true
		}
	}
	if !found {
		return fmt.Errorf("model: %s has no discriminator", src)
	}
	m.ParamsChanged()
	return nil
}

func readStateDict(src string) (*stateDict, error) {
	switch strings.ToLower(filepath.Ext(src)) {
	case ".npz":
		return readNPZ(src)
	case ".safetensors":
		return readSafetensorsDict(src)
	case ".ckpt", ".pt", ".pth":
		return readCheckpoint(src)
	}
	return nil, fmt.Errorf("model: import %s: unknown file type (want .npz, .safetensors or .ckpt)", src)
}

func readSafetensorsDict(src string) (*stateDict, error) {
	tf, err := core.ReadSafetensors(src)
	if err != nil {
		return nil, fmt.Errorf("model: import: %w", err)
	}
	sd := &stateDict{tensors: map[string]stateTensor{}, step: -1}
	for _, n := range tf.Names() {
		t, err := tf.Tensor(n)
		if err != nil {
			return nil, fmt.Errorf("model: import: %w", err)
		}
		sd.tensors[n] = stateTensor{shape: t.Shape(), data: t.Data()}
	}
	if meta := tf.Metadata(); meta[metaFormat] == FormatName {
		if js := meta[metaConfig]; js != "" {
			var hp map[string]any
			if err := jsonUnmarshal(js, &hp); err == nil {
				sd.hparams = hp
			}
		}
	}
	return sd, nil
}

func readNPZ(src string) (*stateDict, error) {
	r, err := npz.Open(src)
	if err != nil {
		return nil, fmt.Errorf("model: import: %w", err)
	}
	defer r.Close()
	sd := &stateDict{tensors: map[string]stateTensor{}, step: -1}
	for _, key := range r.Keys() {
		name := strings.TrimSuffix(key, ".npy")
		h := r.Header(key)
		if h == nil {
			return nil, fmt.Errorf("model: import %s: cannot read the header of %q", src, name)
		}
		if h.Descr.Fortran && len(h.Descr.Shape) > 1 {
			return nil, fmt.Errorf("model: import %s: array %q is in Fortran order", src, name)
		}
		shape := append([]int{}, h.Descr.Shape...)
		var data []float32
		switch strings.TrimLeft(strings.Trim(h.Descr.Type, "'\" "), "<|=") {
		case "f4":
			err = r.Read(key, &data)
		case "f8":
			var v []float64
			if err = r.Read(key, &v); err == nil {
				data = make([]float32, len(v))
				for i, x := range v {
					data[i] = float32(x)
				}
			}
		case "i8":
			var v []int64
			if err = r.Read(key, &v); err == nil {
				data = make([]float32, len(v))
				for i, x := range v {
					data[i] = float32(x)
				}
			}
		case "i4":
			var v []int32
			if err = r.Read(key, &v); err == nil {
				data = make([]float32, len(v))
				for i, x := range v {
					data[i] = float32(x)
				}
			}
		default:
			return nil, fmt.Errorf("model: import %s: array %q has unsupported dtype %s", src, name, h.Descr.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("model: import %s: %w", src, err)
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if len(data) != n {
			return nil, fmt.Errorf("model: import %s: array %q has %d values for shape %v", src, name, len(data), shape)
		}
		sd.tensors[name] = stateTensor{shape: shape, data: data}
	}
	return sd, nil
}

// importStateDict builds a model from a reference state dict. cfg, when
// non-nil, overrides the hyper-parameters and the inference.
func importStateDict(sd *stateDict, src string, cfg *Config) (*Model, *ImportInfo, error) {
	info := &ImportInfo{}
	var c Config
	switch {
	case cfg != nil:
		c = *cfg
		info.ConfigSource = "given"
	case sd.hparams != nil:
		base, err := inferConfig(sd)
		if err != nil {
			base, _ = Preset("v1")
			base.Preset = ""
		}
		c, err = configFromHparams(sd.hparams, base)
		if err != nil {
			return nil, nil, fmt.Errorf("model: import %s: %w", src, err)
		}
		info.ConfigSource = "hyper_parameters"
	default:
		var err error
		c, err = inferConfig(sd)
		if err != nil {
			return nil, nil, fmt.Errorf("model: import %s: %w", src, err)
		}
		info.ConfigSource = "inferred from tensor shapes"
	}
	m, err := newEmpty(c)
	if err != nil {
		return nil, nil, fmt.Errorf("model: import %s: %w", src, err)
	}
	for n := range sd.tensors {
		if strings.HasPrefix(n, "discriminator.") {
			m.allocDiscriminator()
			info.Discriminator = true
			break
		}
	}
	used := map[string]bool{}
	// Parameters: every one must be present with the right shape.
	var convs []*conv
	convs = append(convs, m.Encoder.convs...)
	convs = append(convs, m.Decoder.convs()...)
	if m.Discriminator != nil {
		for _, layers := range m.Discriminator.scales {
			convs = append(convs, layers...)
		}
	}
	for _, cv := range convs {
		if err := assignConv(cv, sd, src); err != nil {
			return nil, nil, err
		}
		markConv(cv, used)
	}
	for _, bn := range m.Encoder.bns {
		for _, t := range []*core.Tensor{bn.gamma, bn.beta} {
			if err := assignTensor(t, sd, src, true); err != nil {
				return nil, nil, err
			}
			used[t.Name] = true
		}
	}
	// Buffers: copy those present, fill the others.
	keep := map[string]bool{}
	for _, t := range m.buffers {
		if _, ok := sd.tensors[t.Name]; !ok {
			info.Filled = append(info.Filled, t.Name)
			continue
		}
		if err := assignTensor(t, sd, src, false); err != nil {
			return nil, nil, err
		}
		keep[t.Name] = true
		used[t.Name] = true
	}
	if err := m.fillDefaultBuffers(keep); err != nil {
		return nil, nil, fmt.Errorf("model: import %s: filling buffers %v: %w", src, info.Filled, err)
	}
	for _, n := range sd.names() {
		if !used[n] {
			info.Ignored = append(info.Ignored, n)
		}
	}
	if t := m.byName[bufSavedStep]; t != nil && keep[bufSavedStep] {
		m.Step = int64(t.Data()[0])
	}
	if sd.step >= 0 {
		m.Step = sd.step
	}
	if m.Step > int64(c.Warmup) {
		m.Stage = 2
	}
	m.ParamsChanged()
	return m, info, nil
}

// markConv records the state-dict names a layer consumed (including the
// tag-1.0 plain weight of a weight-normed layer).
func markConv(c *conv, used map[string]bool) {
	for _, t := range c.params() {
		used[t.Name] = true
	}
	if c.g != nil {
		used[c.name+".weight"] = true
	}
}

// assignConv copies a layer's parameters. A weight-normed layer whose
// source holds a plain "weight" instead of weight_g/weight_v (RAVE tag 1.0
// discriminator, or weights folded for export) gets v = weight and
// g = ‖weight‖ per output slice, which gives the same effective weight.
func assignConv(c *conv, sd *stateDict, src string) error {
	if c.b != nil {
		if err := assignTensor(c.b, sd, src, true); err != nil {
			return err
		}
	}
	if c.w != nil {
		return assignTensor(c.w, sd, src, true)
	}
	_, hasV := sd.tensors[c.v.Name]
	if w, ok := sd.tensors[c.name+".weight"]; ok && !hasV {
		if !sameShape(w.shape, c.v.Shape()) {
			return shapeError(src, c.name+".weight", w.shape, c.v.Shape())
		}
		copy(c.v.Data(), w.data)
		rows := c.v.Dim(0)
		n := c.v.Len() / rows
		for o := range rows {
			var s float64
			for _, x := range w.data[o*n : (o+1)*n] {
				s += float64(x) * float64(x)
			}
			c.g.Data()[o] = float32(math.Sqrt(s))
		}
		return nil
	}
	if err := assignTensor(c.g, sd, src, true); err != nil {
		return err
	}
	return assignTensor(c.v, sd, src, true)
}

func assignTensor(t *core.Tensor, sd *stateDict, src string, required bool) error {
	s, ok := sd.tensors[t.Name]
	if !ok {
		if required {
			return fmt.Errorf("model: import %s: missing parameter %q %v", src, t.Name, fmtShape(t.Shape()))
		}
		return nil
	}
	if !sameShape(s.shape, t.Shape()) {
		return shapeError(src, t.Name, s.shape, t.Shape())
	}
	copy(t.Data(), s.data)
	return nil
}
