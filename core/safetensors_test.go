package core

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ravestation/rave/core/internal/fixtures"
)

func TestSafetensorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	a := New([]float32{1, -2, 3.5, 4, 5, 6}, 2, 3)
	a.Name = "a"
	s := Scalar(7)
	s.Name = "s"
	if err := WriteSafetensors(path, []*Tensor{a, s}, map[string]string{"format": "1"}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Metadata()["format"]; got != "1" {
		t.Errorf("metadata format = %q, want 1", got)
	}
	b, err := f.Tensor("a")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Shape(), []int{2, 3}) || b.Data()[2] != 3.5 {
		t.Errorf("read back %v %v", b.Shape(), b.Data())
	}
	if sc, _ := f.Tensor("s"); sc.Len() != 1 || sc.Item() != 7 {
		t.Errorf("scalar read back %v", sc.Data())
	}
	if _, err := f.Tensor("missing"); err == nil {
		t.Error("missing tensor gave no error")
	}
}

func TestSafetensorsRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(path, []byte("this is not a tensor file"), 0o644)
	if _, err := ReadSafetensors(path); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestSafetensorsReadsFixtureDtypes(t *testing.T) {
	path := fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors")
	f, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	// Int64 scalar buffer (fixture README: target_size = 64).
	v, _, err := f.Float64("decoder.synth.branches.2.target_size")
	if err != nil || v[0] != 64 {
		t.Fatalf("target_size = %v, %v; want 64", v, err)
	}
	h, err := f.Tensor("pqmf.h")
	if err != nil || h.Len() != 377 {
		t.Fatalf("pqmf.h: %v, %v", h, err)
	}
}

func TestHalfToFloat(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x0001, 5.960464477539063e-08}, {0x7bff, 65504}, {0, 0}} {
		if got := halfToFloat(c.h); got != c.want {
			t.Errorf("halfToFloat(%#x) = %v, want %v", c.h, got, c.want)
		}
	}
}
