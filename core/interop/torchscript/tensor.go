package torchscript

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DType is the element type of a tensor, named after its torch storage
// class.
type DType int

// The storage types of a TorchScript archive.
const (
	Float32 DType = iota
	Float64
	Float16
	BFloat16
	Int64
	Int32
	Int16
	Int8
	Uint8
	Bool
)

var dtypes = [...]struct {
	storage string // torch.<storage> in the pickle
	name    string
	size    int // bytes per element
}{
	Float32:  {"FloatStorage", "float32", 4},
	Float64:  {"DoubleStorage", "float64", 8},
	Float16:  {"HalfStorage", "float16", 2},
	BFloat16: {"BFloat16Storage", "bfloat16", 2},
	Int64:    {"LongStorage", "int64", 8},
	Int32:    {"IntStorage", "int32", 4},
	Int16:    {"ShortStorage", "int16", 2},
	Int8:     {"CharStorage", "int8", 1},
	Uint8:    {"ByteStorage", "uint8", 1},
	Bool:     {"BoolStorage", "bool", 1},
}

// String returns the type's name ("float32", "int64", …).
func (d DType) String() string {
	if d >= 0 && int(d) < len(dtypes) {
		return dtypes[d].name
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// Size returns the bytes per element.
func (d DType) Size() int { return dtypes[d].size }

// IsFloat reports whether the type is a floating-point one.
func (d DType) IsFloat() bool { return d <= BFloat16 }

// storageDType returns the type of the torch storage class name, e.g.
// "FloatStorage".
func storageDType(name string) (DType, bool) {
	for i, d := range dtypes {
		if d.storage == name {
			return DType(i), true
		}
	}
	return 0, false
}

// Tensor is a dense, row-major copy of a tensor of the archive.
type Tensor struct {
	// DType is the element type of its storage.
	DType DType
	// Shape is its size; a scalar has an empty shape.
	Shape []int
	// Storage is the key of its storage record (data/<Storage>).
	Storage string

	f32 []float32 // floating-point types except float64
	f64 []float64
	i64 []int64 // integer and bool types
}

// Len returns the number of elements.
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32 returns the values as float32: the tensor's own slice for
// float32, float16 and bfloat16 tensors (do not modify it), a converted
// copy for the others.
func (t *Tensor) Float32() []float32 {
	switch {
	case t.f32 != nil:
		return t.f32
	case t.f64 != nil:
		out := make([]float32, len(t.f64))
		for i, v := range t.f64 {
			out[i] = float32(v)
		}
		return out
	}
	out := make([]float32, len(t.i64))
	for i, v := range t.i64 {
		out[i] = float32(v)
	}
	return out
}

// Float64 returns a copy of the values as float64.
func (t *Tensor) Float64() []float64 {
	out := make([]float64, t.Len())
	switch {
	case t.f32 != nil:
		for i, v := range t.f32 {
			out[i] = float64(v)
		}
	case t.f64 != nil:
		copy(out, t.f64)
	default:
		for i, v := range t.i64 {
			out[i] = float64(v)
		}
	}
	return out
}

// Int64 returns the values of an integer or bool tensor (do not modify
// them); ok is false for a floating-point tensor.
func (t *Tensor) Int64() (v []int64, ok bool) {
	if t.DType.IsFloat() {
		return nil, false
	}
	return t.i64, true
}

// String describes the tensor: "float32 (16, 8, 3)".
func (t *Tensor) String() string {
	parts := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		parts[i] = strconv.Itoa(d)
	}
	return t.DType.String() + " (" + strings.Join(parts, ", ") + ")"
}

// storage is a loaded storage record.
type storage struct {
	dtype DType
	key   string
	numel int
	data  []byte
	order binary.ByteOrder
}

// maxExpand bounds the elements of all tensors relative to their
// storages: views with zero strides (expanded tensors) may repeat storage
// elements, but not without limit.
const maxExpand = 4

// view gathers the tensor (offset, size, stride) of s into a dense Tensor,
// taking its elements from budget.
func (s *storage) view(offset int, size, stride []int, budget *int) (*Tensor, error) {
	if len(size) != len(stride) {
		return nil, fmt.Errorf("tensor has %d sizes and %d strides", len(size), len(stride))
	}
	if len(size) > 64 {
		return nil, fmt.Errorf("tensor has %d dimensions", len(size))
	}
	n, last := 1, offset
	for d, k := range size {
		if k < 0 || stride[d] < 0 {
			return nil, fmt.Errorf("tensor has size %v and stride %v", size, stride)
		}
		if k == 0 {
			n = 0
			continue
		}
		if n > 0 && k > (math.MaxInt32)/n {
			return nil, fmt.Errorf("tensor of size %v is too large", size)
		}
		n *= k
		if stride[d] > 0 && k-1 > (math.MaxInt32-last)/stride[d] {
			return nil, fmt.Errorf("tensor of size %v and stride %v is too large", size, stride)
		}
		last += (k - 1) * stride[d]
	}
	if offset < 0 || offset > s.numel || n > 0 && last >= s.numel {
		return nil, fmt.Errorf("tensor (offset %d, size %v, stride %v) lies outside its storage %s of %d elements", offset, size, stride, s.key, s.numel)
	}
	if n > *budget {
		return nil, fmt.Errorf("tensor of size %v over storage %s of %d elements: the tensors hold more than %d times the elements of their storages", size, s.key, s.numel, maxExpand)
	}
	*budget -= n
	t := &Tensor{DType: s.dtype, Shape: append([]int{}, size...), Storage: s.key}
	set := s.setter(t, n)
	if n == 0 {
		return t, nil
	}
	// Walk the elements in row-major order.
	idx := make([]int, len(size))
	off := offset
	for i := range n {
		set(i, off)
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			off += stride[d]
			if idx[d] < size[d] {
				break
			}
			off -= size[d] * stride[d]
			idx[d] = 0
		}
	}
	return t, nil
}

