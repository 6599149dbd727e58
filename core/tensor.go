package core

import (
	"fmt"
	"math/rand/v2"

	"gorgonia.org/tensor"
)

// Tensor is a float32 array with an optional gradient. Its value is stored
// in a gorgonia *tensor.Dense; Data returns the backing slice.
type Tensor struct {
	value        *tensor.Dense
	data         []float32
	shape        []int
	grad         []float32
	requiresGrad bool
	// arena, when set, is the recycling pool of the tape that made this
	// tensor: its gradient is taken from there and handed back once the
	// backward pass no longer needs it (gradPooled).
	arena      *arena
	gradPooled bool
	// Name labels the tensor in error messages and checkpoints.
	Name string
}

// New returns a tensor of the given shape backed by data. If data is nil a
// zero-filled slice is allocated; otherwise its length must equal the
// product of shape. A shape of length zero is a scalar.
func New(data []float32, shape ...int) *Tensor {
	n := numel(shape)
	if data == nil {
		data = make([]float32, n)
	}
	if len(data) != n {
		panic(fmt.Sprintf("core: New: %d values for shape %v (needs %d)", len(data), shape, n))
	}
	return newTensor(data, shape)
}

func newTensor(data []float32, shape []int) *Tensor {
	s := append([]int(nil), shape...)
	return &Tensor{data: data, shape: s}
}

// Zeros returns a zero-filled tensor of the given shape.
func Zeros(shape ...int) *Tensor { return New(nil, shape...) }

// Scalar returns a 0-dimensional tensor holding v.
func Scalar(v float32) *Tensor { return New([]float32{v}) }

// Randn returns a tensor of standard normal values drawn from rng.
func Randn(rng *rand.Rand, shape ...int) *Tensor {
	t := Zeros(shape...)
	for i := range t.data {
		t.data[i] = float32(rng.NormFloat64())
	}
	return t
}

// FromDense wraps a float32 gorgonia tensor without copying.
func FromDense(d *tensor.Dense) *Tensor {
	data, ok := d.Data().([]float32)
	if !ok {
		panic(fmt.Sprintf("core: FromDense: dtype %v, want float32", d.Dtype()))
	}
	t := newTensor(data, d.Shape())
	t.value = d
	return t
}

// Dense returns the tensor's value as a gorgonia *tensor.Dense sharing the
// same backing slice.
func (t *Tensor) Dense() *tensor.Dense {
	if t.value == nil {
		shape := t.shape
		if len(shape) == 0 {
			shape = []int{1}
		}
		t.value = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(t.data))
	}
	return t.value
}

// Data returns the backing slice of the value (row-major).
func (t *Tensor) Data() []float32 { return t.data }

// Grad returns the gradient slice, or nil if none has been accumulated.
func (t *Tensor) Grad() []float32 { return t.grad }

// Shape returns the dimensions. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.data) }

// Item returns the value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if len(t.data) != 1 {
		panic(fmt.Sprintf("core: Item: tensor has %d elements", len(t.data)))
	}
	return t.data[0]
}

// RequiresGrad reports whether gradients flow into this tensor.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// SetRequiresGrad marks the tensor as a leaf that receives gradients. It
// returns t for chaining.
func (t *Tensor) SetRequiresGrad(on bool) *Tensor {
	t.requiresGrad = on
	return t
}

// SetGrad makes g the tensor's gradient storage (for example a view into a
// gradient slab). Its length must equal Len.
func (t *Tensor) SetGrad(g []float32) {
	if g != nil && len(g) != len(t.data) {
		panic(fmt.Sprintf("core: SetGrad: %d values for %d elements", len(g), len(t.data)))
	}
	t.grad = g
	t.gradPooled = false
}

// ZeroGrad sets the gradient to zero if it exists.
func (t *Tensor) ZeroGrad() { clear(t.grad) }

// ensureGrad allocates the gradient on first use.
func (t *Tensor) ensureGrad() []float32 {
	if t.grad == nil {
		if t.arena != nil {
			t.grad = t.arena.getZeroed(len(t.data))
			t.gradPooled = true
		} else {
			t.grad = make([]float32, len(t.data))
		}
	}
	return t.grad
}

// gradIfRequired is gradOut for a tensor that requires a gradient, and
// no buffer otherwise.
func (t *Tensor) gradIfRequired() (g []float32, fresh bool) {
	if !t.requiresGrad {
		return nil, false
	}
	return t.gradOut()
}

// gradOut returns the gradient for an op that will write every element of
// it. When the gradient does not exist yet and comes from the tape's arena
// it is not cleared and fresh is true: the op must zero (or assign) each
// range before adding into it, which it can do while the range is in cache.
func (t *Tensor) gradOut() (g []float32, fresh bool) {
	if t.grad == nil && t.arena != nil {
		t.grad = t.arena.get(len(t.data))
		t.gradPooled = true
		return t.grad, true
	}
	return t.ensureGrad(), false
}

// Detach returns a tensor sharing the value but outside the graph.
func (t *Tensor) Detach() *Tensor { return newTensor(t.data, t.shape) }

// Clone returns a deep copy of the value, outside the graph.
func (t *Tensor) Clone() *Tensor {
	return newTensor(append([]float32(nil), t.data...), t.shape)
}

// String describes the tensor briefly.
func (t *Tensor) String() string {
	if t.Name != "" {
		return fmt.Sprintf("%s%v", t.Name, t.shape)
	}
	return fmt.Sprintf("tensor%v", t.shape)
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("core: negative dimension in shape %v", shape))
		}
		n *= d
	}
	return n
}

// EnsureGrad returns the gradient slice, allocating a zero one on first use.
// Ops defined outside this package accumulate into it.
func (t *Tensor) EnsureGrad() []float32 { return t.ensureGrad() }
