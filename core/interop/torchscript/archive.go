package torchscript

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// Limits on what Read accepts.
const (
	// maxPickle is the largest data.pkl or constants.pkl (the module tree,
	// not the weights).
	maxPickle = 256 << 20
	// maxCode is the largest code record whose declarations are parsed.
	maxCode = 16 << 20
	// maxDepth bounds the nesting of modules and values.
	maxDepth = 256
)

// ErrNotTorchScript is wrapped by the error of a zip archive that is not a
// TorchScript archive (a torch.save checkpoint, a NumPy .npz, …).
var ErrNotTorchScript = errors.New("not a TorchScript archive")

// Archive is a TorchScript archive.
type Archive struct {
	// Name is the folder of its records (torch.jit.save uses the file
	// name without extension, older versions "archive").
	Name string
	// Version is the serialisation format version (the version record).
	Version int
	// Root is the top module.
	Root *Module
	// Constants are the values of constants.pkl (tensor constants of the
	// code), usually none.
	Constants []any

	classes map[string]*Class
}

// Module is an object of the module tree: a torch.nn.Module (or another
// scripted class) with its attributes in pickle order.
type Module struct {
	// Class is the qualified class name, e.g.
	// "__torch__.cached_conv.convs.___torch_mangle_12.Conv1d".
	Class string
	// Path is the dotted path from the root ("" for the root), e.g.
	// "decoder.net.2".
	Path string
	// Attrs are its attributes: submodules (*Module), tensors (*Tensor),
	// nil, bool, int64, float64, string, []byte, *big.Int, lists and
	// tuples ([]any) and dicts (Dict).
	Attrs []Attr
	// Decl is its class declaration, nil when the archive has no code for
	// it.
	Decl *Class
}

// Attr is a named attribute of a module.
type Attr struct {
	Name  string
	Value any
}

// Dict is a dict attribute, in pickle order.
type Dict []DictItem

// DictItem is one key/value pair of a Dict.
type DictItem struct{ Key, Value any }

// NamedTensor is a tensor with its dotted name in the module tree.
type NamedTensor struct {
	Name string
	*Tensor
}

var mangle = regexp.MustCompile(`___torch_mangle_\d+\.`)

// Type returns the class name without the __torch__ prefix and without
// mangling: "cached_conv.convs.Conv1d", "torch.nn.modules.activation.LeakyReLU",
// "TraceModel".
func (m *Module) Type() string {
	return strings.TrimPrefix(mangle.ReplaceAllString(m.Class, ""), "__torch__.")
}

// Get returns the attribute name.
func (m *Module) Get(name string) (any, bool) {
	for _, a := range m.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return nil, false
}

// Submodule returns the attribute name if it is a module, or nil.
func (m *Module) Submodule(name string) *Module {
	v, _ := m.Get(name)
	s, _ := v.(*Module)
	return s
}

// Submodules returns the module-valued attributes in order.
func (m *Module) Submodules() []*Module {
	var out []*Module
	for _, a := range m.Attrs {
		if s, ok := a.Value.(*Module); ok {
			out = append(out, s)
		}
	}
	return out
}

// Lookup returns the module at the dotted path relative to m ("" is m),
// or nil.
func (m *Module) Lookup(path string) *Module {
	if path == "" {
		return m
	}
	cur := m
	for p := range strings.SplitSeq(path, ".") {
		if cur = cur.Submodule(p); cur == nil {
			return nil
		}
	}
	return cur
}

// Tensor returns the tensor attribute name, or nil.
func (m *Module) Tensor(name string) *Tensor {
	v, _ := m.Get(name)
	t, _ := v.(*Tensor)
	return t
}

// Int returns an int attribute.
func (m *Module) Int(name string) (int, bool) {
	v, _ := m.Get(name)
	i, ok := v.(int64)
	return int(i), ok
}

// Bool returns a bool attribute.
func (m *Module) Bool(name string) (value, ok bool) {
	v, _ := m.Get(name)
	value, ok = v.(bool)
	return value, ok
}

// String returns a string attribute.
func (m *Module) String(name string) (string, bool) {
	v, _ := m.Get(name)
	s, ok := v.(string)
	return s, ok
}

