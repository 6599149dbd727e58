// Package gin reads the gin-config files that the reference trainer
// writes next to its runs (config.gin: gin.operative_config_str()), in
// the subset those files and the reference's configs/*.gin use:
//
//	# comment
//	from __gin__ import dynamic_registration   (import lines are recorded)
//	import rave
//	CAPACITY = 8                                (a macro)
//	scope/module.Class.param = value            (a binding)
//	module.Class:                               (a block of bindings)
//	    param = value
//
// Values are Python literals — integers, floats, strings in single or
// double quotes, True, False, None, lists, tuples and dicts of them —
// plus references to configurables (@scope/module.Name, evaluated with a
// trailing "()") and to macros (%NAME). A value may run over several
// lines inside brackets or after a backslash.
//
// It does not run anything: it parses the text into bindings and macros
// (Parse) and resolves macro references (File.Resolve); what a binding
// means is for the caller. include lines are recorded, not followed.
//
// Parse is meant for untrusted files: the input size, nesting depth and
// the number of bindings are bounded, macro resolution stops at cycles,
// and malformed input gives an error with its line number, never a panic
// (FuzzParse). Errors are prefixed "gin: ".
package gin

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits on what a file may ask of the reader. A run's config.gin is a
// few kilobytes with a few hundred bindings.
const (
	// MaxBytes is the largest file Parse reads.
	MaxBytes = 1 << 20
	// MaxDepth bounds the nesting of brackets in a value and of macro
	// references in Resolve.
	MaxDepth = 32
	// MaxBindings bounds the bindings and macros of a file.
	MaxBindings = 1 << 14
)

// Value is a parsed value: nil (None), bool, int64, float64, string, List,
// Tuple, Dict, Ref or Macro.
type Value any

// List is a Python list literal.
type List []Value

// Tuple is a Python tuple literal.
type Tuple []Value

// Dict is a Python dict literal, in file order.
type Dict []DictEntry

// DictEntry is one key: value pair of a Dict.
type DictEntry struct {
	Key, Value Value
}

// Ref is a reference to a configurable: @Name, or @Name() when Evaluate
// (the configurable is called and its result is the value).
type Ref struct {
	// Name is the configurable, with its scopes ("periods/discriminator.ConvNet").
	Name     string
	Evaluate bool
}

// String returns the reference as written.
func (r Ref) String() string {
	if r.Evaluate {
		return "@" + r.Name + "()"
	}
	return "@" + r.Name
}

// Macro is a reference to a macro: %NAME.
type Macro struct{ Name string }

// Binding is "scope/module.Configurable.param = value".
type Binding struct {
	// Scope is the scope path before the configurable ("variational",
	// "a/b"), empty for none.
	Scope string
	// Configurable is the configurable's name as written, module path
	// included ("blocks.EncoderV2").
	Configurable string
	// Param is the parameter.
	Param string
	// Value is the value as written (macro references unresolved).
	Value Value
	// Line is the line where the binding starts.
	Line int
}

// Key returns the binding's selector as written: scope/configurable.param.
func (b Binding) Key() string {
	k := b.Configurable + "." + b.Param
	if b.Scope != "" {
		k = b.Scope + "/" + k
	}
	return k
}

// Class returns the last component of the configurable's name
// ("EncoderV2" for "blocks.EncoderV2").
func (b Binding) Class() string {
	return b.Configurable[strings.LastIndexByte(b.Configurable, '.')+1:]
}

// File is a parsed gin file.
type File struct {
	// Bindings are the parameter bindings in file order (a later binding
	// of the same key overrides an earlier one, as in gin).
	Bindings []Binding
	// Macros are the macro values by name (the last definition wins).
	Macros map[string]Value
	// Imports are the modules of import lines ("rave", "rave.blocks",
	// "cached_conv as cc").
	Imports []string
	// Includes are the files of include lines, which Parse does not read.
	Includes []string
}

// Parse reads a gin file's text.
func Parse(src []byte) (*File, error) {
	if len(src) > MaxBytes {
		return nil, fmt.Errorf("gin: %d bytes, more than the %d a config file may have", len(src), MaxBytes)
	}
	toks, err := lex(string(src))
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, f: &File{Macros: map[string]Value{}}}
	if err := p.file(); err != nil {
		return nil, err
	}
	return p.f, nil
}

// Resolve returns v with every macro reference replaced by the macro's
// value, recursively; an undefined macro or a cycle is an error.
func (f *File) Resolve(v Value) (Value, error) {
	return f.resolve(v, 0)
}

func (f *File) resolve(v Value, depth int) (Value, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("gin: macros nested deeper than %d (a cycle?)", MaxDepth)
	}
	switch x := v.(type) {
	case Macro:
		m, ok := f.Macros[x.Name]
		if !ok {
			return nil, fmt.Errorf("gin: macro %%%s is not defined", x.Name)
		}
		return f.resolve(m, depth+1)
	case List:
		out, err := f.resolveAll(x, depth)
		return List(out), err
	case Tuple:
		out, err := f.resolveAll(x, depth)
		return Tuple(out), err
	case Dict:
		out := make(Dict, len(x))
		for i, e := range x {
			k, err := f.resolve(e.Key, depth+1)
			if err != nil {
				return nil, err
			}
			val, err := f.resolve(e.Value, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = DictEntry{k, val}
		}
		return out, nil
	}
	return v, nil
}

func (f *File) resolveAll(xs []Value, depth int) ([]Value, error) {
	out := make([]Value, len(xs))
	for i, x := range xs {
		r, err := f.resolve(x, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// Format writes v as gin would: Python literal syntax.
func Format(v Value) string {
	var b strings.Builder
	format(&b, v)
	return b.String()
}

func format(b *strings.Builder, v Value) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		b.WriteString(s)
	case string:
		b.WriteString(strconv.Quote(x))
	case List:
		b.WriteByte('[')
		formatAll(b, x)
		b.WriteByte(']')
	case Tuple:
		b.WriteByte('(')
		formatAll(b, x)
		if len(x) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case Dict:
		b.WriteByte('{')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			format(b, e.Key)
			b.WriteString(": ")
			format(b, e.Value)
		}
		b.WriteByte('}')
	case Ref:
		b.WriteString(x.String())
	case Macro:
		b.WriteString("%" + x.Name)
	default:
		fmt.Fprintf(b, "%v", x)
	}
}

func formatAll(b *strings.Builder, xs []Value) {
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		format(b, x)
	}
}

// Int returns v as an int: an int64, or a float64 with an integer value,
// within ±2^53.
func Int(v Value) (int, bool) {
	switch x := v.(type) {
	case int64:
		if x >= -1<<53 && x <= 1<<53 {
			return int(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return int(x), true
		}
	}
	return 0, false
}

// Float returns v as a float64 (an int64 or a float64).
func Float(v Value) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// Ints returns v, a list or tuple of integers, as a slice.
func Ints(v Value) ([]int, bool) {
	var xs []Value
	switch x := v.(type) {
	case List:
		xs = x
	case Tuple:
		xs = x
	default:
		return nil, false
	}
	out := make([]int, len(xs))
	for i, x := range xs {
		n, ok := Int(x)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}
