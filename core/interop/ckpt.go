package interop

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/ravestation/rave/core/modelfile"
)

// Limits on what a checkpoint may ask of the reader. A RAVE checkpoint's
// data.pkl (names, shapes, hyper-parameters, optimiser layout) is well
// under a megabyte; its weights are separate zip records.
const (
	maxPickleBytes = 64 << 20
	// maxLongBytes bounds a pickled integer (Python's LONG opcodes), whose
	// decoding is quadratic in its length.
	maxLongBytes = 1024
	// maxJSONNodes bounds the hyper-parameter values converted (a pickle
	// can share one list many times over, or make it hold itself).
	maxJSONNodes = 1 << 16
	maxJSONDepth = 32
)

// unpickleTimeout bounds the unpickling of data.pkl. Each step of the
// pickle machine reads at least one byte of a bounded input, so it always
// ends, but some inputs make it quadratic; this turns those into an error.
var unpickleTimeout = 10 * time.Second

// fileError returns the error for src, which cannot be a model, saying
// what is wrong in the words of core/modelfile.
func fileError(src, problem string, err error) error {
	return &modelfile.Error{Path: src, Kind: "a RAVE model file", Problem: problem, Err: err}
}

// openZip opens src, which must be a zip archive, after
// modelfile.Check, so that an empty, cut-short or foreign file is refused
// with a *modelfile.Error that says which it is rather than with the zip
// reader's words.
func openZip(src string) (*zip.Reader, *os.File, error) {
	if err := modelfile.Check(src, "model"); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, nil, fmt.Errorf("interop: import: %w", err)
	}
	fail := func(problem string, err error) (*zip.Reader, *os.File, error) {
		f.Close()
		return nil, nil, fileError(src, problem, err)
	}
	st, err := f.Stat()
	if err != nil {
		return fail("the file cannot be read", err)
	}
	size := st.Size()
	head := make([]byte, min(size, 2))
	if _, err := f.ReadAt(head, 0); err != nil {
		return fail("the file cannot be read", err)
	}
	if len(head) == 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5 {
		return fail("it was saved by PyTorch before version 1.6, in a format rave does not read; "+
			"load it in Python and save it again with torch.save", nil)
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		if !hasZipEnd(f, size) {
			return fail("the file is cut short", err)
		}
		return fail("the file is damaged", err)
	}
	return zr, f, nil
}

