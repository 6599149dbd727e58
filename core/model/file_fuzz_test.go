package model

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ravestation/rave/core"
)

// microConfig is the smallest valid model: one band, capacity 1, one
// latent dimension, one ratio; its file is a few kilobytes, a fuzz seed.
func microConfig() Config {
	c, _ := Preset("tiny")
	c.Preset = ""
	c.DataSize, c.Capacity, c.LatentSize, c.Ratios = 1, 1, 1, []int{2}
	c.UseNoise = false
	c.DCapacity, c.DMultiplier, c.DNLayers = 1, 1, 1
	return c
}

// FuzzLoad feeds mutated model files to Load: no input may panic or ask
// for more memory than a model its file could hold.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	for i, disc := range []bool{false, true} {
		m, err := New(microConfig(), rand.New(rand.NewPCG(1, uint64(i))))
		if err != nil {
			f.Fatal(err)
		}
		if disc {
			m.AddDiscriminator(rand.New(rand.NewPCG(2, 2)))
		}
		path := filepath.Join(dir, "seed.safetensors")
		if err := m.Save(path); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	// The micro model's weights under configurations that would need
	// gigabytes: Load must refuse them before allocating.
	m, err := New(microConfig(), rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		f.Fatal(err)
	}
	for _, huge := range []func(c *Config){
		func(c *Config) { c.Capacity = 1 << 14 },
		func(c *Config) { c.LatentSize = 1 << 20 },
		func(c *Config) { c.DataSize = 1 << 24 },
		func(c *Config) { c.Ratios = []int{64, 64, 64, 64, 64, 64} },
		func(c *Config) { c.UseNoise, c.NoiseBands, c.NoiseRatios = true, 1<<24, []int{2} },
	} {
		c := microConfig()
		huge(&c)
		path := filepath.Join(dir, "huge.safetensors")
		meta := map[string]string{metaFormat: FormatName, metaVersion: FormatVersion, metaConfig: c.JSON()}
		if err := core.WriteSafetensors(path, m.Tensors(), meta); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := Load(path)
		if err != nil {
			return
		}
		if err := m.Config.Validate(); err != nil {
			t.Fatalf("Load accepted an invalid config: %v", err)
		}
	})
}

// TestParamValues checks ParamValues against what New allocates.
func TestParamValues(t *testing.T) {
	for _, name := range []string{"tiny", "small", "v1"} {
		c, _ := Preset(name)
		m, err := New(c, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.ParamValues(false), m.Enc.Count()+m.Dec.Count(); got != want {
			t.Errorf("%s: ParamValues(false) = %d, want %d", name, got, want)
		}
		m.AddDiscriminator(rand.New(rand.NewPCG(2, 2)))
		if got, want := c.ParamValues(true), m.Enc.Count()+m.Dec.Count()+m.Disc.Count(); got != want {
			t.Errorf("%s: ParamValues(true) = %d, want %d", name, got, want)
		}
	}
}
