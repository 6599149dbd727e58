package core

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/nlpodyssey/safetensors"
)

// TensorFile is a safetensors file read into memory: named tensors of any
// of the dtypes F32, F64, F16, BF16, I64 and I32, and string metadata.
type TensorFile struct {
	st   safetensors.SafeTensors
	meta map[string]string
	path string
}

// ReadSafetensors reads a safetensors file.
func ReadSafetensors(path string) (*TensorFile, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("core: read safetensors: %w", err)
	}
	return ParseSafetensors(buf, path)
}

// ParseSafetensors decodes a safetensors file held in buf; name is used in
// error messages.
func ParseSafetensors(buf []byte, name string) (*TensorFile, error) {
	st, err := safetensors.Deserialize(buf)
	if err != nil {
		return nil, fmt.Errorf("core: %s is not a valid safetensors file: %w", name, err)
	}
	_, md, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return nil, fmt.Errorf("core: %s: safetensors header: %w", name, err)
	}
	return &TensorFile{st: st, meta: md.Metadata(), path: name}, nil
}

// Names returns the tensor names, sorted.
func (f *TensorFile) Names() []string {
	n := f.st.Names()
	slices.Sort(n)
	return n
}

// Metadata returns the file's "__metadata__" strings (possibly nil).
func (f *TensorFile) Metadata() map[string]string { return f.meta }

// Has reports whether the file holds a tensor with this name.
func (f *TensorFile) Has(name string) bool {
	_, ok := f.st.Tensor(name)
	return ok
}

// Shape returns the shape of a tensor.
func (f *TensorFile) Shape(name string) ([]int, error) {
	tv, ok := f.st.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("core: %s has no tensor %q", f.path, name)
	}
	return intShape(tv.Shape()), nil
}

func intShape(s []uint64) []int {
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out
}

// Float64 returns a tensor's values converted to float64, with its shape.
func (f *TensorFile) Float64(name string) ([]float64, []int, error) {
	tv, ok := f.st.Tensor(name)
	if !ok {
		return nil, nil, fmt.Errorf("core: %s has no tensor %q", f.path, name)
	}
	shape := intShape(tv.Shape())
	n := numel(shape)
	data := tv.Data()
	size := int(tv.DType().Size())
	if len(data) != n*size {
		return nil, nil, fmt.Errorf("core: %s: tensor %q holds %d bytes for shape %v", f.path, name, len(data), shape)
	}
	out := make([]float64, n)
	le := binary.LittleEndian
	for i := range out {
		b := data[i*size:]
		switch tv.DType() {
		case safetensors.F32:
			out[i] = float64(math.Float32frombits(le.Uint32(b)))
		case safetensors.F64:
			out[i] = math.Float64frombits(le.Uint64(b))
		case safetensors.F16:
			out[i] = float64(halfToFloat(le.Uint16(b)))
		case safetensors.BF16:
			out[i] = float64(math.Float32frombits(uint32(le.Uint16(b)) << 16))
		case safetensors.I64:
			out[i] = float64(int64(le.Uint64(b)))
		case safetensors.I32:
			out[i] = float64(int32(le.Uint32(b)))
		default:
			return nil, nil, fmt.Errorf("core: %s: tensor %q has unsupported dtype %v", f.path, name, tv.DType())
		}
	}
	return out, shape, nil
}

// Tensor returns a tensor converted to float32, outside any graph.
func (f *TensorFile) Tensor(name string) (*Tensor, error) {
	v, shape, err := f.Float64(name)
	if err != nil {
		return nil, err
	}
	t := Zeros(shape...)
	for i, x := range v {
		t.data[i] = float32(x)
	}
	t.Name = name
	return t, nil
}

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		return float32(math.Copysign(float64(frac)*math.Pow(2, -24), float64(int32(sign)|1)))
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// WriteSafetensors writes tensors (as F32) with metadata to path
// atomically: a temporary file in the same folder is written, synced and
// renamed over path, so a crash leaves either the old or the new file.
// Tensors are stored in the order given; scalars have shape [].
func WriteSafetensors(path string, tensors []*Tensor, meta map[string]string) error {
	return WriteFileAtomic(path, func(f *os.File) error {
		w := bufio.NewWriterSize(f, 1<<20)
		if err := EncodeSafetensors(w, tensors, meta); err != nil {
			return err
		}
		return w.Flush()
	})
}

// EncodeSafetensors writes tensors (as F32) with metadata in the
// safetensors format: an 8-byte little-endian header length, a JSON header
// padded with spaces to a multiple of 8, then the raw data.
func EncodeSafetensors(w io.Writer, tensors []*Tensor, meta map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	if len(meta) > 0 {
		header["__metadata__"] = meta
	}
	offset := 0
	for _, t := range tensors {
		if t.Name == "" {
			return errors.New("a tensor has no name")
		}
		if _, dup := header[t.Name]; dup || t.Name == "__metadata__" {
			return fmt.Errorf("duplicate tensor name %q", t.Name)
		}
		shape := t.shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = map[string]any{"dtype": "F32", "shape": shape, "data_offsets": []int{offset, offset + 4*len(t.data)}}
		offset += 4 * len(t.data)
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(js)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range tensors {
		for _, v := range t.data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	_, err = w.Write(buf)
	return err
}

// WriteJSONAtomic writes v to path as indented JSON (two spaces) with a
// final newline, atomically (WriteFileAtomic).
func WriteJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("core: write %s: %w", path, err)
	}
	return WriteFileAtomic(path, func(f *os.File) error {
		_, err := f.Write(append(b, '\n'))
		return err
	})
}

// WriteFileAtomic creates path by calling write on a temporary file in the
// same folder, syncing it, and renaming it over path. On any error the
// temporary file is removed and path is untouched.
func WriteFileAtomic(path string, write func(f *os.File) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("core: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("core: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("core: write %s: sync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("core: write %s: close: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("core: write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
