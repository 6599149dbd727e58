package core

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"testing"
)

// TestHashFloat32s checks that the slabs hash to the values' little-endian
// bytes written at once, at lengths around the slab size.
func TestHashFloat32s(t *testing.T) {
	for _, n := range []int{0, 1, 1 << 14, 1<<14 + 1, 40000} {
		v := make([]float32, n)
		raw := make([]byte, 0, 4*n)
		for i := range v {
			v[i] = float32(i)*0.37 - 5
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v[i]))
		}
		h := sha256.New()
		HashFloat32s(h, v)
		if got, want := h.Sum(nil), sha256.Sum256(raw); string(got) != string(want[:]) {
			t.Errorf("%d values: hash %x, want %x", n, got, want)
		}
	}
}
