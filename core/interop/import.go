package interop

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/modelfile"
	"github.com/ravestation/rave/core/npy"
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
	// lightning reports a Lightning checkpoint (a dict with state_dict),
	// pickled any PyTorch zip checkpoint.
	lightning, pickled bool
	// used records the tensors an import consumed.
	used map[string]bool
}

// names returns the tensor names in order.
func (sd *stateDict) names() []string {
	return slices.Sorted(maps.Keys(sd.tensors))
}

// newStateDict returns an empty state dict without a step.
func newStateDict() *stateDict {
	return &stateDict{tensors: map[string]stateTensor{}, step: -1}
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
func Import(src string) (*model.Model, error) {
	m, _, err := ImportWithInfo(src)
	return m, err
}

// ImportWithInfo is Import, also reporting how the import went. A .ts
// file is a TorchScript export (ImportTorchScript): a v1 export is
// imported, a v2 one refused with an error wrapping ErrTorchScriptV2.
// Likewise a RAVE v2 state dict or Lightning checkpoint is read as
// ImportV2 reads it (a file ImportV2 refuses gets ImportV2's error) and
// then refused with an error that says what was read and wraps
// ErrCheckpointV2.
func ImportWithInfo(src string) (*model.Model, *ImportInfo, error) {
	if isTorchScript(src) {
		return importTorchScriptV1(src)
	}
	sd, err := readStateDict(src)
	if err != nil {
		return nil, nil, err
	}
	if isV2StateDict(sd) {
		v2, err := importV2(sd, src)
		if err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("interop: import %s: a %s: %w", src, v2, ErrCheckpointV2)
	}
	return importStateDict(sd, src, nil)
}

// ImportDiscriminator reads the discriminator.* tensors of a reference
// state dict (.npz, .safetensors or .ckpt) into m, building its
// discriminator if needed (its settings inferred from the tensor shapes).
// Other tensors of the file are ignored.
func ImportDiscriminator(m *model.Model, src string) error {
	sd, err := readStateDict(src)
	if err != nil {
		return err
	}
	if isV2StateDict(sd) {
		return fmt.Errorf("interop: import %s: a RAVE v2 state dict, whose discriminator does not fit a v1 model", src)
	}
	if m.Disc == nil {
		c := m.Config
		if err := inferDiscConfig(sd, &c); err != nil {
			return fmt.Errorf("interop: import %s: %w", src, err)
		}
		if err := c.Validate(); err != nil {
			return fmt.Errorf("interop: import %s: %w", src, err)
		}
		m.Config = c
		// Every value it draws is overwritten below.
		m.AddDiscriminator(rand.New(rand.NewPCG(1, 1)))
	}
	if err := assign(m.Disc, sd, src, nil); err != nil {
		return err
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
	return nil, fmt.Errorf("interop: import %s: unknown file type (want .npz, .safetensors or .ckpt)", src)
}

func readSafetensorsDict(src string) (*stateDict, error) {
	if err := modelfile.Check(src, "model"); err != nil {
		return nil, err
	}
	tf, err := core.ReadSafetensors(src)
	if err != nil {
		return nil, fmt.Errorf("interop: import: %w", err)
	}
	sd := newStateDict()
	for _, n := range tf.Names() {
		t, err := tf.Tensor(n)
		if err != nil {
			return nil, fmt.Errorf("interop: import: %w", err)
		}
		sd.tensors[n] = stateTensor{shape: t.Shape(), data: t.Data()}
	}
	// A model file's metadata (model.Model.Save): the format and the
	// configuration JSON.
	if meta := tf.Metadata(); meta["format"] == model.FormatName {
		if js := meta["config"]; js != "" {
			var hp map[string]any
			if err := json.Unmarshal([]byte(js), &hp); err == nil {
				sd.hparams = hp
			}
		}
	}
	return sd, nil
}

func readNPZ(src string) (*stateDict, error) {
	zr, f, err := openZip(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sd := newStateDict()
	for _, zf := range zr.File {
		name := strings.TrimSuffix(zf.Name, ".npy")
		rc, err := zf.Open()
		if err != nil {
			return nil, fileError(src, "the file is damaged", err)
		}
		h, data, err := npy.ReadArray(rc)
		rc.Close()
		switch {
		case errors.Is(err, zip.ErrChecksum):
			return nil, fileError(src, "the file is damaged: part of it fails its checksum", err)
		case err != nil:
			return nil, fmt.Errorf("interop: import %s: array %q: %w", src, name, err)
		}
		sd.tensors[name] = stateTensor{shape: h.Shape, data: data}
	}
	return sd, nil
}

// importStateDict builds a model from a reference state dict. cfg, when
// non-nil, overrides the hyper-parameters and the inference.
func importStateDict(sd *stateDict, src string, cfg *model.Config) (*model.Model, *ImportInfo, error) {
	info := &ImportInfo{}
	var c model.Config
	switch {
	case cfg != nil:
		c = *cfg
		info.ConfigSource = "given"
	case sd.hparams != nil:
		base, err := inferConfig(sd)
		if err != nil {
			base, _ = model.Preset("v1")
			base.Preset = ""
		}
		c, err = configFromHparams(sd.hparams, base)
		if err != nil {
			return nil, nil, fmt.Errorf("interop: import %s: %w", src, err)
		}
		info.ConfigSource = "hyper_parameters"
	default:
		var err error
		c, err = inferConfig(sd)
		if err != nil {
			return nil, nil, fmt.Errorf("interop: import %s: %w", src, err)
		}
		info.ConfigSource = "inferred from tensor shapes"
	}
	m, err := fromStateDict(c, sd, src)
	if err != nil {
		return nil, nil, err
	}
	info.Discriminator = m.Disc != nil
	for _, t := range m.Buffers() {
		if _, ok := sd.tensors[t.Name]; !ok {
			info.Filled = append(info.Filled, t.Name)
		}
	}
	for _, n := range sd.names() {
		if !sd.used[n] {
			info.Ignored = append(info.Ignored, n)
		}
	}
	return m, info, nil
}

// fromStateDict builds a model of cfg from sd. Every parameter must be
// present with its shape; the discriminator is built when sd has
// discriminator tensors; the buffers sd lacks get their defaults
// (model.Model.FillBuffers). The step is global_step, else saved_step.
func fromStateDict(cfg model.Config, sd *stateDict, src string) (*model.Model, error) {
	disc := false
	for n := range sd.tensors {
		if strings.HasPrefix(n, "discriminator.") {
			disc = true
			break
		}
	}
	// A damaged configuration must not allocate more than the file holds
	// (twice: a plain weight stands for weight_g and weight_v).
	have := 0
	for _, t := range sd.tensors {
		have += len(t.data)
	}
	if need := cfg.ParamValues(disc); need > 2*have {
		return nil, fmt.Errorf("interop: import %s: its configuration needs %d weights, the file holds %d", src, need, have)
	}
	m, err := model.Blank(cfg, disc)
	if err != nil {
		return nil, fmt.Errorf("interop: import %s: %w", src, err)
	}
	sd.used = map[string]bool{}
	for _, ps := range []*core.ParamSet{m.Enc, m.Dec, m.Disc} {
		if err := assign(ps, sd, src, sd.used); err != nil {
			return nil, err
		}
	}
	// Buffers: copy those present, fill the others.
	keep := map[string]bool{}
	for _, t := range m.Buffers() {
		if _, ok := sd.tensors[t.Name]; !ok {
			continue
		}
		if err := assignTensor(t, sd, src, false); err != nil {
			return nil, err
		}
		keep[t.Name], sd.used[t.Name] = true, true
	}
	if err := m.FillBuffers(keep); err != nil {
		return nil, fmt.Errorf("interop: import %s: filling buffers: %w", src, err)
	}
	if keep["saved_step"] {
		m.Step = int64(m.Buffer("saved_step").Data()[0])
	}
	if sd.step >= 0 {
		m.Step = sd.step
	}
	if m.Step > int64(cfg.Warmup) {
		m.Stage = 2
	}
	m.ParamsChanged()
	return m, nil
}

// assign copies the parameters of ps (nil: none) from sd, recording the
// names it consumed in used (if not nil). A weight-normed layer whose
// source holds a plain "weight" instead of weight_g/weight_v (RAVE tag 1.0
// discriminator, or weights folded for export) gets v = weight and
// g = ‖weight‖ per output slice, which gives the same effective weight.
func assign(ps *core.ParamSet, sd *stateDict, src string, used map[string]bool) error {
	if ps == nil {
		return nil
	}
	mark := func(names ...string) {
		for _, n := range names {
			if used != nil {
				used[n] = true
			}
		}
	}
	done := map[string]bool{}
	for _, t := range ps.Params() {
		if done[t.Name] {
			continue
		}
		layer, wn := strings.CutSuffix(t.Name, ".weight_g")
		if !wn {
			if err := assignTensor(t, sd, src, true); err != nil {
				return err
			}
			mark(t.Name)
			continue
		}
		v := ps.Get(layer + ".weight_v")
		mark(t.Name, v.Name, layer+".weight")
		w, plain := sd.tensors[layer+".weight"]
		if _, hasV := sd.tensors[v.Name]; !plain || hasV {
			if err := assignTensor(t, sd, src, true); err != nil {
				return err
			}
			continue // v is assigned in its turn
		}
		if err := model.CheckShape(src, layer+".weight", w.shape, v.Shape()); err != nil {
			return err
		}
		copy(v.Data(), w.data)
		rows := v.Dim(0)
		n := v.Len() / rows
		for o := range rows {
			var s float64
			for _, x := range w.data[o*n : (o+1)*n] {
				s += float64(x) * float64(x)
			}
			t.Data()[o] = float32(math.Sqrt(s))
		}
		done[v.Name] = true
	}
	return nil
}

// assignTensor copies the tensor of t's name from sd into t, refusing a
// missing one when required and a mis-shaped one.
func assignTensor(t *core.Tensor, sd *stateDict, src string, required bool) error {
	s, ok := sd.tensors[t.Name]
	if !ok {
		if required {
			return fmt.Errorf("interop: import %s: missing parameter %q %v", src, t.Name, model.FormatShape(t.Shape()))
		}
		return nil
	}
	if err := model.CheckShape(src, t.Name, s.shape, t.Shape()); err != nil {
		return err
	}
	copy(t.Data(), s.data)
	return nil
}
