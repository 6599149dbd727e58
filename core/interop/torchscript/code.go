package torchscript

import (
	"fmt"
	"strconv"
	"strings"
)

// Class is what a class declaration of the compiled code says about the
// class's attributes: which are parameters and buffers, and its constants.
type Class struct {
	// Name is the qualified name, e.g.
	// "__torch__.cached_conv.convs.___torch_mangle_12.Conv1d".
	Name string
	// Parameters and Buffers list the attributes declared in
	// __parameters__ and __buffers__.
	Parameters, Buffers []string
	// Constants are the class constants ("stride : Final[Tuple[int]] =
	// (16,)"): their values as written in the code, by name.
	Constants map[string]string
}

// codePath returns the code record of a qualified class name and the
// class name within it: __torch__.a.b.C is class C of code/__torch__/a/b.py.
func codePath(qualified string) (file, class string, ok bool) {
	i := strings.LastIndexByte(qualified, '.')
	if i <= 0 || !strings.HasPrefix(qualified, "__torch__") {
		return "", "", false
	}
	return "code/" + strings.ReplaceAll(qualified[:i], ".", "/") + ".py", qualified[i+1:], true
}

// parseClass finds the declaration of class name in the code text src and
// parses its header: the lines between "class name(" and its first method.
func parseClass(src, qualified, name string) (*Class, bool) {
	c := &Class{Name: qualified, Constants: map[string]string{}}
	found := false
	for line := range strings.Lines(src) {
		line = strings.TrimRight(line, "\r\n")
		if !found {
			found = strings.HasPrefix(line, "class "+name+"(")
			continue
		}
		if !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "  def ") {
			break // the next class or the first method
		}
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "__parameters__ = "):
			c.Parameters = parseNameList(strings.TrimPrefix(line, "__parameters__ = "))
		case strings.HasPrefix(line, "__buffers__ = "):
			c.Buffers = parseNameList(strings.TrimPrefix(line, "__buffers__ = "))
		default:
			// name : Final[T] = value
			attr, decl, ok := strings.Cut(line, " : ")
			if !ok || !strings.HasPrefix(decl, "Final[") {
				continue
			}
			if _, value, ok := strings.Cut(decl, "] = "); ok {
				c.Constants[attr] = value
			}
		}
	}
	return c, found
}

// parseNameList parses ["a", "b", ].
func parseNameList(s string) []string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if n, err := strconv.Unquote(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Ints parses a constant holding an int or a tuple of ints ("16", "(1,)",
// "(2, 0)").
func (c *Class) Ints(name string) ([]int, error) {
	v, ok := c.Constants[name]
	if !ok {
		return nil, fmt.Errorf("class %s declares no constant %s", c.Name, name)
	}
	s := strings.TrimSpace(v)
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") || strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("class %s: constant %s = %s is not a tuple of ints", c.Name, name, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// Float parses a constant holding a number ("0.20000000000000001").
func (c *Class) Float(name string) (float64, error) {
	v, ok := c.Constants[name]
	if !ok {
		return 0, fmt.Errorf("class %s declares no constant %s", c.Name, name)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, fmt.Errorf("class %s: constant %s = %s is not a number", c.Name, name, v)
	}
	return f, nil
}