// Tensors returns every tensor of m and its submodules with its dotted
// name relative to m, in tree order (as state_dict names them, buffers
// and parameters alike).
func (m *Module) Tensors() []NamedTensor {
	var out []NamedTensor
	var walk func(mod *Module, prefix string)
	walk = func(mod *Module, prefix string) {
		for _, a := range mod.Attrs {
			switch v := a.Value.(type) {
			case *Tensor:
				out = append(out, NamedTensor{Name: prefix + a.Name, Tensor: v})
			case *Module:
				walk(v, prefix+a.Name+".")
			}
		}
	}
	walk(m, "")
	return out
}

// Walk calls f for m and every module below it, parents first.
func (m *Module) Walk(f func(*Module) error) error {
	if err := f(m); err != nil {
		return err
	}
	for _, s := range m.Submodules() {
		if err := s.Walk(f); err != nil {
			return err
		}
	}
	return nil
}

// Class returns the declaration of a qualified class name, or nil.
func (a *Archive) Class(name string) *Class { return a.classes[name] }

// Open reads the TorchScript archive at path.
func Open(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("torchscript: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("torchscript: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("torchscript: %s is a folder", path)
	}
	return Read(f, st.Size(), path)
}

// Read reads a TorchScript archive of size bytes from r; name names it in
// errors.
func Read(r io.ReaderAt, size int64, name string) (*Archive, error) {
	a, err := read(r, size)
	if err != nil {
		return nil, fmt.Errorf("torchscript: %s: %w", name, err)
	}
	return a, nil
}

func read(r io.ReaderAt, size int64) (*Archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a zip archive, or cut short (%w)", err)
	}
	rd := &reader{size: size, files: map[string]*zip.File{}, storages: map[string]*storage{}, order: binary.LittleEndian}
	for _, f := range zr.File {
		rd.files[f.Name] = f
	}
	if err := rd.findRoot(zr.File); err != nil {
		return nil, err
	}
	a := &Archive{Name: rd.root, classes: map[string]*Class{}}
	rd.archive = a
	if v, err := rd.record("version", 64); err == nil {
		a.Version, err = strconv.Atoi(strings.TrimSpace(string(v)))
		if err != nil {
			return nil, fmt.Errorf("version record %q is not a number", v)
		}
	} else if !errors.Is(err, errNoRecord) {
		return nil, err
	}
	if b, err := rd.record("byteorder", 64); err == nil {
		switch strings.TrimSpace(string(b)) {
		case "little":
		case "big":
			rd.order = binary.BigEndian
		default:
			return nil, fmt.Errorf("byteorder record %q is neither little nor big", b)
		}
	} else if !errors.Is(err, errNoRecord) {
		return nil, err
	}
	root, err := rd.unpickle("data.pkl")
	if err != nil {
		return nil, err
	}
	mod, ok := root.(*object)
	if !ok {
		return nil, fmt.Errorf("data.pkl holds a %s, not a module", describe(root))
	}
	conv := &converter{rd: rd, done: map[any]any{}, active: map[any]bool{}, paths: map[*object]string{}, budget: 1 << 20}
	conv.budget += maxExpand * rd.numel
	v, err := conv.value(mod, "", 0)
	if err != nil {
		return nil, err
	}
	a.Root = v.(*Module)
	if _, ok := rd.files[rd.root+"/constants.pkl"]; ok {
		before := rd.numel
		c, err := rd.unpickle("constants.pkl")
		if err != nil {
			return nil, err
		}
		conv.budget += maxExpand * (rd.numel - before)
		cv, err := conv.value(c, "constants", 0)
		if err != nil {
			return nil, err
		}
		if list, ok := cv.([]any); ok {
			a.Constants = list
		} else {
			a.Constants = []any{cv}
		}
	}
	return a, nil
}

// reader holds the state of one Read.
type reader struct {
	size     int64
	files    map[string]*zip.File
	root     string
	archive  *Archive
	storages map[string]*storage
	order    binary.ByteOrder
	code     map[string]string // code records read, by path
	numel    int               // elements of the storages loaded
}

var errNoRecord = errors.New("no such record")

