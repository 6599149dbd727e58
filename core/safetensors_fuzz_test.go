package core

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzParseSafetensors feeds mutated safetensors files to the reader and
// converts every tensor it accepts: no input may panic, and an accepted
// tensor holds as many values as its shape says.
func FuzzParseSafetensors(f *testing.F) {
	a := Zeros(2, 3)
	for i := range a.data {
		a.data[i] = float32(i) / 3
	}
	a.Name = "encoder.net.0.weight"
	s := Zeros()
	s.Name = "saved_step"
	var b bytes.Buffer
	if err := EncodeSafetensors(&b, []*Tensor{a, s}, map[string]string{"format": "rave-station-model", "config": `{"capacity":8}`}); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:b.Len()/2])
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{}              "))
	for _, dtype := range []string{"F16", "BF16", "I64", "I32", "F64", "U8"} {
		hdr := `{"x":{"dtype":"` + dtype + `","shape":[2,1],"data_offsets":[0,16]}}`
		raw := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
		raw = append(append(raw, hdr...), "\x00\x3c\x00\xc0\x00\x7c\x01\x00\xff\xff\xff\xff\x00\x00\xf0\x3f"...)
		f.Add(raw)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := ParseSafetensors(data, "fuzz.safetensors")
		if err != nil {
			return
		}
		for _, n := range tf.Names() {
			shape, err := tf.Shape(n)
			if err != nil {
				t.Fatalf("Shape(%q) of a listed tensor: %v", n, err)
			}
			x, err := tf.Tensor(n)
			if err != nil {
				continue
			}
			want := 1
			for _, d := range shape {
				want *= d
			}
			if x.Len() != want {
				t.Fatalf("Tensor(%q) has %d values for shape %v", n, x.Len(), shape)
			}
		}
	})
}
