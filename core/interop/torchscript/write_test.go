package torchscript_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/interop/torchscript"
)

// TestWriteReadBack writes an archive with every kind of attribute and
// reads it back: module tree, attribute values, tensors, class
// declarations and the records' layout (stored, data 64-byte aligned,
// torch.jit.save's order).
func TestWriteReadBack(t *testing.T) {
	weight := torchscript.Float32Data([]float32{1.5, -2, 3.25, 0, 1e-30, -7}, 2, 1, 3)
	steps := torchscript.Int64Data([]int64{-5_000_000_000})
	child := &torchscript.Object{Class: "__torch__.pkg.___torch_mangle_3.Conv", Attrs: []torchscript.Attr{
		{Name: "training", Value: false}, {Name: "weight", Value: weight}, {Name: "bias", Value: nil},
	}}
	root := &torchscript.Object{Class: "__torch__.Top", Attrs: []torchscript.Attr{
		{Name: "training", Value: true},
		{Name: "steps", Value: steps},
		{Name: "n", Value: 70000}, {Name: "neg", Value: int64(-3)}, {Name: "big", Value: int64(1) << 40},
		{Name: "slope", Value: 0.2}, {Name: "name", Value: "ünï"},
		{Name: "pad", Value: torchscript.Tuple{3, 4}}, {Name: "empty", Value: torchscript.Tuple{}},
		{Name: "four", Value: torchscript.Tuple{1, 2, 3, 4}},
		{Name: "ratios", Value: torchscript.IntList{4, 4, 2}}, {Name: "none", Value: torchscript.IntList{}},
		{Name: "basis", Value: torchscript.FloatList{0.5, -0.25}},
		{Name: "0", Value: child},
	}}
	code := map[string]string{
		"__torch__.py":                       "class Top(Module):\n  __parameters__ = []\n  __buffers__ = [\"steps\", ]\n  steps : Tensor\n  k : Final[int] = 7\n  def forward(self: __torch__.Top) -> int:\n    return 1\n",
		"__torch__/pkg/___torch_mangle_3.py": "class Conv(Module):\n  __parameters__ = [\"weight\", ]\n  __buffers__ = []\n  stride : Final[Tuple[int]] = (2,)\n",
	}
	var buf bytes.Buffer
	if err := torchscript.Write(&buf, &torchscript.Export{Name: "tiny", Version: 3, Root: root, Code: code}); err != nil {
		t.Fatal(err)
	}
	a, err := torchscript.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "tiny.ts")
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "tiny" || a.Version != 3 || a.Root.Class != "__torch__.Top" || len(a.Constants) != 0 {
		t.Fatalf("archive %s version %d top %s constants %v", a.Name, a.Version, a.Root.Class, a.Constants)
	}
	for name, want := range map[string]any{
		"training": true, "n": int64(70000), "neg": int64(-3), "big": int64(1) << 40, "slope": 0.2, "name": "ünï",
		"pad": []any{int64(3), int64(4)}, "four": []any{int64(1), int64(2), int64(3), int64(4)},
		"ratios": []any{int64(4), int64(4), int64(2)}, "basis": []any{0.5, -0.25},
	} {
		if got, _ := a.Root.Get(name); !reflect.DeepEqual(got, want) {
			t.Errorf("attribute %s = %#v, want %#v", name, got, want)
		}
	}
	for _, name := range []string{"empty", "none"} {
		if got, ok := a.Root.Get(name); !ok || reflect.ValueOf(got).Len() != 0 {
			t.Errorf("attribute %s = %#v, want empty", name, got)
		}
	}
	tensors := a.Root.Tensors()
	if len(tensors) != 2 || tensors[0].Name != "steps" || tensors[1].Name != "0.weight" {
		t.Fatalf("tensors %v, want steps and 0.weight", tensors)
	}
	if v, ok := tensors[0].Int64(); !ok || !slices.Equal(v, steps.I64) || len(tensors[0].Shape) != 0 {
		t.Errorf("steps = %v %v, want %v, scalar", v, tensors[0].Shape, steps.I64)
	}
	if w := tensors[1]; !slices.Equal(w.Shape, weight.Shape) || !slices.Equal(w.Float32(), weight.F32) {
		t.Errorf("weight %v %v, want %v %v", w.Shape, w.Float32(), weight.Shape, weight.F32)
	}
	conv := a.Root.Submodule("0")
	if conv == nil || conv.Decl == nil || conv.Type() != "pkg.Conv" {
		t.Fatalf("child module %+v, want a pkg.Conv with its declaration", conv)
	}
	if s, err := conv.Decl.Ints("stride"); err != nil || !slices.Equal(s, []int{2}) || !slices.Equal(conv.Decl.Parameters, []string{"weight"}) {
		t.Errorf("declaration %+v (stride %v, %v)", conv.Decl, s, err)
	}
	if k, err := a.Root.Decl.Ints("k"); err != nil || !slices.Equal(k, []int{7}) {
		t.Errorf("Top's constant k = %v, %v, want 7", k, err)
	}

	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		if f.Method != zip.Store || off%64 != 0 {
			t.Errorf("%s: method %d at offset %d, want stored and 64-byte aligned", f.Name, f.Method, off)
		}
	}
	want := []string{"tiny/data/0", "tiny/data/1", "tiny/data.pkl", "tiny/code/__torch__.py",
		"tiny/code/__torch__/pkg/___torch_mangle_3.py", "tiny/constants.pkl", "tiny/version"}
	if !slices.Equal(names, want) {
		t.Errorf("records %v, want %v", names, want)
	}
	// The storages are little-endian, one per tensor.
	data := buf.Bytes()
	f1 := zr.File[1]
	off, _ := f1.DataOffset()
	if got := math.Float32frombits(binary.LittleEndian.Uint32(data[off:])); got != 1.5 {
		t.Errorf("data/1 starts with %g, want 1.5", got)
	}
}