// findRoot finds the folder holding data.pkl and checks that it is a
// TorchScript archive (constants.pkl or code/ beside data.pkl).
func (rd *reader) findRoot(files []*zip.File) error {
	var roots []string
	for _, f := range files {
		dir, base := path.Split(f.Name)
		if base == "data.pkl" && strings.Count(dir, "/") == 1 {
			roots = append(roots, strings.TrimSuffix(dir, "/"))
		}
	}
	if len(roots) == 0 {
		return fmt.Errorf("%w: no data.pkl in the zip", ErrNotTorchScript)
	}
	for _, root := range roots {
		if _, ok := rd.files[root+"/constants.pkl"]; ok {
			rd.root = root
			return nil
		}
		for name := range rd.files {
			if strings.HasPrefix(name, root+"/code/") {
				rd.root = root
				return nil
			}
		}
	}
	return fmt.Errorf("%w: it has data.pkl but neither constants.pkl nor code (a torch.save checkpoint?)", ErrNotTorchScript)
}

// record reads the record name (relative to the root folder), refusing one
// of more than limit bytes.
func (rd *reader) record(name string, limit int64) ([]byte, error) {
	f, ok := rd.files[rd.root+"/"+name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", errNoRecord, name)
	}
	return rd.readFile(f, limit)
}

// readFile reads a zip entry of at most limit bytes without trusting its
// declared sizes for the allocation.
func (rd *reader) readFile(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("record %s of %d bytes is too large", f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", f.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if f.Method == zip.Store && f.UncompressedSize64 <= uint64(rd.size) {
		buf.Grow(int(f.UncompressedSize64))
	}
	if _, err := io.Copy(&buf, io.LimitReader(rc, limit+1)); err != nil {
		return nil, fmt.Errorf("record %s: %w", f.Name, err)
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("record %s is too large", f.Name)
	}
	return buf.Bytes(), nil
}

// unpickle reads and unpickles the record name.
func (rd *reader) unpickle(name string) (v any, err error) {
	p, err := rd.record(name, maxPickle)
	if err != nil {
		return nil, err
	}
	if err := scanPickle(p); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	u := pickle.NewUnpickler(bytes.NewReader(p))
	u.FindClass = findClass
	u.PersistentLoad = rd.persistentLoad
	defer func() {
		// gopickle trusts the opcodes' operands; scanPickle checked the
		// lengths, a type it does not expect still panics.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%s: malformed pickle (%v)", name, r)
		}
	}()
	v, err = u.Load()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// persistentLoad loads the storage of a persistent id ('storage',
// storage class, key, device, numel).
func (rd *reader) persistentLoad(id any) (any, error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return nil, fmt.Errorf("persistent id %s is not a storage tuple", describe(id))
	}
	kind, _ := t.Get(0).(string)
	cls, okc := t.Get(1).(storageClass)
	key, okk := t.Get(2).(string)
	numel, okn := t.Get(4).(int)
	if kind != "storage" || !okc || !okk || !okn {
		return nil, fmt.Errorf("persistent id %s is not a storage tuple", describe(id))
	}
	if s, ok := rd.storages[key]; ok {
		if s.dtype != cls.dtype || s.numel != numel {
			return nil, fmt.Errorf("storage %s is referenced as %s of %d elements and as %s of %d", key, s.dtype, s.numel, cls.dtype, numel)
		}
		return s, nil
	}
	f, ok := rd.files[rd.root+"/data/"+key]
	if !ok {
		return nil, fmt.Errorf("storage %s: no record data/%s", key, key)
	}
	size := int64(cls.dtype.Size())
	if numel < 0 || int64(numel) > rd.size*1100/size+1 || int64(numel)*size != int64(f.UncompressedSize64) {
		return nil, fmt.Errorf("storage %s: %d %s elements do not fill its record of %d bytes", key, numel, cls.dtype, f.UncompressedSize64)
	}
	data, err := rd.readFile(f, int64(numel)*size)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != int64(numel)*size {
		return nil, fmt.Errorf("storage %s: record data/%s holds %d bytes, want %d", key, key, len(data), int64(numel)*size)
	}
	s := &storage{dtype: cls.dtype, key: key, numel: numel, data: data, order: rd.order}
	rd.storages[key] = s
	rd.numel += numel
	return s, nil
}

