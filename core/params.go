package core

import (
	"fmt"
	"slices"
)

// ParamSet owns the parameters of a model in one flat slab, with a parallel
// gradient slab: each parameter tensor is a named view into both. Zeroing all
// gradients is one clear and a checkpoint is one write.
type ParamSet struct {
	data, grad []float32
	params     []*Tensor
	offsets    []int
	index      map[string]int
	allocated  bool
}

// NewParamSet returns an empty set.
func NewParamSet() *ParamSet { return &ParamSet{index: map[string]int{}} }

// Add declares a parameter; its storage exists after Alloc. Names must be
// unique (the reference state_dict key, by convention).
func (ps *ParamSet) Add(name string, shape ...int) *Tensor {
	if ps.allocated {
		panic("core: ParamSet.Add after Alloc")
	}
	if _, dup := ps.index[name]; dup {
		panic(fmt.Sprintf("core: ParamSet: duplicate parameter %q", name))
	}
	t := &Tensor{shape: slices.Clone(shape), Name: name, requiresGrad: true}
	ps.index[name] = len(ps.params)
	ps.params = append(ps.params, t)
	return t
}

// Alloc allocates the slabs and points every declared parameter at its view.
func (ps *ParamSet) Alloc() {
	if ps.allocated {
		return
	}
	total := 0
	ps.offsets = make([]int, len(ps.params)+1)
	for i, p := range ps.params {
		ps.offsets[i] = total
		total += numel(p.shape)
	}
	ps.offsets[len(ps.params)] = total
	ps.data = make([]float32, total)
	ps.grad = make([]float32, total)
	for i, p := range ps.params {
		lo, hi := ps.offsets[i], ps.offsets[i+1]
		p.data = ps.data[lo:hi:hi]
		p.grad = ps.grad[lo:hi:hi]
		p.value = nil
	}
	ps.allocated = true
}

// ShareData points ps's parameters at src's data slab while ps keeps its
// own gradient slab: ps becomes a replica of src's weights (an update of
// either is seen by both) whose backward passes accumulate separately, as
// data-parallel training needs. Both sets must be allocated and declare the
// same parameters, with the same shapes, in the same order.
func (ps *ParamSet) ShareData(src *ParamSet) error {
	if !ps.allocated || !src.allocated {
		return fmt.Errorf("core: ParamSet.ShareData before Alloc")
	}
	if len(ps.params) != len(src.params) {
		return fmt.Errorf("core: ParamSet.ShareData: %d parameters, source has %d", len(ps.params), len(src.params))
	}
	for i, p := range ps.params {
		if q := src.params[i]; p.Name != q.Name || !slices.Equal(p.shape, q.shape) {
			return fmt.Errorf("core: ParamSet.ShareData: parameter %d is %s %v, source has %s %v", i, p.Name, p.shape, q.Name, q.shape)
		}
	}
	ps.data = src.data
	for i, p := range ps.params {
		lo, hi := ps.offsets[i], ps.offsets[i+1]
		p.data = ps.data[lo:hi:hi]
		p.value = nil
	}
	return nil
}

// Data returns the parameter slab.
func (ps *ParamSet) Data() []float32 { return ps.data }

// Grad returns the gradient slab.
func (ps *ParamSet) Grad() []float32 { return ps.grad }

// Params returns the parameters in declaration order.
func (ps *ParamSet) Params() []*Tensor { return ps.params }

// Range returns the slab range [lo, hi) of parameter i.
func (ps *ParamSet) Range(i int) (lo, hi int) { return ps.offsets[i], ps.offsets[i+1] }

// Get returns the parameter with the given name, or nil.
func (ps *ParamSet) Get(name string) *Tensor {
	if i, ok := ps.index[name]; ok {
		return ps.params[i]
	}
	return nil
}

// ZeroGrad clears every gradient.
func (ps *ParamSet) ZeroGrad() {
	g := ps.grad
	parallelElems(len(g), 1, func(lo, hi int) { clear(g[lo:hi]) })
}

// Count returns the number of scalar parameters.
func (ps *ParamSet) Count() int { return len(ps.data) }
