package torchscript

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Writing archives.
//
// Write lays an archive out as torch.jit.save does: the storages
// data/0, data/1, … in the order the pickle first meets them, data.pkl,
// the code records, constants.pkl and version, every record stored
// (uncompressed) with its data 64-byte aligned by an "FB" padding field
// in its local header, as PyTorch's PyTorchStreamWriter pads them.

// Object is a scripted object to write: an instance of the class Class
// (a qualified name, "__torch__.rave.model.Encoder") whose attributes
// Attrs are pickled in order as the dict that torch.jit.load sets its
// slots from, so they must be exactly the attributes the class declares.
// An attribute value is one of: *Object, *Data (a tensor), nil, bool,
// int, int64, float64, string, Tuple, IntList, FloatList.
type Object struct {
	Class string
	Attrs []Attr
}

// Data is a tensor to write: a dense, row-major Float32 tensor (F32) or
// Int64 one (I64) of shape Shape (empty for a scalar). Every Data gets
// its own storage record.
type Data struct {
	DType DType
	Shape []int
	F32   []float32
	I64   []int64
}

// Tuple is a tuple attribute (Tuple[int, int], …).
type Tuple []any

// IntList is a List[int] attribute.
type IntList []int64

// FloatList is a List[float] attribute.
type FloatList []float64

// Float32Data returns a float32 tensor of the given shape holding v.
func Float32Data(v []float32, shape ...int) *Data {
	return &Data{DType: Float32, Shape: shape, F32: v}
}

// Int64Data returns an int64 tensor of the given shape holding v.
func Int64Data(v []int64, shape ...int) *Data {
	return &Data{DType: Int64, Shape: shape, I64: v}
}

// Export is what Write puts into an archive.
type Export struct {
	// Name is the folder of every record (torch uses the file name
	// without extension); it must be a plain name.
	Name string
	// Version is the serialisation format version (torch 1.13 writes 3
	// for code without versioned operators).
	Version int
	// Root is the top module.
	Root *Object
	// Code maps the code records, relative to code/ (e.g.
	// "__torch__/rave/model.py"), to their text: the declarations and
	// methods of every class of the tree.
	Code map[string]string
}

var plainName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// alignment is the data alignment of PyTorchStreamWriter's records.
const alignment = 64

// Write writes e as a TorchScript archive to w.
func Write(w io.Writer, e *Export) error {
	if err := write(w, e); err != nil {
		return fmt.Errorf("torchscript: write: %w", err)
	}
	return nil
}

func write(w io.Writer, e *Export) error {
	if !plainName.MatchString(e.Name) || e.Name == "." || e.Name == ".." {
		return fmt.Errorf("archive name %q is not a plain file name", e.Name)
	}
	if e.Root == nil {
		return errors.New("no top module")
	}
	var p pickler
	if err := p.module(e.Root, 0); err != nil {
		return err
	}
	zw := &zipWriter{w: w}
	for i, d := range p.storages {
		if err := zw.add(e.Name+"/data/"+strconv.Itoa(i), d.bytes()); err != nil {
			return err
		}
	}
	if err := zw.add(e.Name+"/data.pkl", p.bytes()); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(e.Code)) {
		clean := path.Clean(name)
		if clean != name || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "..") || !strings.HasSuffix(name, ".py") {
			return fmt.Errorf("code record %q is not a relative .py path", name)
		}
		if err := zw.add(e.Name+"/code/"+name, []byte(e.Code[name])); err != nil {
			return err
		}
	}
	if err := zw.add(e.Name+"/constants.pkl", []byte{opProto, 2, opEmptyTuple, opStop}); err != nil {
		return err
	}
	if err := zw.add(e.Name+"/version", []byte(strconv.Itoa(e.Version)+"\n")); err != nil {
		return err
	}
	return zw.close()
}