// hasZipEnd reports whether the last 64 KiB of the file hold a whole zip
// end record (22 bytes and a comment), which a file cut short has lost.
func hasZipEnd(r io.ReaderAt, size int64) bool {
	const end = 22
	tail := min(size, end+65535)
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil {
		return false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	return i >= 0 && len(buf)-i >= end
}

// readCheckpoint reads a PyTorch zip checkpoint (a Lightning .ckpt or a
// plain torch.save of a state dict). Lightning's AttributeDict (the
// hyper_parameters) becomes a plain dict and every other unknown class a
// generic object, so the callback and loop states of a Lightning file do
// not stop the load. Only the storages of the state dict's tensors are
// read (not the optimiser's).
func readCheckpoint(src string) (*stateDict, error) {
	zr, f, err := openZip(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	damaged := func(err error) error {
		problem := "its table of contents is unreadable" // gopickle's words are no help
		var d damage
		switch {
		case errors.As(err, &d):
			problem = string(d)
		case errors.Is(err, zip.ErrChecksum):
			problem = "part of it fails its checksum"
		}
		return fileError(src, "the file is damaged: "+problem, err)
	}
	ck, problem := newCheckpointArchive(zr)
	if problem != "" {
		return nil, fileError(src, problem, nil)
	}
	obj, err := ck.unpickle()
	if err != nil {
		return nil, damaged(err)
	}
	sd := newStateDict()
	sd.pickled = true
	root := asMap(obj)
	if root == nil {
		return nil, fmt.Errorf("interop: import %s: the checkpoint is a %T, not a dict", src, obj)
	}
	weights := root
	if s, ok := root["state_dict"]; ok {
		weights = asMap(s)
		sd.lightning = true
		if weights == nil {
			return nil, fmt.Errorf("interop: import %s: state_dict is a %T, not a dict", src, s)
		}
	}
	for name, v := range weights {
		t, ok := v.(*ckptTensor)
		if !ok {
			continue
		}
		st, err := ck.denseTensor(name, t)
		var d damage
		if errors.As(err, &d) {
			return nil, damaged(err)
		}
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
		budget := maxJSONNodes
		for k, v := range hp {
			if jv, ok := jsonValue(v, &budget, 0); ok {
				sd.hparams[k] = jv
			}
		}
	}
	if s, ok := root["global_step"].(int); ok {
		sd.step = int64(s)
	}
	return sd, nil
}

// checkpointArchive is an open PyTorch zip checkpoint: PREFIX/data.pkl,
// the pickled object, and PREFIX/data/KEY, the raw storages it refers to.
type checkpointArchive struct {
	pkl      *zip.File
	records  map[string]*zip.File // storage records by key
	storages map[string]*ckptStorage
}

// newCheckpointArchive finds the records of a checkpoint in zr, or says
// why zr is not one.
func newCheckpointArchive(zr *zip.Reader) (ck *checkpointArchive, problem string) {
	ck = &checkpointArchive{records: map[string]*zip.File{}, storages: map[string]*ckptStorage{}}
	for _, f := range zr.File {
		// torch.save writes ARCHIVE/data.pkl, ARCHIVE/data/KEY, …
		_, base, _ := strings.Cut(f.Name, "/")
		switch base {
		case "data.pkl":
			if ck.pkl == nil {
				ck.pkl = f
			}
		case "constants.pkl":
			return nil, "it is a TorchScript export (.ts), not a training checkpoint"
		}
	}
	if ck.pkl == nil {
		return nil, "it is a zip archive without a PyTorch checkpoint in it"
	}
	prefix := strings.TrimSuffix(ck.pkl.Name, "data.pkl") + "data/"
	for _, f := range zr.File {
		if key, ok := strings.CutPrefix(f.Name, prefix); ok && key != "" && !strings.Contains(key, "/") {
			ck.records[key] = f
		}
	}
	return ck, ""
}

// unpickle reads data.pkl into memory, checks it (scanPickle) and runs
// gopickle's unpickler on it under unpickleTimeout, turning a panic of
// the unpickler into an error.
func (ck *checkpointArchive) unpickle() (any, error) {
	if ck.pkl.UncompressedSize64 > maxPickleBytes {
		return nil, damage(fmt.Sprintf("its table of contents is too large (%d bytes)", ck.pkl.UncompressedSize64))
	}
	rc, err := ck.pkl.Open()
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxPickleBytes))
	rc.Close()
	if err != nil {
		return nil, err
	}
	data, err = scanPickle(data)
	if err != nil {
		return nil, err
	}
	return runUnpickler(data, ck.persistentLoad, unpickleTimeout)
}

// runUnpickler unpickles data (checked by scanPickle) with the checkpoint
// classes, giving up after limit. The unpickler runs in a goroutine that
// reads through a stopReader, so a run that overstays stops at its next
// opcode rather than running on.
func runUnpickler(data []byte, persistentLoad func(any) (any, error), limit time.Duration) (any, error) {
	r := &stopReader{r: bytes.NewReader(data)}
	type result struct {
		v   any
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("the pickle reader failed: %v", p)}
			}
		}()
		u := pickle.NewUnpickler(r)
		u.FindClass = findClass
		u.PersistentLoad = persistentLoad
		v, err := u.Load()
		done <- result{v, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.v, res.err
	case <-timer.C:
		r.stop.Store(true)
		return nil, damage(fmt.Sprintf("reading its table of contents took longer than %v", limit))
	}
}

// damage is an error worded for FileError's Problem after "the file is
// damaged: ".
type damage string

func (d damage) Error() string { return string(d) }

// stopReader is a byte reader that fails once stop is set.
type stopReader struct {
	r    *bytes.Reader
	stop atomic.Bool
}

var errStopped = errors.New("stopped")

func (s *stopReader) Read(p []byte) (int, error) {
	if s.stop.Load() {
		return 0, errStopped
	}
	return s.r.Read(p)
}

func (s *stopReader) ReadByte() (byte, error) {
	if s.stop.Load() {
		return 0, errStopped
	}
	return s.r.ReadByte()
}