// TestWriteRefuses checks the archives Write refuses, each with one
// "torchscript: write: " error.
func TestWriteRefuses(t *testing.T) {
	obj := func(class string, attrs ...torchscript.Attr) *torchscript.Object {
		return &torchscript.Object{Class: class, Attrs: attrs}
	}
	shared := obj("__torch__.a.B")
	tests := []struct {
		name string
		e    *torchscript.Export
		want string
	}{
		{"folder name", &torchscript.Export{Name: "../x", Root: obj("__torch__.A")}, "not a plain file name"},
		{"no root", &torchscript.Export{Name: "x"}, "no top module"},
		{"bare class", &torchscript.Export{Name: "x", Root: obj("Top")}, "not a qualified __torch__ name"},
		{"shared module", &torchscript.Export{Name: "x", Root: obj("__torch__.A", torchscript.Attr{Name: "p", Value: shared}, torchscript.Attr{Name: "q", Value: shared})}, "appears twice"},
		{"attribute twice", &torchscript.Export{Name: "x", Root: obj("__torch__.A", torchscript.Attr{Name: "p", Value: 1}, torchscript.Attr{Name: "p", Value: 2})}, "given twice"},
		{"short tensor", &torchscript.Export{Name: "x", Root: obj("__torch__.A", torchscript.Attr{Name: "w", Value: torchscript.Float32Data([]float32{1}, 2)})}, "holds 1 values"},
		{"other value", &torchscript.Export{Name: "x", Root: obj("__torch__.A", torchscript.Attr{Name: "w", Value: []int{1}})}, "cannot pickle a []int"},
		{"code path", &torchscript.Export{Name: "x", Root: obj("__torch__.A"), Code: map[string]string{"../a.py": ""}}, "not a relative .py path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := torchscript.Write(&bytes.Buffer{}, tt.e)
			if err == nil || !strings.HasPrefix(err.Error(), "torchscript: write: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write = %v, want \"torchscript: write: …%s…\"", err, tt.want)
			}
		})
	}
}