// bytes returns the little-endian storage bytes of d.
func (d *Data) bytes() []byte {
	switch d.DType {
	case Int64:
		b := make([]byte, 8*len(d.I64))
		for i, v := range d.I64 {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		return b
	default:
		b := make([]byte, 4*len(d.F32))
		for i, v := range d.F32 {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	}
}

// check refuses a Data whose values do not fill its shape.
func (d *Data) check() error {
	n := 1
	for _, s := range d.Shape {
		if s < 0 {
			return fmt.Errorf("tensor shape %v", d.Shape)
		}
		n *= s
	}
	switch d.DType {
	case Float32:
		if len(d.F32) != n || d.I64 != nil {
			return fmt.Errorf("float32 tensor of shape %v holds %d values", d.Shape, len(d.F32))
		}
	case Int64:
		if len(d.I64) != n || d.F32 != nil {
			return fmt.Errorf("int64 tensor of shape %v holds %d values", d.Shape, len(d.I64))
		}
	default:
		return fmt.Errorf("tensors of type %s cannot be written", d.DType)
	}
	return nil
}

// Pickle opcodes (protocol 2) that the writer uses.
const (
	opProto      = 0x80
	opStop       = '.'
	opGlobal     = 'c'
	opEmptyTuple = ')'
	opNewObj     = 0x81
	opEmptyDict  = '}'
	opEmptyList  = ']'
	opMark       = '('
	opSetItems   = 'u'
	opAppends    = 'e'
	opBuild      = 'b'
	opTuple      = 't'
	opTuple1     = 0x85
	opTuple2     = 0x86
	opTuple3     = 0x87
	opReduce     = 'R'
	opBinPersID  = 'Q'
	opNone       = 'N'
	opTrue       = 0x88
	opFalse      = 0x89
	opBinInt1    = 'K'
	opBinInt2    = 'M'
	opBinInt     = 'J'
	opLong1      = 0x8a
	opBinFloat   = 'G'
	opBinUnicode = 'X'
)

// pickler writes data.pkl: protocol 2, no memo.
type pickler struct {
	buf      bytes.Buffer
	storages []*Data
	seen     map[*Object]bool
}

func (p *pickler) bytes() []byte {
	out := append([]byte{opProto, 2}, p.buf.Bytes()...)
	return append(out, opStop)
}

func (p *pickler) op(b ...byte) { p.buf.Write(b) }

func (p *pickler) global(module, name string) {
	p.op(opGlobal)
	p.buf.WriteString(module + "\n" + name + "\n")
}

func (p *pickler) str(s string) {
	p.op(opBinUnicode)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
	p.buf.Write(n[:])
	p.buf.WriteString(s)
}

func (p *pickler) int(v int64) {
	switch {
	case v >= 0 && v < 1<<8:
		p.op(opBinInt1, byte(v))
	case v >= 0 && v < 1<<16:
		p.op(opBinInt2, byte(v), byte(v>>8))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(int32(v)))
		p.op(opBinInt)
		p.buf.Write(b[:])
	default:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		p.op(opLong1, 8)
		p.buf.Write(b[:])
	}
}

func (p *pickler) float(v float64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], math.Float64bits(v))
	p.op(opBinFloat)
	p.buf.Write(b[:])
}

// tuple writes n values already pushed by push as a tuple.
func (p *pickler) tuple(vals []any, depth int) error {
	if len(vals) == 0 {
		p.op(opEmptyTuple)
		return nil
	}
	if len(vals) > 3 {
		p.op(opMark)
	}
	for _, v := range vals {
		if err := p.value(v, depth+1); err != nil {
			return err
		}
	}
	switch len(vals) {
	case 1:
		p.op(opTuple1)
	case 2:
		p.op(opTuple2)
	case 3:
		p.op(opTuple3)
	default:
		p.op(opTuple)
	}
	return nil
}

// typedList writes torch.jit._pickle.<builder>([values]).
func (p *pickler) typedList(builder string, n int, each func(i int)) {
	p.global("torch.jit._pickle", builder)
	p.op(opMark, opEmptyList)
	if n > 0 {
		p.op(opMark)
		for i := range n {
			each(i)
		}
		p.op(opAppends)
	}
	p.op(opTuple, opReduce)
}

func (p *pickler) module(o *Object, depth int) error {
	if depth > maxDepth {
		return errors.New("the module tree is too deep")
	}
	if p.seen == nil {
		p.seen = map[*Object]bool{}
	}
	if p.seen[o] {
		return fmt.Errorf("module of class %s appears twice in the tree", o.Class)
	}
	p.seen[o] = true
	i := strings.LastIndexByte(o.Class, '.')
	if i <= 0 || !strings.HasPrefix(o.Class, "__torch__.") {
		return fmt.Errorf("class %q is not a qualified __torch__ name", o.Class)
	}
	p.global(o.Class[:i], o.Class[i+1:])
	p.op(opEmptyTuple, opNewObj, opEmptyDict)
	names := map[string]bool{}
	if len(o.Attrs) > 0 {
		p.op(opMark)
		for _, a := range o.Attrs {
			if names[a.Name] {
				return fmt.Errorf("class %s: attribute %s given twice", o.Class, a.Name)
			}
			names[a.Name] = true
			p.str(a.Name)
			if err := p.value(a.Value, depth+1); err != nil {
				return fmt.Errorf("%s.%s: %w", o.Class, a.Name, err)
			}
		}
		p.op(opSetItems)
	}
	p.op(opBuild)
	return nil
}

func (p *pickler) value(v any, depth int) error {
	if depth > maxDepth {
		return errors.New("values nested too deep")
	}
	switch v := v.(type) {
	case nil:
		p.op(opNone)
	case bool:
		if v {
			p.op(opTrue)
		} else {
			p.op(opFalse)
		}
	case int:
		p.int(int64(v))
	case int64:
		p.int(v)
	case float64:
		p.float(v)
	case string:
		p.str(v)
	case Tuple:
		return p.tuple(v, depth)
	case IntList:
		p.typedList("build_intlist", len(v), func(i int) { p.int(v[i]) })
	case FloatList:
		p.typedList("build_doublelist", len(v), func(i int) { p.float(v[i]) })
	case *Object:
		return p.module(v, depth)
	case *Data:
		return p.tensor(v)
	default:
		return fmt.Errorf("cannot pickle a %T", v)
	}
	return nil
}

