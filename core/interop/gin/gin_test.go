package gin_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/interop/gin"
)

// TestParse parses the constructs of the reference's config files and
// checks each binding's resolved value.
func TestParse(t *testing.T) {
	src := `from __gin__ import dynamic_registration
import cached_conv as cc
from rave import blocks, core
include "configs/v1.gin"

# Macros:
# ======
CAPACITY = 8
RATIOS = [4, 4,
          4, 2]   # continued inside brackets
DIL = [[1, 3, 9], [1, 3]]
NAME = 'it''s'

blocks.EncoderV2.capacity = %CAPACITY
variational/blocks.EncoderV2.ratios = %RATIOS
a/b/mod.C.neg = -1.5e-07
mod.C.tuple = (5, 1)
mod.C.one = (5,)
mod.C.paren = (5)
mod.C.empty = ()
mod.C.dict = {'feature_matching': 20, "x": [True, False, None]}
mod.C.ref = @periods/discriminator.ConvNet
mod.C.call = @core.get_augmented_latent_size()
mod.C.list = \
    [@discriminator.MultiPeriodDiscriminator,
     @discriminator.MultiScaleDiscriminator,]
mod.C.str = "a\"b\n" 'c'
mod.C.int = 1_000_000
mod.C.hex = 0x10
mod.C.nest = %DIL

blocks.NoiseGeneratorV2:
    hidden_size = 128

    ratios = [2, 2, 2]  # a comment
mod.C.after = 1
`
	f, err := gin.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"__gin__.dynamic_registration", "cached_conv as cc", "rave.blocks", "rave.core"}; !reflect.DeepEqual(f.Imports, want) {
		t.Errorf("Imports = %q, want %q", f.Imports, want)
	}
	if want := []string{"configs/v1.gin"}; !reflect.DeepEqual(f.Includes, want) {
		t.Errorf("Includes = %q, want %q", f.Includes, want)
	}
	got := map[string]gin.Value{}
	for _, b := range f.Bindings {
		v, err := f.Resolve(b.Value)
		if err != nil {
			t.Fatalf("%s: %v", b.Key(), err)
		}
		got[b.Key()] = v
	}
	cases := []struct {
		key  string
		want gin.Value
	}{
		{"blocks.EncoderV2.capacity", int64(8)},
		{"variational/blocks.EncoderV2.ratios", gin.List{int64(4), int64(4), int64(4), int64(2)}},
		{"a/b/mod.C.neg", -1.5e-07},
		{"mod.C.tuple", gin.Tuple{int64(5), int64(1)}},
		{"mod.C.one", gin.Tuple{int64(5)}},
		{"mod.C.paren", int64(5)},
		{"mod.C.empty", gin.Tuple{}},
		{"mod.C.dict", gin.Dict{{"feature_matching", int64(20)}, {"x", gin.List{true, false, nil}}}},
		{"mod.C.ref", gin.Ref{Name: "periods/discriminator.ConvNet"}},
		{"mod.C.call", gin.Ref{Name: "core.get_augmented_latent_size", Evaluate: true}},
		{"mod.C.list", gin.List{gin.Ref{Name: "discriminator.MultiPeriodDiscriminator"}, gin.Ref{Name: "discriminator.MultiScaleDiscriminator"}}},
		{"mod.C.str", "a\"b\nc"},
		{"mod.C.int", int64(1000000)},
		{"mod.C.hex", int64(16)},
		{"mod.C.nest", gin.List{gin.List{int64(1), int64(3), int64(9)}, gin.List{int64(1), int64(3)}}},
		{"blocks.NoiseGeneratorV2.hidden_size", int64(128)},
		{"blocks.NoiseGeneratorV2.ratios", gin.List{int64(2), int64(2), int64(2)}},
		{"mod.C.after", int64(1)},
	}
	for _, c := range cases {
		if v, ok := got[c.key]; !ok || !reflect.DeepEqual(v, c.want) {
			t.Errorf("%s = %#v, want %#v", c.key, v, c.want)
		}
	}
	if len(got) != len(cases) {
		t.Errorf("%d bindings, want %d: %v", len(got), len(cases), got)
	}
	if v := f.Macros["NAME"]; v != "its" {
		t.Errorf("NAME = %#v, want \"its\" (adjacent strings)", v)
	}
	b := f.Bindings[1]
	if b.Scope != "variational" || b.Configurable != "blocks.EncoderV2" || b.Class() != "EncoderV2" || b.Param != "ratios" || b.Line != 15 {
		t.Errorf("binding %+v: want scope variational, blocks.EncoderV2 (EncoderV2), ratios, line 15", b)
	}
}

