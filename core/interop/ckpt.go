package interop

import (
	"fmt"
	"io"
	"math/big"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// readCheckpoint reads a PyTorch zip checkpoint (a Lightning .ckpt or a
// plain torch.save of a state dict). Lightning's AttributeDict (the
// hyper_parameters) becomes a plain dict and every other unknown class a
// generic object, so the callback and loop states of a Lightning file do
// not stop the load.
func readCheckpoint(src string) (*stateDict, error) {
	obj, err := pytorch.LoadWithUnpickler(src, func(r io.Reader) pickle.Unpickler {
		u := pickle.NewUnpickler(r)
		u.FindClass = findClass
		return u
	})
	if err != nil {
		return nil, fmt.Errorf("interop: import %s: %w", src, err)
	}
	sd := newStateDict()
	root := asMap(obj)
	if root == nil {
		return nil, fmt.Errorf("interop: import %s: the checkpoint is a %T, not a dict", src, obj)
	}
	weights := root
	if s, ok := root["state_dict"]; ok {
		weights = asMap(s)
		if weights == nil {
			return nil, fmt.Errorf("interop: import %s: state_dict is a %T, not a dict", src, s)
		}
	}
	for name, v := range weights {
		t, ok := v.(*pytorch.Tensor)
		if !ok {
			continue
		}
		st, err := denseTensor(t)
		if err != nil {
			return nil, fmt.Errorf("interop: import %s: tensor %q: %w", src, name, err)
		}
		sd.tensors[name] = st
	}
	if len(sd.tensors) == 0 {
		return nil, fmt.Errorf("interop: import %s: no tensors found (expected a state_dict)", src)
	}
	if hp := asMap(root["hyper_parameters"]); hp != nil {
		sd.hparams = map[string]any{}
		for k, v := range hp {
			if jv, ok := jsonValue(v); ok {
				sd.hparams[k] = jv
			}
		}
	}
	if s, ok := root["global_step"].(int); ok {
		sd.step = int64(s)
	}
	return sd, nil
}

// findClass resolves the classes a Lightning checkpoint refers to beyond
// torch's own (which gopickle's pytorch package resolves first).
func findClass(module, name string) (any, error) {
	switch {
	case name == "AttributeDict":
		return dictClass{}, nil
	case module == "torch._utils" && name == "_rebuild_parameter":
		return rebuildParameter{}, nil
	}
	return &genericClass{module: module, name: name}, nil
}

// dictClass builds a plain dict (for dict subclasses such as
// AttributeDict).
type dictClass struct{}

func (dictClass) PyNew(...any) (any, error) { return types.NewDict(), nil }
func (dictClass) Call(...any) (any, error)  { return types.NewDict(), nil }

// rebuildParameter is torch._utils._rebuild_parameter: the tensor itself.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("_rebuild_parameter without arguments")
	}
	return args[0], nil
}

// genericClass stands for any other class: constructing or calling it
// gives an object that accepts (and keeps) whatever state is set on it.
type genericClass struct{ module, name string }

type genericObject struct {
	class *genericClass
	args  []any
	dict  map[any]any
	state any
}

func (c *genericClass) PyNew(args ...any) (any, error) {
	return &genericObject{class: c, args: args, dict: map[any]any{}}, nil
}

func (c *genericClass) Call(args ...any) (any, error) { return c.PyNew(args...) }

func (o *genericObject) PyDictSet(k, v any) error { o.dict[k] = v; return nil }
func (o *genericObject) PySetState(s any) error   { o.state = s; return nil }
func (o *genericObject) PySetAttr(k string, v any) error {
	o.dict[k] = v
	return nil
}

// asMap converts the pickle dict types to a Go map with string keys, or
// returns nil.
func asMap(v any) map[string]any {
	out := map[string]any{}
	switch d := v.(type) {
	case *types.Dict:
		for _, e := range *d {
			if k, ok := e.Key.(string); ok {
				out[k] = e.Value
			}
		}
	case *types.OrderedDict:
		for k, e := range d.Map {
			if ks, ok := k.(string); ok {
				out[ks] = e.Value
			}
		}
	case map[any]any:
		for k, e := range d {
			if ks, ok := k.(string); ok {
				out[ks] = e
			}
		}
	default:
		return nil
	}
	return out
}

// jsonValue converts a pickled hyper-parameter to a JSON-compatible value.
func jsonValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool, string, float64:
		return x, true
	case int:
		return float64(x), true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case *types.List:
		return jsonList(*x)
	case *types.Tuple:
		return jsonList(*x)
	}
	return nil, false
}

func jsonList(items []any) (any, bool) {
	out := make([]any, 0, len(items))
	for _, it := range items {
		j, ok := jsonValue(it)
		if !ok {
			return nil, false
		}
		out = append(out, j)
	}
	return out, true
}

// denseTensor gathers a (possibly strided) PyTorch tensor into a dense
// row-major float32 array.
func denseTensor(t *pytorch.Tensor) (stateTensor, error) {
	n := 1
	for _, d := range t.Size {
		n *= d
	}
	at, err := storageReader(t.Source)
	if err != nil {
		return stateTensor{}, err
	}
	out := make([]float32, n)
	idx := make([]int, len(t.Size))
	for i := range out {
		off := t.StorageOffset
		for d, k := range idx {
			off += k * t.Stride[d]
		}
		v, ok := at(off)
		if !ok {
			return stateTensor{}, fmt.Errorf("storage offset %d out of range", off)
		}
		out[i] = v
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.Size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return stateTensor{shape: append([]int{}, t.Size...), data: out}, nil
}

// storageReader returns an accessor for the storage's element i as float32.
func storageReader(s pytorch.StorageInterface) (func(i int) (float32, bool), error) {
	var f32 []float32 // float, half and bfloat16 storages hold float32 values
	switch st := s.(type) {
	case *pytorch.FloatStorage:
		f32 = st.Data
	case *pytorch.HalfStorage:
		f32 = st.Data
	case *pytorch.BFloat16Storage:
		f32 = st.Data
	case *pytorch.DoubleStorage:
		return at(st.Data), nil
	case *pytorch.LongStorage:
		return at(st.Data), nil
	case *pytorch.IntStorage:
		return at(st.Data), nil
	default:
		return nil, fmt.Errorf("unsupported storage type %T", s)
	}
	return at(f32), nil
}

// at returns an accessor for data[i] as float32 (false out of range).
func at[T float32 | float64 | int64 | int32](data []T) func(i int) (float32, bool) {
	return func(i int) (float32, bool) {
		if i < 0 || i >= len(data) {
			return 0, false
		}
		return float32(data[i]), true
	}
}