// tensor writes torch._utils._rebuild_tensor_v2(storage, 0, size,
// stride, False, OrderedDict()) with the storage as the persistent id
// ('storage', torch.<Type>Storage, key, 'cpu', numel).
func (p *pickler) tensor(d *Data) error {
	if err := d.check(); err != nil {
		return err
	}
	key := len(p.storages)
	p.storages = append(p.storages, d)
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark, opMark)
	p.str("storage")
	p.global("torch", dtypes[d.DType].storage)
	p.str(strconv.Itoa(key))
	p.str("cpu")
	p.int(int64(n))
	p.op(opTuple, opBinPersID)
	p.int(0)
	stride := make([]any, len(d.Shape))
	size := make([]any, len(d.Shape))
	s := 1
	for i := len(d.Shape) - 1; i >= 0; i-- {
		size[i], stride[i] = d.Shape[i], s
		s *= d.Shape[i]
	}
	if err := p.tuple(size, 0); err != nil {
		return err
	}
	if err := p.tuple(stride, 0); err != nil {
		return err
	}
	p.op(opFalse)
	p.global("collections", "OrderedDict")
	p.op(opEmptyTuple, opReduce, opTuple, opReduce)
	return nil
}

// zipWriter writes stored zip records with 64-byte aligned data.
type zipWriter struct {
	w    io.Writer
	off  int64
	dir  []*zip.FileHeader
	offs []int64
	err  error
}

func (z *zipWriter) put(b []byte) {
	if z.err != nil {
		return
	}
	var n int
	n, z.err = z.w.Write(b)
	z.off += int64(n)
}

func (z *zipWriter) add(name string, data []byte) error {
	if int64(len(data)) >= math.MaxUint32 || z.off >= math.MaxUint32 {
		return fmt.Errorf("record %s: archives over 4 GiB are not supported", name)
	}
	// PyTorchStreamWriter: the local header (30 bytes), the name and an
	// "FB" extra field of 4 bytes plus padding up to the alignment.
	start := z.off + 30 + int64(len(name)) + 4
	pad := (alignment - start%alignment) % alignment
	extra := make([]byte, 4+pad)
	extra[0], extra[1] = 'F', 'B'
	binary.LittleEndian.PutUint16(extra[2:], uint16(pad))
	for i := range pad {
		extra[4+i] = 'Z'
	}
	h := &zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data)), Extra: extra}
	z.dir = append(z.dir, h)
	z.offs = append(z.offs, z.off)
	var hd [30]byte
	binary.LittleEndian.PutUint32(hd[0:], 0x04034b50)
	binary.LittleEndian.PutUint16(hd[4:], 20) // version needed
	binary.LittleEndian.PutUint16(hd[6:], 0)  // flags
	binary.LittleEndian.PutUint16(hd[8:], zip.Store)
	binary.LittleEndian.PutUint16(hd[10:], 0) // time
	binary.LittleEndian.PutUint16(hd[12:], 0) // date
	binary.LittleEndian.PutUint32(hd[14:], h.CRC32)
	binary.LittleEndian.PutUint32(hd[18:], uint32(len(data)))
	binary.LittleEndian.PutUint32(hd[22:], uint32(len(data)))
	binary.LittleEndian.PutUint16(hd[26:], uint16(len(name)))
	binary.LittleEndian.PutUint16(hd[28:], uint16(len(extra)))
	z.put(hd[:])
	z.put([]byte(name))
	z.put(extra)
	z.put(data)
	return z.err
}

// close writes the central directory and its end record.
func (z *zipWriter) close() error {
	dirStart := z.off
	for i, h := range z.dir {
		var hd [46]byte
		binary.LittleEndian.PutUint32(hd[0:], 0x02014b50)
		binary.LittleEndian.PutUint16(hd[4:], 20) // version made by
		binary.LittleEndian.PutUint16(hd[6:], 20) // version needed
		binary.LittleEndian.PutUint16(hd[10:], zip.Store)
		binary.LittleEndian.PutUint32(hd[16:], h.CRC32)
		binary.LittleEndian.PutUint32(hd[20:], uint32(h.CompressedSize64))
		binary.LittleEndian.PutUint32(hd[24:], uint32(h.UncompressedSize64))
		binary.LittleEndian.PutUint16(hd[28:], uint16(len(h.Name)))
		binary.LittleEndian.PutUint32(hd[42:], uint32(z.offs[i]))
		z.put(hd[:])
		z.put([]byte(h.Name))
	}
	if z.off >= math.MaxUint32 || len(z.dir) >= math.MaxUint16 {
		return errors.New("archives over 4 GiB or 65535 records are not supported")
	}
	var end [22]byte
	binary.LittleEndian.PutUint32(end[0:], 0x06054b50)
	binary.LittleEndian.PutUint16(end[8:], uint16(len(z.dir)))
	binary.LittleEndian.PutUint16(end[10:], uint16(len(z.dir)))
	binary.LittleEndian.PutUint32(end[12:], uint32(z.off-dirStart))
	binary.LittleEndian.PutUint32(end[16:], uint32(dirStart))
	z.put(end[:])
	return z.err
}