// persistentLoad resolves a persistent id ("storage", class, key,
// location, numel) to a storage that is read only when a state-dict
// tensor needs it.
func (ck *checkpointArchive) persistentLoad(id any) (any, error) {
	t, ok := id.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return nil, fmt.Errorf("unexpected persistent id %T", id)
	}
	if s, _ := t.Get(0).(string); s != "storage" {
		return nil, fmt.Errorf("unexpected persistent id %q", s)
	}
	class, okC := t.Get(1).(storageClass)
	key, okK := t.Get(2).(string)
	numel, okN := t.Get(4).(int)
	if !okC || !okK || !okN || numel < 0 {
		return nil, errors.New("unexpected storage description")
	}
	if s := ck.storages[key]; s != nil {
		return s, nil
	}
	s := &ckptStorage{class: class, key: key, numel: numel}
	ck.storages[key] = s
	return s, nil
}

// storageClass is a torch.*Storage class: the element type of a storage.
type storageClass struct {
	name string
	size int // bytes per element; 0 for the types rave does not import
}

func (c storageClass) Call(...any) (any, error) {
	return nil, fmt.Errorf("torch.%s cannot be called", c.name)
}

var storageClasses = map[string]storageClass{
	"FloatStorage": {"FloatStorage", 4}, "HalfStorage": {"HalfStorage", 2},
	"BFloat16Storage": {"BFloat16Storage", 2}, "DoubleStorage": {"DoubleStorage", 8},
	"LongStorage": {"LongStorage", 8}, "IntStorage": {"IntStorage", 4},
	"ShortStorage": {"ShortStorage", 0}, "CharStorage": {"CharStorage", 0},
	"ByteStorage": {"ByteStorage", 0}, "BoolStorage": {"BoolStorage", 0},
}

// ckptStorage is a storage of the checkpoint: numel elements of class in
// record key, read on first use.
type ckptStorage struct {
	class storageClass
	key   string
	numel int
	data  []byte
}

// ckptTensor is torch._utils._rebuild_tensor_v2's result: a view of a
// storage.
type ckptTensor struct {
	storage *ckptStorage
	offset  int
	size    []int
	stride  []int
}

// rebuildTensor is torch._utils._rebuild_tensor_v2(storage, offset, size,
// stride, requires_grad, backward_hooks[, metadata]).
type rebuildTensor struct{}

func (rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2 with %d arguments", len(args))
	}
	s, okS := args[0].(*ckptStorage)
	off, okO := args[1].(int)
	size, okZ := intTuple(args[2])
	stride, okT := intTuple(args[3])
	if !okS || !okO || !okZ || !okT || len(size) != len(stride) {
		return nil, errors.New("_rebuild_tensor_v2 with unexpected arguments")
	}
	return &ckptTensor{storage: s, offset: off, size: size, stride: stride}, nil
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

