package tsexport

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ravestation/rave/core/interop/torchscript"
)

// A module of the exported tree: its class (package and name), its
// attributes in declaration order and the source of its methods, in which
// selfType stands for its qualified class name until classes are named.
type module struct {
	pkg, class string
	fields     []field
	consts     []string // "name : Final[T] = value"
	methods    []string
	qual       string // the qualified class name, once named
}

// selfType is replaced by the module's qualified class name in its
// methods.
const selfType = "{{SELF}}"

// Kinds of field.
const (
	param = iota
	buffer
	attr
	sub
)

// field is an attribute of a module: a parameter or buffer (a tensor), a
// plain attribute of TorchScript type typ, or a submodule.
type field struct {
	name  string
	kind  int
	typ   string
	value any // *torchscript.Data, a plain value, or *module
}

func newModule(pkg, class string) *module { return &module{pkg: pkg, class: class} }

func (m *module) param(name string, d *torchscript.Data) *module {
	m.fields = append(m.fields, field{name: name, kind: param, typ: "Tensor", value: d})
	return m
}

func (m *module) buffer(name string, d *torchscript.Data) *module {
	m.fields = append(m.fields, field{name: name, kind: buffer, typ: "Tensor", value: d})
	return m
}

func (m *module) attr(name, typ string, v any) *module {
	m.fields = append(m.fields, field{name: name, kind: attr, typ: typ, value: v})
	return m
}

func (m *module) sub(name string, s *module) *module {
	m.fields = append(m.fields, field{name: name, kind: sub, value: s})
	return m
}

func (m *module) constant(name, typ, value string) *module {
	m.consts = append(m.consts, name+" : Final["+typ+"] = "+value)
	return m
}

// method adds a method; its text is indented by two spaces, the "def"
// line first, selfType standing for the class.
func (m *module) method(src string) *module {
	m.methods = append(m.methods, src)
	return m
}

// seq returns a container of class cached_conv.convs.CachedSequential
// whose forward runs the children "0", "1", … in turn.
func seq(children ...*module) *module {
	s := newModule("cached_conv.convs", "CachedSequential")
	var b strings.Builder
	b.WriteString("  def forward(self: " + selfType + ",\n    x: Tensor) -> Tensor:\n")
	for i, c := range children {
		s.sub(strconv.Itoa(i), c)
		fmt.Fprintf(&b, "    _%d = getattr(self, \"%d\")\n    x = (_%d).forward(x, )\n", i, i, i)
	}
	b.WriteString("    return x\n")
	return s.method(b.String())
}

// list returns a torch.nn.ModuleList of the children, without methods.
func list(children ...*module) *module {
	l := newModule("torch.nn.modules.container", "ModuleList")
	for i, c := range children {
		l.sub(strconv.Itoa(i), c)
	}
	return l
}

// identifier reports whether s can be declared as "s : T" (otherwise
// it is declared as __annotations__["s"] = T).
func identifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// header returns the declaration of m's class (before its methods), with
// its children already named.
func (m *module) header() string {
	var b strings.Builder
	var params, buffers []string
	for _, f := range m.fields {
		switch f.kind {
		case param:
			params = append(params, strconv.Quote(f.name)+", ")
		case buffer:
			buffers = append(buffers, strconv.Quote(f.name)+", ")
		}
	}
	b.WriteString("class " + m.class + "(Module):\n")
	b.WriteString("  __parameters__ = [" + strings.Join(params, "") + "]\n")
	b.WriteString("  __buffers__ = [" + strings.Join(buffers, "") + "]\n")
	b.WriteString("  training : bool\n")
	for _, f := range m.fields {
		typ := f.typ
		if f.kind == sub {
			typ = f.value.(*module).qual
		}
		if identifier(f.name) {
			b.WriteString("  " + f.name + " : " + typ + "\n")
		} else {
			b.WriteString("  __annotations__[" + strconv.Quote(f.name) + "] = " + typ + "\n")
		}
	}
	for _, c := range m.consts {
		b.WriteString("  " + c + "\n")
	}
	return b.String()
}

// source returns the class declaration and methods with selfType in
// place of the class name.
func (m *module) source() string {
	return m.header() + strings.Join(m.methods, "")
}

// namer gives every distinct class a qualified name, as torch.jit.save
// does: the first class of a name keeps it, the next distinct ones are
// mangled (__torch__.pkg.___torch_mangle_N.Class), and identical classes
// share one.
type namer struct {
	byText map[string]string
	used   map[string]bool
	n      int
	code   map[string]*strings.Builder
}

// name names m and its children (children first) and adds their source
// to the code records.
func (nm *namer) name(m *module) {
	for _, f := range m.fields {
		if f.kind == sub {
			nm.name(f.value.(*module))
		}
	}
	src := m.source()
	key := m.pkg + "\x00" + m.class + "\x00" + src
	if q, ok := nm.byText[key]; ok {
		m.qual = q
		return
	}
	prefix := "__torch__"
	if m.pkg != "" {
		prefix += "." + m.pkg
	}
	q := prefix + "." + m.class
	file := strings.ReplaceAll(prefix, ".", "/") + ".py"
	if nm.used[q] {
		mangle := "___torch_mangle_" + strconv.Itoa(nm.n)
		nm.n++
		q = prefix + "." + mangle + "." + m.class
		file = strings.ReplaceAll(prefix, ".", "/") + "/" + mangle + ".py"
	}
	nm.used[q] = true
	nm.byText[key] = q
	m.qual = q
	b := nm.code[file]
	if b == nil {
		b = &strings.Builder{}
		nm.code[file] = b
	}
	b.WriteString(strings.ReplaceAll(src, selfType, q))
}

// object returns the pickled form of the named tree m.
func (m *module) object() *torchscript.Object {
	o := &torchscript.Object{Class: m.qual, Attrs: []torchscript.Attr{{Name: "training", Value: false}}}
	for _, f := range m.fields {
		v := f.value
		if s, ok := v.(*module); ok {
			v = s.object()
		}
		o.Attrs = append(o.Attrs, torchscript.Attr{Name: f.name, Value: v})
	}
	return o
}

// archive names the classes of the tree under root and returns the
// archive to write.
func archive(name string, root *module) *torchscript.Export {
	nm := &namer{byText: map[string]string{}, used: map[string]bool{}, code: map[string]*strings.Builder{}}
	nm.name(root)
	code := map[string]string{}
	for f, b := range nm.code {
		code[f] = b.String()
	}
	return &torchscript.Export{Name: name, Version: 3, Root: root.object(), Code: code}
}