// declaration returns the class declaration of a qualified class name,
// parsing its code record once; nil without code.
func (rd *reader) declaration(qualified string) *Class {
	if c, ok := rd.archive.classes[qualified]; ok {
		return c
	}
	var decl *Class
	if file, class, ok := codePath(qualified); ok {
		if rd.code == nil {
			rd.code = map[string]string{}
		}
		src, ok := rd.code[file]
		if !ok {
			if b, err := rd.record(file, maxCode); err == nil {
				src = string(b)
			}
			rd.code[file] = src
		}
		if c, found := parseClass(src, qualified, class); found {
			decl = c
		}
	}
	rd.archive.classes[qualified] = decl
	return decl
}

// Pickle classes.

// storageClass is torch.<Type>Storage.
type storageClass struct{ dtype DType }

// object is an instance of a __torch__ class.
type object struct {
	class string
	state any
}

func (o *object) PySetState(s any) error { o.state = s; return nil }

// torchClass is a __torch__ class.
type torchClass struct{ name string }

func (c torchClass) PyNew(...any) (any, error) { return &object{class: c.name}, nil }

// rebuildTensor is torch._utils._rebuild_tensor_v2.
type rebuildTensor struct{}

// tensorRef is a rebuilt tensor before it is densified.
type tensorRef struct {
	s      *storage
	offset int
	size   []int
	stride []int
}

func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 with %d arguments", len(args))
	}
	s, ok := args[0].(*storage)
	off, okOff := args[1].(int)
	size, okSize := intTuple(args[2])
	stride, okStride := intTuple(args[3])
	if !ok || !okOff || !okSize || !okStride {
		return nil, fmt.Errorf("_rebuild_tensor_v2 with arguments %s", describe(args))
	}
	return &tensorRef{s: s, offset: off, size: size, stride: stride}, nil
}

func intTuple(v any) ([]int, bool) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, false
	}
	out := make([]int, t.Len())
	for i := range out {
		if out[i], ok = t.Get(i).(int); !ok {
			return nil, false
		}
	}
	return out, true
}

// passThrough is torch.jit._pickle.restore_type_tag and build_*list: the
// first argument itself.
type passThrough struct{ name string }

func (p passThrough) Call(args ...any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%s without arguments", p.name)
	}
	return args[0], nil
}

// findClass resolves the globals of a TorchScript pickle; any other is
// refused.
func findClass(module, name string) (any, error) {
	switch {
	case strings.HasPrefix(module, "__torch__"):
		return torchClass{name: module + "." + name}, nil
	case module == "torch._utils" && name == "_rebuild_tensor_v2":
		return rebuildTensor{}, nil
	case module == "torch":
		if d, ok := storageDType(name); ok {
			return storageClass{dtype: d}, nil
		}
	case module == "collections" && name == "OrderedDict":
		return &types.OrderedDictClass{}, nil
	case module == "torch.jit._pickle" && (name == "restore_type_tag" || strings.HasPrefix(name, "build_") && strings.HasSuffix(name, "list")):
		return passThrough{name: name}, nil
	}
	return nil, fmt.Errorf("unsupported global %s.%s", module, name)
}

// converter turns unpickled values into the package's types.
type converter struct {
	rd     *reader
	done   map[any]any // converted values, by pointer
	active map[any]bool
	paths  map[*object]string
	// budget is the number of tensor elements left to densify.
	budget int
}

