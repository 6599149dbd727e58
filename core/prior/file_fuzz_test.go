package prior

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ravestation/rave/core"
)

// FuzzLoad feeds mutated prior files to Load: no input may panic or ask
// for more memory than a prior its file could hold.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	for i, c := range []Config{smallConfig(2), {Dims: 1, Classes: 2, Residual: 1, Skip: 1, Layers: 1, Kernel: 2, Cycle: 1, LR: 1e-3}} {
		path := filepath.Join(dir, "seed.safetensors")
		if err := New(c, rand.New(rand.NewPCG(1, uint64(i)))).Save(path); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	// A small prior's weights under configurations that would need
	// gigabytes: Load must refuse them before allocating.
	small := New(smallConfig(2), rand.New(rand.NewPCG(3, 3)))
	for _, c := range []Config{
		{Dims: 8, Classes: 256, Residual: 1 << 14, Skip: 1 << 14, Layers: 64, Kernel: 3, Cycle: 10, LR: 1e-3},
		{Dims: 8, Classes: 256, Residual: 1 << 30, Skip: 1 << 30, Layers: 1 << 20, Kernel: 1 << 10, Cycle: 10, LR: 1e-3},
	} {
		path := filepath.Join(dir, "huge.safetensors")
		if err := core.WriteSafetensors(path, small.params.Params(), c.metadata()); err != nil {
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
		path := filepath.Join(t.TempDir(), "p.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := Load(path)
		if err != nil {
			return
		}
		if err := p.Config().Validate(); err != nil {
			t.Fatalf("Load accepted an invalid config: %v", err)
		}
	})
}

// TestParamValues checks paramValues against what New allocates.
func TestParamValues(t *testing.T) {
	for _, c := range []Config{smallConfig(2), DefaultConfig(16), {Dims: 3, Classes: 5, Residual: 7, Skip: 2, Layers: 3, Kernel: 4, Cycle: 2, LR: 1}} {
		if got, want := c.paramValues(), New(c, rand.New(rand.NewPCG(1, 1))).params.Count(); got != want {
			t.Errorf("paramValues(%+v) = %d, want %d", c, got, want)
		}
	}
}
