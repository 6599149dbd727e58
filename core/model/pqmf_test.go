package model

import (
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/internal/modeltest"
)

// TestPQMFFromPrototype checks deriveFromPrototype (used when a source has
// pqmf.h only) against the reference's stored bank and kernels.
func TestPQMFFromPrototype(t *testing.T) {
	tf, err := core.ReadSafetensors(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ref := func(name string) *core.Tensor {
		x, err := tf.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	cfg, _ := Preset("v1")
	cfg.Capacity, cfg.LatentSize = 8, 16
	m, err := newEmpty(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deriveFromPrototype(m, toF64(ref(bufPQMFH).Data()), nil)
	for _, n := range []string{bufPQMFHK, bufPQMFFwd, bufPQMFInv} {
		if e := modeltest.MaxAbsDiff(m.Buffer(n).Data(), ref(n).Data()); e > 1e-6 {
			t.Errorf("%s derived from pqmf.h differs from the reference by %.3g", n, e)
		}
	}
}
