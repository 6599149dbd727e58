package model

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ravestation/rave/core"
)

// Model file format: a safetensors file whose tensor names are the
// reference state-dict keys (parameters and buffers, all stored as F32),
// with these metadata strings.
const (
	// FormatName is the "format" metadata of a model file.
	FormatName = "rave-station-model"
	// FormatVersion is the "format_version" this build writes and reads.
	FormatVersion = "1"

	metaFormat   = "format"
	metaVersion  = "format_version"
	metaConfig   = "config"
	metaStep     = "step"
	metaStage    = "stage"
	metaAnalysis = "latent_analysis"
)

// LatentAnalysis describes the post-training latent analysis stored in
// the latent_pca, latent_mean and fidelity buffers (rave-spec.md §8).
type LatentAnalysis struct {
	// Done reports whether the buffers hold an analysis (otherwise the PCA
	// is the identity and fidelity is zero).
	Done bool `json:"done"`
	// Frames is the number of latent frames analysed.
	Frames int `json:"frames,omitempty"`
	// Step is the training step at which it was computed.
	Step int64 `json:"step,omitempty"`
	// Source describes the data analysed (e.g. "validation split").
	Source string `json:"source,omitempty"`
	// Dims, when non-zero, is the number of PCA dimensions the reference
	// export kept (a TorchScript export's latent size, chosen by the
	// exporter's fidelity; the export has no fidelity curve).
	Dims int `json:"dims,omitempty"`
}

// analysisMeta returns the latent analysis description as JSON.
func (m *Model) analysisMeta() string {
	b, _ := json.Marshal(m.LatentAnalysis)
	return string(b)
}

// Save writes the model (encoder, decoder, buffers and, if present, the
// discriminator) to path atomically.
func (m *Model) Save(path string) error {
	m.syncCounters()
	meta := map[string]string{
		metaFormat:   FormatName,
		metaVersion:  FormatVersion,
		metaConfig:   m.Config.JSON(),
		metaStep:     strconv.FormatInt(m.Step, 10),
		metaStage:    strconv.Itoa(m.Stage),
		metaAnalysis: m.analysisMeta(),
	}
	if err := core.WriteSafetensors(path, m.Tensors(), meta); err != nil {
		return fmt.Errorf("model: save: %w", err)
	}
	return nil
}

// Load reads a model file written by Save. It refuses files of another
// format or format version, and files whose tensors do not match the
// configuration stored in them (missing, unknown or mis-shaped tensors).
func Load(path string) (*Model, error) {
	tf, err := core.ReadSafetensors(path)
	if err != nil {
		return nil, fmt.Errorf("model: load: %w", err)
	}
	meta := tf.Metadata()
	if f := meta[metaFormat]; f != FormatName {
		if f == "" {
			f = "none"
		}
		return nil, fmt.Errorf("model: load %s: not a RAVE Station model file (format %q); use Import for reference state dicts and checkpoints", path, f)
	}
	if v := meta[metaVersion]; v != FormatVersion {
		return nil, fmt.Errorf("model: load %s: model file format version %q is not supported by this build (it reads version %s); re-export the model with a matching rave build", path, v, FormatVersion)
	}
	cfg, err := ParseConfig([]byte(meta[metaConfig]))
	if err != nil {
		return nil, fmt.Errorf("model: load %s: %w", path, err)
	}
	names := tf.Names()
	disc := slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "discriminator.") })
	// A damaged configuration must not allocate more than the file holds.
	have := 0
	for _, n := range names {
		shape, _ := tf.Shape(n)
		have += numel(shape)
	}
	if need := cfg.ParamValues(disc); need > have {
		return nil, fmt.Errorf("model: load %s: its configuration needs %d weights, the file holds %d; the file is damaged", path, need, have)
	}
	m, err := newEmpty(cfg)
	if err != nil {
		return nil, fmt.Errorf("model: load %s: %w", path, err)
	}
	if disc {
		m.allocDiscriminator()
	}
	want := map[string]bool{}
	for _, t := range m.Tensors() {
		want[t.Name] = true
		if !tf.Has(t.Name) {
			return nil, fmt.Errorf("model: load %s: missing tensor %q %v", path, t.Name, t.Shape())
		}
		if err := copyTensor(t, tf, path); err != nil {
			return nil, err
		}
	}
	var unknown []string
	for _, n := range names {
		if !want[n] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("model: load %s: %d tensors unknown to the %s configuration, first %q", path, len(unknown), cfgLabel(cfg), unknown[0])
	}
	if s, err := strconv.ParseInt(meta[metaStep], 10, 64); err == nil {
		m.Step = s
	} else if t := m.byName[bufSavedStep]; t != nil {
		m.Step = int64(t.Data()[0])
	}
	if s, err := strconv.Atoi(meta[metaStage]); err == nil && s > 0 {
		m.Stage = s
	}
	if a := meta[metaAnalysis]; a != "" {
		if err := json.Unmarshal([]byte(a), &m.LatentAnalysis); err != nil {
			return nil, fmt.Errorf("model: load %s: latent analysis metadata: %w", path, err)
		}
	}
	m.ParamsChanged()
	return m, nil
}