// value converts v found at path (a module path for modules).
func (c *converter) value(v any, path string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: values nested more than %d deep", path, maxDepth)
	}
	switch x := v.(type) {
	case nil, bool, float64, string:
		return x, nil
	case int:
		return int64(x), nil
	case *big.Int:
		if x.IsInt64() {
			return x.Int64(), nil
		}
		return new(big.Int).Set(x), nil
	case *types.ByteArray:
		return slices.Clone([]byte(*x)), nil
	case []byte:
		return slices.Clone(x), nil
	case *tensorRef:
		if t, ok := c.done[x]; ok {
			return t, nil
		}
		t, err := x.s.view(x.offset, x.size, x.stride, &c.budget)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		c.done[x] = t
		return t, nil
	case *object:
		return c.module(x, path, depth)
	case *types.List:
		return c.container(x, path, func() (any, error) { return c.list(*x, path, depth) })
	case *types.Tuple:
		return c.container(x, path, func() (any, error) { return c.list(*x, path, depth) })
	case *types.Dict:
		return c.container(x, path, func() (any, error) {
			d := Dict{}
			for _, e := range *x {
				if err := c.item(&d, e.Key, e.Value, path, depth); err != nil {
					return nil, err
				}
			}
			return d, nil
		})
	case *types.OrderedDict:
		return c.container(x, path, func() (any, error) {
			d := Dict{}
			for e := x.List.Front(); e != nil; e = e.Next() {
				if entry, ok := e.Value.(*types.OrderedDictEntry); ok {
					if err := c.item(&d, entry.Key, entry.Value, path, depth); err != nil {
						return nil, err
					}
				}
			}
			return d, nil
		})
	}
	return nil, fmt.Errorf("%s: unsupported value %s", path, describe(v))
}

// container converts the list, tuple or dict p once (shared values are
// converted once and refused when they contain themselves).
func (c *converter) container(p any, path string, convert func() (any, error)) (any, error) {
	if c.active[p] {
		return nil, fmt.Errorf("%s: a value contains itself", path)
	}
	if d, ok := c.done[p]; ok {
		return d, nil
	}
	c.active[p] = true
	defer delete(c.active, p)
	out, err := convert()
	if err != nil {
		return nil, err
	}
	c.done[p] = out
	return out, nil
}

// item appends a converted key/value pair to d.
func (c *converter) item(d *Dict, k, v any, path string, depth int) error {
	kc, err := c.value(k, path, depth+1)
	if err != nil {
		return err
	}
	vc, err := c.value(v, path, depth+1)
	if err != nil {
		return err
	}
	*d = append(*d, DictItem{Key: kc, Value: vc})
	return nil
}

func (c *converter) list(items []any, path string, depth int) ([]any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		v, err := c.value(it, path, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// module converts an object of the module tree at path.
func (c *converter) module(o *object, path string, depth int) (*Module, error) {
	where := path
	if where == "" {
		where = "the root module"
	}
	if p, ok := c.paths[o]; ok {
		if c.active[o] {
			return nil, fmt.Errorf("%s: a module contains itself (%s)", where, p)
		}
		return nil, fmt.Errorf("%s: the module of %q appears twice in the tree", where, p)
	}
	c.paths[o] = path
	c.active[o] = true
	defer delete(c.active, o)
	m := &Module{Class: o.class, Path: path, Decl: c.rd.declaration(o.class)}
	seen := map[string]int{}
	state, ok := o.state.(*types.Dict)
	if !ok {
		return nil, fmt.Errorf("%s (%s): state is a %s, not a dict of attributes", where, o.class, describe(o.state))
	}
	for _, e := range *state {
		name, ok := e.Key.(string)
		if !ok || name == "" || strings.Contains(name, ".") {
			return nil, fmt.Errorf("%s (%s): attribute name %s", where, o.class, describe(e.Key))
		}
		sub := name
		if path != "" {
			sub = path + "." + name
		}
		v, err := c.value(e.Value, sub, depth+1)
		if err != nil {
			return nil, err
		}
		if i, ok := seen[name]; ok {
			m.Attrs[i].Value = v // a key set twice: the last value wins, as in Python
			continue
		}
		seen[name] = len(m.Attrs)
		m.Attrs = append(m.Attrs, Attr{Name: name, Value: v})
	}
	return m, nil
}

// describe names the type of an unpickled value for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case *object:
		return "object of " + x.class
	case *types.Tuple:
		return fmt.Sprintf("tuple of %d", x.Len())
	case *types.List:
		return fmt.Sprintf("list of %d", len(*x))
	case *types.Dict, *types.OrderedDict:
		return "dict"
	case string:
		return "string"
	case int, *big.Int:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case *types.GenericClass:
		return "class " + x.Module + "." + x.Name
	}
	return fmt.Sprintf("%T", v)
}
