package torchscript_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/interop/torchscript"
)

// layout is archive_layout.json of a fixture folder: for each archive,
// its top class, the module count of every scripted class and every
// tensor's storage and view.
type layout []struct {
	File     string         `json:"file"`
	Root     string         `json:"root_folder"`
	Version  string         `json:"version"`
	TopClass string         `json:"top_class"`
	Classes  map[string]int `json:"scripted_classes"`
	Tensors  map[string]struct {
		File  string `json:"file"`
		DType string `json:"storage_dtype"`
		Size  []int  `json:"size"`
	} `json:"tensors"`
}

// TestReadFixtureArchives reads the four reference exports and checks the
// module tree against archive_layout.json: root folder, version, top
// class, the number of modules of every class and every tensor's name,
// storage and shape.
func TestReadFixtureArchives(t *testing.T) {
	for _, set := range []string{fixtures.V1Small, "rave-v2-small"} {
		dir := fixtures.File(t, set, "ts")
		js, err := os.ReadFile(filepath.Join(dir, "archive_layout.json"))
		if err != nil {
			t.Fatal(err)
		}
		var lay layout
		if err := json.Unmarshal(js, &lay); err != nil {
			t.Fatal(err)
		}
		for _, want := range lay {
			t.Run(want.File, func(t *testing.T) {
				a, err := torchscript.Open(filepath.Join(dir, want.File))
				if err != nil {
					t.Fatal(err)
				}
				if a.Name != want.Root || want.Version != "" && a.Version != atoi(t, want.Version) || a.Root.Class != want.TopClass {
					t.Errorf("archive %s version %d top %s, want %s %s %s", a.Name, a.Version, a.Root.Class, want.Root, want.Version, want.TopClass)
				}
				count := map[string]int{}
				if err := a.Root.Walk(func(m *torchscript.Module) error {
					count[m.Class]++
					if m.Decl == nil {
						t.Errorf("module %q (%s) has no class declaration", m.Path, m.Class)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				for class, n := range want.Classes {
					if count[class] != n {
						t.Errorf("%d modules of class %s, want %d", count[class], class, n)
					}
				}
				got := a.Root.Tensors()
				if len(got) != len(want.Tensors) {
					t.Errorf("%d tensors, want %d", len(got), len(want.Tensors))
				}
				for _, nt := range got {
					w, ok := want.Tensors[nt.Name]
					switch {
					case !ok:
						t.Errorf("unexpected tensor %s", nt.Name)
					case !slices.Equal(nt.Shape, w.Size) || a.Name+"/data/"+nt.Storage != w.File:
						t.Errorf("tensor %s: shape %v in data/%s, want %v in %s", nt.Name, nt.Shape, nt.Storage, w.Size, w.File)
					}
				}
			})
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// tinyArchive is testdata/tiny_conv.ts (testdata/README.md): a scripted
// Conv1d + LeakyReLU with a few buffers of other types and layouts.
const tinyArchive = "testdata/tiny_conv.ts"

// TestReadTiny checks the module tree, the attribute values, the tensors
// (a transposed view and a float16 buffer among them) and the class
// declarations of the small archive.
func TestReadTiny(t *testing.T) {
	a, err := torchscript.Open(tinyArchive)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "tiny_conv" || a.Version != 3 || a.Root.Class != "__torch__.Tiny" || len(a.Constants) != 0 {
		t.Errorf("archive %q version %d root %s constants %v, want tiny_conv 3 __torch__.Tiny none", a.Name, a.Version, a.Root.Class, a.Constants)
	}
	var names []string
	for _, nt := range a.Root.Tensors() {
		names = append(names, nt.Name+" "+nt.Tensor.String())
	}
	want := []string{
		"scale float32 (2)", "steps int64 ()", "transposed float32 (3, 2)", "halves float16 (3)",
		"conv.weight float32 (3, 2, 3)", "conv.bias float32 (3)",
	}
	if !slices.Equal(names, want) {
		t.Errorf("Tensors() = %q, want %q", names, want)
	}
	root := a.Root
	values := map[string][]float32{
		"scale":      {1.5, -2},
		"steps":      {7},
		"transposed": {0, 3, 1, 4, 2, 5},
		"halves":     {0.5, -1, 65504},
		"conv.bias":  {-0.276768296957016, -0.17777696251869202, 0.14828276634216309},
	}
	for name, v := range values {
		mod, attr := root, name
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			mod, attr = root.Lookup(name[:i]), name[i+1:]
		}
		if got := mod.Tensor(attr).Float32(); !slices.Equal(got, v) {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if steps, ok := root.Tensor("steps").Int64(); !ok || !slices.Equal(steps, []int64{7}) {
		t.Errorf("steps.Int64() = %v, %v, want [7] true", steps, ok)
	}
	if s, _ := root.String("label"); s != "tiny" {
		t.Errorf("label = %q, want tiny", s)
	}
	if r, _ := root.Get("ratios"); !reflect.DeepEqual(r, []any{int64(4), int64(2)}) {
		t.Errorf("ratios = %#v, want [4 2]", r)
	}
	conv := root.Lookup("conv")
	if conv.Type() != "torch.nn.modules.conv.Conv1d" || conv.Path != "conv" {
		t.Errorf("conv: type %s path %q", conv.Type(), conv.Path)
	}
	if !slices.Equal(conv.Decl.Parameters, []string{"weight", "bias"}) || !slices.Equal(root.Decl.Buffers, []string{"scale", "steps", "transposed", "halves"}) {
		t.Errorf("declared parameters %v, buffers %v", conv.Decl.Parameters, root.Decl.Buffers)
	}
	for name, want := range map[string][]int{"stride": {2}, "padding": {1}, "kernel_size": {3}, "groups": {1}} {
		if got, err := conv.Decl.Ints(name); err != nil || !slices.Equal(got, want) {
			t.Errorf("Conv1d constant %s = %v, %v, want %v", name, got, err, want)
		}
	}
	if s, err := root.Lookup("act").Decl.Float("negative_slope"); err != nil || s != 0.2 {
		t.Errorf("LeakyReLU negative_slope = %v, %v, want 0.2", s, err)
	}
}

// rezip rewrites the zip archive src: edit returns each entry's new
// content, or nil to drop it; extra entries are appended.
func rezip(t *testing.T, src []byte, edit func(name string, data []byte) []byte, extra map[string][]byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			data = edit(f.Name, data)
		}
		if data != nil {
			put(f.Name, data)
		}
	}
	for name, data := range extra {
		put(name, data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withPickle returns the tiny archive with data.pkl replaced by p.
func withPickle(t *testing.T, tiny, p []byte) []byte {
	return rezip(t, tiny, func(name string, data []byte) []byte {
		if name == "tiny_conv/data.pkl" {
			return p
		}
		return data
	}, nil)
}

// TestReadRefusesBadArchives checks that damaged and foreign archives are
// refused with one clear error each.
func TestReadRefusesBadArchives(t *testing.T) {
	tiny, err := os.ReadFile(tinyArchive)
	if err != nil {
		t.Fatal(err)
	}
	const proto = "\x80\x02"
	// A root object of class __torch__.Top with the state dict built by the
	// opcodes in between (BINPUT 1 memoises the root).
	top := func(state string) []byte {
		return []byte(proto + "c__torch__\nTop\n)\x81q\x01}(" + state + "ub.")
	}
	const child = "c__torch__\nChild\n)\x81q\x02}b"
	str := func(s string) string { return "X" + string([]byte{byte(len(s)), 0, 0, 0}) + s }
	cases := []struct {
		name    string
		data    []byte
		want    string
		notTS   bool
		wantErr bool
	}{
		{name: "cut short", data: tiny[:len(tiny)/2], want: "not a zip archive, or cut short"},
		{name: "empty", data: nil, want: "not a zip archive, or cut short"},
		{name: "torch.save checkpoint", notTS: true, want: "neither constants.pkl nor code", data: rezip(t, tiny, func(name string, data []byte) []byte {
			if strings.Contains(name, "/code/") || strings.HasSuffix(name, "constants.pkl") {
				return nil
			}
			return data
		}, nil)},
		{name: "npz", notTS: true, want: "no data.pkl", data: rezip(t, tiny, func(string, []byte) []byte { return nil }, map[string][]byte{"x.npy": []byte("\x93NUMPY")})},
		{name: "missing storage", want: "no record data/4", data: rezip(t, tiny, func(name string, data []byte) []byte {
			if name == "tiny_conv/data/4" {
				return nil
			}
			return data
		}, nil)},
		{name: "short storage", want: "do not fill its record", data: rezip(t, tiny, func(name string, data []byte) []byte {
			if name == "tiny_conv/data/4" {
				return data[:40]
			}
			return data
		}, nil)},
		{name: "foreign global", want: "unsupported global posix.system", data: rezip(t, tiny, func(name string, data []byte) []byte {
			if name == "tiny_conv/data.pkl" {
				return bytes.Replace(data, []byte("collections\nOrderedDict\n"), []byte("posix\nsystem\n"), 1)
			}
			return data
		}, nil)},
		{name: "not a module", want: "holds a list", data: withPickle(t, tiny, []byte(proto+"]q\x00."))},
		{name: "string past the end", want: "longer than the data", data: withPickle(t, tiny, []byte(proto+"X\xff\xff\xff\x7fabc."))},
		{name: "huge frame", want: "longer than the data", data: withPickle(t, tiny, []byte(proto+"\x95\xff\xff\xff\xff\xff\xff\xff\x7f."))},
		{name: "no stop", want: "no STOP", data: withPickle(t, tiny, []byte(proto+"N"))},
		{name: "unknown opcode", want: "unknown pickle opcode", data: withPickle(t, tiny, []byte(proto+"\xff."))},
		{name: "module containing itself", want: "contains itself", data: withPickle(t, tiny, top(str("a")+"h\x01"))},
		{name: "module twice", want: "appears twice", data: withPickle(t, tiny, top(str("a")+child+str("b")+"h\x02"))},
		{name: "list containing itself", want: "contains itself", data: withPickle(t, tiny, top(str("a")+"]q\x03h\x03a"))},
		{name: "stack underflow", wantErr: true, data: withPickle(t, tiny, []byte(proto+"a."))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := torchscript.Read(bytes.NewReader(c.data), int64(len(c.data)), "bad.ts")
			switch {
			case err == nil:
				t.Fatal("Read succeeded")
			case !strings.HasPrefix(err.Error(), "torchscript: bad.ts: "):
				t.Errorf("err = %v, want it prefixed with the file", err)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Errorf("err = %v, want it to say %q", err, c.want)
			case errors.Is(err, torchscript.ErrNotTorchScript) != c.notTS:
				t.Errorf("err = %v: errors.Is(err, ErrNotTorchScript) = %v", err, !c.notTS)
			}
		})
	}
}

// TestReadUnaligned checks that a deflated data.pkl and storages at odd
// offsets (torch aligns them to 64 bytes, the fixtures' copies do not)
// read the same.
func TestReadUnaligned(t *testing.T) {
	tiny, err := os.ReadFile(tinyArchive)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(tiny), int64(len(tiny)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		method := zip.Store
		if i%2 == 0 {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: method, Extra: make([]byte, 4+i%3)})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	a, err := torchscript.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "rezipped.ts")
	if err != nil {
		t.Fatal(err)
	}
	b, err := torchscript.Open(tinyArchive)
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := a.Root.Tensors(), b.Root.Tensors()
	for i := range tb {
		if ta[i].Name != tb[i].Name || !slices.Equal(ta[i].Float32(), tb[i].Float32()) {
			t.Errorf("tensor %s differs after re-zipping", tb[i].Name)
		}
	}
}