// load reads s's record, which must hold its numel elements; name is the
// tensor that needs it.
func (ck *checkpointArchive) load(name string, s *ckptStorage) error {
	if s.data != nil {
		return nil
	}
	if s.class.size == 0 {
		return fmt.Errorf("unsupported storage type torch.%s", s.class.name)
	}
	f := ck.records[s.key]
	if f == nil {
		return damage(fmt.Sprintf("the weights of %q are missing", name))
	}
	need := uint64(s.numel) * uint64(s.class.size)
	short := damage(fmt.Sprintf("the weights of %q are cut short", name))
	if s.numel > math.MaxInt/8 || f.UncompressedSize64 < need {
		return short
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	// ReadAll grows with the bytes that arrive, so a record that claims
	// more than it holds costs no more than it holds.
	data, err := io.ReadAll(io.LimitReader(rc, int64(need)))
	if err != nil {
		return err
	}
	if uint64(len(data)) != need {
		return short
	}
	s.data = data
	return nil
}

// at returns element i of s as float32.
func (s *ckptStorage) at(i int) float32 {
	le := binary.LittleEndian
	b := s.data[i*s.class.size:]
	switch s.class.name {
	case "FloatStorage":
		return math.Float32frombits(le.Uint32(b))
	case "HalfStorage":
		return math.Float32frombits(pytorch.FloatBits16to32(le.Uint16(b)))
	case "BFloat16Storage":
		return math.Float32frombits(uint32(le.Uint16(b)) << 16)
	case "DoubleStorage":
		return float32(math.Float64frombits(le.Uint64(b)))
	case "LongStorage":
		return float32(int64(le.Uint64(b)))
	case "IntStorage":
		return float32(int32(le.Uint32(b)))
	}
	panic("interop: storage type " + s.class.name)
}

// denseTensor gathers a (possibly strided) tensor into a dense row-major
// float32 array. The view must lie within its storage and hold no more
// elements than it (state dicts hold no expanded views), so a damaged
// size or stride cannot ask for more memory than the file holds.
func (ck *checkpointArchive) denseTensor(name string, t *ckptTensor) (stateTensor, error) {
	if err := ck.load(name, t.storage); err != nil {
		return stateTensor{}, err
	}
	n, ok := t.fits()
	if !ok {
		return stateTensor{}, damage(fmt.Sprintf("the shape %v of %q does not fit its %d values", t.size, name, t.storage.numel))
	}
	out := make([]float32, n)
	idx := make([]int, len(t.size))
	for i := range out {
		off := t.offset
		for d, k := range idx {
			off += k * t.stride[d]
		}
		out[i] = t.storage.at(off)
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return stateTensor{shape: append([]int{}, t.size...), data: out}, nil
}

// fits reports whether every element of t lies within its storage and t
// has no more elements than the storage (n).
func (t *ckptTensor) fits() (n int, ok bool) {
	numel := t.storage.numel
	if t.offset < 0 {
		return 0, false
	}
	for d, k := range t.size {
		if k < 0 || t.stride[d] < 0 {
			return 0, false
		}
	}
	for _, k := range t.size {
		if k == 0 {
			return 0, true
		}
	}
	if t.offset >= numel {
		return 0, false
	}
	n, last := 1, t.offset // last: the offset of the last element
	for d, k := range t.size {
		st := t.stride[d]
		if n > numel/k || st > 0 && k-1 > (numel-1-last)/st {
			return 0, false
		}
		n *= k
		last += (k - 1) * st
	}
	return n, true
}

// findClass resolves the classes a checkpoint refers to beyond the
// builtins gopickle knows: torch's storages and tensor rebuilding,
// Lightning's AttributeDict, and any other class as a generic object.
func findClass(module, name string) (any, error) {
	switch {
	case module == "torch" && strings.HasSuffix(name, "Storage"):
		if c, ok := storageClasses[name]; ok {
			return c, nil
		}
	case module == "torch._utils" && name == "_rebuild_tensor_v2":
		return rebuildTensor{}, nil
	case module == "torch._utils" && name == "_rebuild_parameter":
		return rebuildParameter{}, nil
	case name == "AttributeDict":
		return dictClass{}, nil
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
	dict  map[string]any
	state any
}

func (c *genericClass) PyNew(args ...any) (any, error) {
	return &genericObject{class: c, args: args, dict: map[string]any{}}, nil
}

func (c *genericClass) Call(args ...any) (any, error) { return c.PyNew(args...) }

// PyDictSet keeps string keys only (a Go map cannot hold every Python
// key, and nothing reads the others).
func (o *genericObject) PyDictSet(k, v any) error {
	if s, ok := k.(string); ok {
		o.dict[s] = v
	}
	return nil
}
func (o *genericObject) PySetState(s any) error { o.state = s; return nil }
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
	default:
		return nil
	}
	return out
}

// jsonValue converts a pickled hyper-parameter to a JSON-compatible value,
// spending one of budget per value and refusing (false) nesting deeper
// than maxJSONDepth, which a list that holds itself would reach.
func jsonValue(v any, budget *int, depth int) (any, bool) {
	if *budget--; *budget < 0 || depth > maxJSONDepth {
		return nil, false
	}
	switch x := v.(type) {
	case nil, bool, string, float64:
		return x, true
	case int:
		return float64(x), true
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true
	case *types.List:
		return jsonList(*x, budget, depth)
	case *types.Tuple:
		return jsonList(*x, budget, depth)
	}
	return nil, false
}

func jsonList(items []any, budget *int, depth int) (any, bool) {
	out := make([]any, 0, len(items))
	for _, it := range items {
		j, ok := jsonValue(it, budget, depth+1)
		if !ok {
			return nil, false
		}
		out = append(out, j)
	}
	return out, true
}