// setter allocates n values of t's type and returns the function that
// sets value i from storage element k.
func (s *storage) setter(t *Tensor, n int) func(i, k int) {
	b, o := s.data, s.order
	switch s.dtype {
	case Float32:
		t.f32 = make([]float32, n)
		return func(i, k int) { t.f32[i] = math.Float32frombits(o.Uint32(b[4*k:])) }
	case Float16:
		t.f32 = make([]float32, n)
		return func(i, k int) { t.f32[i] = halfToFloat(o.Uint16(b[2*k:])) }
	case BFloat16:
		t.f32 = make([]float32, n)
		return func(i, k int) { t.f32[i] = math.Float32frombits(uint32(o.Uint16(b[2*k:])) << 16) }
	case Float64:
		t.f64 = make([]float64, n)
		return func(i, k int) { t.f64[i] = math.Float64frombits(o.Uint64(b[8*k:])) }
	}
	t.i64 = make([]int64, n)
	switch s.dtype {
	case Int64:
		return func(i, k int) { t.i64[i] = int64(o.Uint64(b[8*k:])) }
	case Int32:
		return func(i, k int) { t.i64[i] = int64(int32(o.Uint32(b[4*k:]))) }
	case Int16:
		return func(i, k int) { t.i64[i] = int64(int16(o.Uint16(b[2*k:]))) }
	case Int8:
		return func(i, k int) { t.i64[i] = int64(int8(b[k])) }
	case Bool:
		return func(i, k int) {
			if b[k] != 0 {
				t.i64[i] = 1
			}
		}
	}
	return func(i, k int) { t.i64[i] = int64(b[k]) } // Uint8
}

// halfToFloat converts an IEEE 754 binary16 value to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: normalise.
	e := uint32(113)
	for frac&0x400 == 0 {
		frac <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
}