// TestParseRefuses checks that malformed files are refused with the line
// and the reason.
func TestParseRefuses(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"unclosed list", "A = [1, 2\n", "line 2: the file ends inside brackets"},
		{"stray bracket", "A = 1]\n", "line 1: ']' without its opening bracket"},
		{"bare name", "m.C.p = hello\n", `line 1: unexpected name "hello" in a value`},
		{"no value", "m.C.p =\n", "line 1: expected a value, found the end of the line"},
		{"two values", "m.C.p = 1 2\n", "line 1: unexpected \"2\" after a complete statement"},
		{"unterminated string", "m.C.p = 'abc\n", "line 1: unterminated string"},
		{"bad number", "m.C.p = 1.2.3\n", `line 1: "1.2.3" is not a number`},
		{"octal", "m.C.p = 010\n", `"010" is not a number`},
		{"backslash", "m.C.p = 1 \\ 2\n", "line 1: a backslash must end its line"},
		{"indented", "A = 1\n  m.C.p = 2\n", "line 2: unexpected indentation"},
		{"scoped macro", "s/A = 1\n", `"s/A": a macro has no scope`},
		{"empty param", "m.C. = 1\n", "is not a binding"},
		{"empty block", "m.C:\nm.D.p = 1\n", `block "m.C:" has no bindings`},
		{"dotted block line", "m.C:\n  x.y = 1\n", "a block's line must be"},
		{"no operator", "m.C.p 1\n", "expected = or : after"},
		{"deep", "A = " + strings.Repeat("[", 40) + strings.Repeat("]", 40), "nested deeper than 32"},
		{"character", "A = $\n", "unexpected character '$'"},
		{"ref without name", "A = @ 1\n", "@ must be followed"},
		{"ref call args", "A = @f(1)\n", "@f( must be followed by )"},
		{"dict without colon", "A = {1 2}\n", "expected : after a dict key"},
		{"huge", strings.Repeat("#", gin.MaxBytes+1), "more than the"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := gin.Parse([]byte(c.src))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "gin: ") {
				t.Fatalf("Parse = %v, %v; want an error saying %q", f, err, c.want)
			}
		})
	}
}

// TestResolve checks macro resolution: nested macros, undefined ones and
// cycles.
func TestResolve(t *testing.T) {
	f, err := gin.Parse([]byte("A = %B\nB = [%C, (%C,)]\nC = 3\nX = %Y\nY = %X\nm.C.p = {%C: %U}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   gin.Value
		want gin.Value
		err  string
	}{
		{gin.Macro{Name: "A"}, gin.List{int64(3), gin.Tuple{int64(3)}}, ""},
		{gin.Macro{Name: "X"}, nil, "nested deeper than"},
		{gin.Macro{Name: "Z"}, nil, "macro %Z is not defined"},
		{f.Bindings[0].Value, nil, "macro %U is not defined"},
		{"plain", "plain", ""},
	}
	for _, c := range cases {
		v, err := f.Resolve(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Resolve(%v) = %v, %v; want an error saying %q", c.in, v, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(v, c.want) {
			t.Errorf("Resolve(%v) = %#v, %v; want %#v", c.in, v, err, c.want)
		}
	}
}

// TestFormat checks that Format writes values that Parse reads back
// unchanged.
func TestFormat(t *testing.T) {
	for _, v := range []gin.Value{
		int64(-3), 1e-07, 2.0, "a'b\"c", true, nil,
		gin.List{int64(1), gin.Tuple{int64(5)}, gin.Tuple{}},
		gin.Dict{{"k", gin.Ref{Name: "s/m.F", Evaluate: true}}},
		gin.Macro{Name: "N"},
	} {
		s := gin.Format(v)
		f, err := gin.Parse([]byte("m.C.p = " + s + "\n"))
		if err != nil {
			t.Errorf("Format(%#v) = %s, which does not parse: %v", v, s, err)
			continue
		}
		if got := f.Bindings[0].Value; !reflect.DeepEqual(got, v) {
			t.Errorf("Format(%#v) = %s, parsed back as %#v", v, s, got)
		}
	}
}

// TestReferenceRunConfig parses the reference's operative config of the
// rave-v2-small fixture run (ts/run_config.gin), when present.
func TestReferenceRunConfig(t *testing.T) {
	src, err := os.ReadFile(fixtures.File(t, "rave-v2-small", filepath.Join("ts", "run_config.gin")))
	if err != nil {
		t.Fatal(err)
	}
	f, err := gin.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Bindings) != 114 || len(f.Macros) != 9 {
		t.Errorf("%d bindings and %d macros, want 114 and 9", len(f.Bindings), len(f.Macros))
	}
	for _, b := range f.Bindings {
		if _, err := f.Resolve(b.Value); err != nil {
			t.Errorf("%s: %v", b.Key(), err)
		}
	}
}
