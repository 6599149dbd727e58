package npy

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// npyFile returns a .npy file with the given header dictionary and raw
// data, padded as numpy.save pads it.
func npyFile(dict string, raw []byte) []byte {
	h := dict + strings.Repeat(" ", (64-(10+len(dict)+1)%64)%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), raw...)
}

// TestReadArray reads arrays of several shapes and types, and refuses
// headers that claim more data than the file holds without allocating it.
func TestReadArray(t *testing.T) {
	i64 := []byte{7, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for _, tt := range []struct {
		dict  string
		raw   []byte
		shape []int
		data  []float32
	}{
		{"{'descr': '<i8', 'fortran_order': False, 'shape': (), }", i64[:8], nil, []float32{7}},
		{"{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1, 1), }", i64, []int{2, 1, 1}, []float32{7, -2}},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", nil, []int{0, 5}, []float32{}},
	} {
		h, data, err := ReadArray(bytes.NewReader(npyFile(tt.dict, tt.raw)))
		if err != nil || !slices.Equal(h.Shape, tt.shape) || !slices.Equal(data, tt.data) {
			t.Errorf("ReadArray(%s) = %v, %v, %v, want %v, %v", tt.dict, h.Shape, data, err, tt.shape, tt.data)
		}
	}
	for _, shape := range []string{"(1073741824,)", "(32768, 32768)", "(2, 99999999999999999999)", "(-1,)"} {
		dict := fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }", shape)
		if _, _, err := ReadArray(bytes.NewReader(npyFile(dict, make([]byte, 64)))); !errors.Is(err, ErrFormat) {
			t.Errorf("ReadArray(shape %s, 64 bytes) = %v, want ErrFormat", shape, err)
		}
	}
}

// TestReadRefusesEmptyRowsFlood checks that Read refuses a (huge, 0)
// array, whose rows hold no data to be checked against.
func TestReadRefusesEmptyRowsFlood(t *testing.T) {
	b := npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 0), }", nil)
	if _, err := Read(bytes.NewReader(b)); !errors.Is(err, ErrFormat) {
		t.Errorf("Read(1e9 empty rows) = %v, want ErrFormat", err)
	}
}

func FuzzReadArray(f *testing.F) {
	var good bytes.Buffer
	Write(&good, [][]float32{{1, 2}, {3, 4}})
	f.Add(good.Bytes())
	f.Add(npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 1, 2), }", make([]byte, 16)))
	f.Add(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", make([]byte, 8)))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, v, err := ReadArray(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(v) != h.Elements() || int64(len(v)*h.elemSize())+h.Len > int64(len(data)) {
			t.Fatalf("ReadArray: %d values for shape %v from %d bytes", len(v), h.Shape, len(data))
		}
	})
}

func FuzzColumnReader(f *testing.F) {
	var good bytes.Buffer
	Write(&good, [][]float32{{1, 2, 3}, {4, 5, 6}})
	f.Add(good.Bytes())
	f.Add(npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", make([]byte, 24)))
	// Accepted before: a billion rows of nothing, for the caller to
	// allocate.
	f.Add(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 0), }", nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewColumnReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if c.Rows() > len(data) {
			t.Fatalf("NewColumnReader accepted %d rows from %d bytes", c.Rows(), len(data))
		}
		k := min(c.Cols(), 4)
		dst := make([][]float32, c.Rows())
		for i := range dst {
			dst[i] = make([]float32, k)
		}
		if err := c.ReadCols(dst, c.Cols()-k); err != nil {
			t.Fatalf("ReadCols of an accepted array: %v", err)
		}
	})
}
