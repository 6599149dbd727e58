package prior

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/ravestation/rave/core"
)

// Metadata keys under which Save stores the config.
const (
	metaFormat = "format"
	formatName = "ravestation-prior-v1"
)

func (c Config) metadata() map[string]string {
	return map[string]string{
		metaFormat:     formatName,
		"dims":         strconv.Itoa(c.Dims),
		"classes":      strconv.Itoa(c.Classes),
		"residual":     strconv.Itoa(c.Residual),
		"skip":         strconv.Itoa(c.Skip),
		"layers":       strconv.Itoa(c.Layers),
		"kernel":       strconv.Itoa(c.Kernel),
		"cycle":        strconv.Itoa(c.Cycle),
		"lr":           strconv.FormatFloat(c.LR, 'g', -1, 64),
		"quantisation": "equal-probability bins of N(0,1)",
	}
}

func configFromMetadata(m map[string]string) (Config, error) {
	var c Config
	if m[metaFormat] != formatName {
		return c, fmt.Errorf("format %q, want %q", m[metaFormat], formatName)
	}
	ints := []struct {
		key string
		dst *int
	}{
		{"dims", &c.Dims}, {"classes", &c.Classes}, {"residual", &c.Residual}, {"skip", &c.Skip},
		{"layers", &c.Layers}, {"kernel", &c.Kernel}, {"cycle", &c.Cycle},
	}
	for _, f := range ints {
		v, err := strconv.Atoi(m[f.key])
		if err != nil {
			return c, fmt.Errorf("metadata %q: %w", f.key, err)
		}
		*f.dst = v
	}
	lr, err := strconv.ParseFloat(m["lr"], 64)
	if err != nil {
		return c, fmt.Errorf("metadata \"lr\": %w", err)
	}
	c.LR = lr
	return c, c.Validate()
}

// Save writes the parameters to path as safetensors, with the config in
// the metadata.
func (p *Prior) Save(path string) error {
	if err := core.WriteSafetensors(path, p.params.Params(), p.cfg.metadata()); err != nil {
		return fmt.Errorf("prior: save %s: %w", path, err)
	}
	return nil
}

// Load reads a prior written by Save.
func Load(path string) (*Prior, error) {
	f, err := core.ReadSafetensors(path)
	if err != nil {
		return nil, fmt.Errorf("prior: load %s: %w", path, err)
	}
	cfg, err := configFromMetadata(f.Metadata())
	if err != nil {
		return nil, fmt.Errorf("prior: load %s: %w", path, err)
	}
	// A damaged configuration must not allocate more than the file holds.
	have := 0
	for _, n := range f.Names() {
		shape, _ := f.Shape(n)
		k := 1
		for _, d := range shape {
			k *= d
		}
		have += k
	}
	if need := cfg.paramValues(); need > have {
		return nil, fmt.Errorf("prior: load %s: its configuration needs %d weights, the file holds %d; the file is damaged", path, need, have)
	}
	p := New(cfg, rand.New(rand.NewPCG(0, 0)))
	for _, t := range p.params.Params() {
		v, err := f.Tensor(t.Name)
		if err != nil {
			return nil, fmt.Errorf("prior: load %s: %w", path, err)
		}
		if v.Len() != t.Len() {
			return nil, fmt.Errorf("prior: load %s: %s has shape %v, want %v", path, t.Name, v.Shape(), t.Shape())
		}
		copy(t.Data(), v.Data())
	}
	return p, nil
}