// ParamValues returns the number of parameter values of a model of c,
// with its discriminator if disc, without allocating them. Load and
// core/interop check it against what a file holds before building a
// model from the file's configuration.
func (c Config) ParamValues(disc bool) int {
	gen := &cacheGen{}
	sets := []*core.ParamSet{core.NewParamSet(), core.NewParamSet(), core.NewParamSet()}
	newEncoder(sets[0], gen, c)
	newDecoder(sets[1], gen, c)
	if disc {
		newDiscriminator(sets[2], gen, c)
	}
	n := 0
	for _, ps := range sets {
		for _, t := range ps.Params() {
			n += numel(t.Shape())
		}
	}
	return n
}

// numel returns the number of values of shape (0 for a negative
// dimension).
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= max(d, 0)
	}
	return n
}

func cfgLabel(c Config) string {
	if c.Preset != "" {
		return "preset " + c.Preset
	}
	return "model's"
}

// copyTensor copies the file's tensor of t's name into t after checking
// its shape.
func copyTensor(t *core.Tensor, tf *core.TensorFile, path string) error {
	shape, err := tf.Shape(t.Name)
	if err != nil {
		return err
	}
	if err := CheckShape(path, t.Name, shape, t.Shape()); err != nil {
		return err
	}
	src, err := tf.Tensor(t.Name)
	if err != nil {
		return fmt.Errorf("model: %s: %w", path, err)
	}
	copy(t.Data(), src.Data())
	return nil
}

// CheckShape returns an error naming the tensor and both shapes unless a
// tensor of shape got can fill one of shape want: equal shapes, or a
// scalar and a one-element vector. src names the file.
func CheckShape(src, name string, got, want []int) error {
	if slices.Equal(got, want) || len(got) == 0 && slices.Equal(want, []int{1}) || len(want) == 0 && slices.Equal(got, []int{1}) {
		return nil
	}
	return fmt.Errorf("model: %s: tensor %q has shape %v, the model expects %v", src, name, FormatShape(got), FormatShape(want))
}

// FormatShape writes a shape as "(2, 3, 5)".
func FormatShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Hash returns the SHA-256 identity of what determines the model's
// encodings and decodings: the configuration JSON (without the preset
// name), then for every encoder, decoder and buffer tensor in state-dict
// order its name, shape and float32 little-endian values. The
// discriminator and the counters (saved_step, BatchNorm
// num_batches_tracked) are left out, so a model file with or without its
// discriminator, saved at any step, hashes the same. .rvz files carry it.
func (m *Model) Hash() [32]byte {
	h := sha256.New()
	cfg := m.Config
	cfg.Preset = ""
	h.Write([]byte(cfg.JSON()))
	var buf []byte
	for _, t := range m.Tensors() {
		if strings.HasPrefix(t.Name, "discriminator.") || t.Name == bufSavedStep || strings.HasSuffix(t.Name, ".num_batches_tracked") {
			continue
		}
		buf = append(buf[:0], t.Name...)
		buf = append(buf, 0)
		for _, d := range t.Shape() {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(d))
		}
		h.Write(buf)
		core.HashFloat32s(h, t.Data())
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
