package gin

import (
	"fmt"
	"strconv"
	"strings"
)

// tokKind is the kind of a token.
type tokKind int

const (
	tName    tokKind = iota // identifier, dotted and scoped: a/b.C.d
	tNum                    // number literal, sign included
	tStr                    // string literal (text unquoted)
	tPunct                  // one of = : ( ) [ ] { } , @ %
	tNewline                // end of a logical line
)

// token is one lexical token; first and indent describe its line when it
// is the first token of a physical line.
type token struct {
	kind   tokKind
	text   string
	line   int
	first  bool // first token of its line
	indent int  // its column, when first
}

func (t token) is(punct string) bool { return t.kind == tPunct && t.text == punct }

// describe names the token for an error message.
func (t token) describe() string {
	if t.kind == tNewline {
		return "the end of the line"
	}
	return strconv.Quote(t.text)
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameChar(c byte) bool {
	return isNameStart(c) || '0' <= c && c <= '9' || c == '.' || c == '/'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// lex splits src into tokens. Newlines inside brackets and after a
// backslash do not end a line; comments are dropped.
func lex(src string) ([]token, error) {
	var toks []token
	line, depth := 1, 0
	lineStart, sawToken := 0, false
	emit := func(t token, at int) {
		t.line = line
		if !sawToken {
			t.first, t.indent = true, at-lineStart
			sawToken = true
		}
		toks = append(toks, t)
	}
	newline := func(i int) {
		line++
		lineStart = i + 1
		sawToken = false
	}
	errf := func(format string, args ...any) error {
		return fmt.Errorf("gin: line %d: "+format, append([]any{line}, args...)...)
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			if depth == 0 && len(toks) > 0 && toks[len(toks)-1].kind != tNewline {
				toks = append(toks, token{kind: tNewline, line: line})
			}
			newline(i)
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '\\':
			j := i + 1
			for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
				j++
			}
			if j >= len(src) || src[j] != '\n' {
				return nil, errf("a backslash must end its line")
			}
			// The next physical line continues this one.
			line++
			lineStart = j + 1
			i = j + 1
		case c == '\'' || c == '"':
			s, n, err := lexString(src[i:])
			if err != nil {
				return nil, errf("%v", err)
			}
			emit(token{kind: tStr, text: s}, i)
			line += strings.Count(src[i:i+n], "\n")
			i += n
		case isDigit(c) || (c == '.' || c == '-' || c == '+') && i+1 < len(src) && (isDigit(src[i+1]) || src[i+1] == '.' && i+2 < len(src) && isDigit(src[i+2])):
			j := i + 1
			for j < len(src) && (isDigit(src[j]) || isNameStart(src[j]) || src[j] == '.' ||
				(src[j] == '-' || src[j] == '+') && (src[j-1] == 'e' || src[j-1] == 'E') && !strings.HasPrefix(strings.ToLower(src[i:j]), "0x")) {
				j++
			}
			emit(token{kind: tNum, text: src[i:j]}, i)
			i = j
		case isNameStart(c):
			j := i + 1
			for j < len(src) && isNameChar(src[j]) {
				j++
			}
			emit(token{kind: tName, text: src[i:j]}, i)
			i = j
		case strings.IndexByte("=:,@%", c) >= 0:
			emit(token{kind: tPunct, text: string(c)}, i)
			i++
		case c == '(' || c == '[' || c == '{':
			depth++
			if depth > MaxDepth {
				return nil, errf("brackets nested deeper than %d", MaxDepth)
			}
			emit(token{kind: tPunct, text: string(c)}, i)
			i++
		case c == ')' || c == ']' || c == '}':
			if depth == 0 {
				return nil, errf("%q without its opening bracket", c)
			}
			depth--
			emit(token{kind: tPunct, text: string(c)}, i)
			i++
		default:
			return nil, errf("unexpected character %q", c)
		}
	}
	if depth > 0 {
		return nil, errf("the file ends inside brackets")
	}
	if len(toks) > 0 && toks[len(toks)-1].kind != tNewline {
		toks = append(toks, token{kind: tNewline, line: line})
	}
	return toks, nil
}

// lexString reads the string literal at the start of s (single, double
// or triple quoted, with Python's common escapes) and returns its text
// and length in s.
func lexString(s string) (string, int, error) {
	q := s[:1]
	if strings.HasPrefix(s, q+q+q) {
		end := strings.Index(s[3:], q+q+q)
		if end < 0 {
			return "", 0, fmt.Errorf("unterminated string")
		}
		return s[3 : 3+end], end + 6, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case q[0]:
			return b.String(), i + 1, nil
		case '\n':
			return "", 0, fmt.Errorf("unterminated string")
		case '\\':
			i++
			if i >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case '\\', '\'', '"':
				b.WriteByte(e)
			case '\n':
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

// parser turns tokens into a File.
type parser struct {
	toks []token
	pos  int
	f    *File
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	line := 1
	if n := len(p.toks); n > 0 {
		line = p.toks[n-1].line
	}
	return token{kind: tNewline, line: line}
}

func (p *parser) next() token {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *parser) errf(t token, format string, args ...any) error {
	return fmt.Errorf("gin: line %d: "+format, append([]any{t.line}, args...)...)
}

// endLine consumes the newline that must end a statement.
func (p *parser) endLine() error {
	if t := p.next(); t.kind != tNewline {
		return p.errf(t, "unexpected %s after a complete statement", t.describe())
	}
	return nil
}

func (p *parser) file() error {
	for p.pos < len(p.toks) {
		t := p.next()
		switch {
		case t.kind == tNewline:
			continue
		case t.kind != tName:
			return p.errf(t, "a line must start with a name, not %s", t.describe())
		case !t.first:
			return p.errf(t, "unexpected %s", t.describe())
		case t.indent != 0:
			return p.errf(t, "unexpected indentation (a block's lines follow its \"name:\" line)")
		}
		var err error
		switch t.text {
		case "import":
			err = p.importLine()
		case "from":
			err = p.fromLine()
		case "include":
			s := p.next()
			if s.kind != tStr {
				return p.errf(s, "include needs a quoted file name")
			}
			p.f.Includes = append(p.f.Includes, s.text)
			err = p.endLine()
		default:
			err = p.statement(t)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) importLine() error {
	var parts []string
	for {
		t := p.next()
		if t.kind == tNewline {
			break
		}
		if t.kind != tName {
			return p.errf(t, "unexpected %s in an import line", t.describe())
		}
		parts = append(parts, t.text)
	}
	if len(parts) == 0 {
		return p.errf(p.peek(), "import without a module")
	}
	p.f.Imports = append(p.f.Imports, strings.Join(parts, " "))
	return nil
}

func (p *parser) fromLine() error {
	mod := p.next()
	if mod.kind != tName {
		return p.errf(mod, "from needs a module name")
	}
	if imp := p.next(); imp.kind != tName || imp.text != "import" {
		return p.errf(imp, "from %s needs import", mod.text)
	}
	n := 0
	for {
		t := p.next()
		switch {
		case t.kind == tNewline:
			if n == 0 {
				return p.errf(t, "from %s import without a name", mod.text)
			}
			return nil
		case t.kind == tName:
			p.f.Imports = append(p.f.Imports, mod.text+"."+t.text)
			n++
		case t.is(","):
		default:
			return p.errf(t, "unexpected %s in an import line", t.describe())
		}
	}
}

// statement parses "selector = value" or the block "selector:" whose
// first token, a name, is t.
func (p *parser) statement(t token) error {
	op := p.next()
	switch {
	case op.is("="):
		return p.bind(t, "", t.text)
	case op.is(":"):
		if nl := p.next(); nl.kind != tNewline {
			return p.errf(nl, "a block's %q line must end after the colon", t.text+":")
		}
		n := 0
		for p.pos < len(p.toks) {
			q := p.peek()
			if q.kind == tNewline {
				p.next()
				continue
			}
			if !q.first || q.indent == 0 {
				break
			}
			p.next()
			if q.kind != tName || strings.ContainsAny(q.text, "./") {
				return p.errf(q, "a block's line must be \"param = value\", not start with %s", q.describe())
			}
			if eq := p.next(); !eq.is("=") {
				return p.errf(eq, "expected = after %q, found %s", q.text, eq.describe())
			}
			if err := p.bind(q, t.text, q.text); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return p.errf(t, "block %q has no bindings", t.text+":")
		}
		return nil
	}
	return p.errf(op, "expected = or : after %q, found %s", t.text, op.describe())
}

// bind parses the value of a binding of selector (block + "." + name when
// in a block) and records it.
func (p *parser) bind(t token, block, name string) error {
	v, err := p.value(0)
	if err != nil {
		return err
	}
	if err := p.endLine(); err != nil {
		return err
	}
	if len(p.f.Bindings)+len(p.f.Macros) >= MaxBindings {
		return p.errf(t, "more than %d bindings", MaxBindings)
	}
	sel := name
	if block != "" {
		sel = block + "." + name
	}
	scope, rest := "", sel
	if i := strings.LastIndexByte(sel, '/'); i >= 0 {
		scope, rest = sel[:i], sel[i+1:]
	}
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		if scope != "" {
			return p.errf(t, "%q: a macro has no scope", sel)
		}
		p.f.Macros[rest] = v
		return nil
	}
	b := Binding{Scope: scope, Configurable: rest[:dot], Param: rest[dot+1:], Value: v, Line: t.line}
	if b.Param == "" || b.Configurable == "" || strings.HasPrefix(b.Configurable, ".") || strings.HasSuffix(b.Configurable, ".") ||
		strings.Contains(b.Configurable, "..") || strings.Contains(scope, "//") || strings.HasPrefix(scope, "/") {
		return p.errf(t, "%q is not a binding of the form scope/module.Name.param", sel)
	}
	p.f.Bindings = append(p.f.Bindings, b)
	return nil
}

// value parses one value.
func (p *parser) value(depth int) (Value, error) {
	if depth > MaxDepth {
		return nil, p.errf(p.peek(), "values nested deeper than %d", MaxDepth)
	}
	t := p.next()
	switch {
	case t.kind == tNum:
		return number(t.text, func() error { return p.errf(t, "%q is not a number", t.text) })
	case t.kind == tStr:
		s := t.text
		for p.peek().kind == tStr { // "a" "b" is "ab", as in Python
			s += p.next().text
		}
		return s, nil
	case t.kind == tName:
		switch t.text {
		case "True":
			return true, nil
		case "False":
			return false, nil
		case "None":
			return nil, nil
		}
		return nil, p.errf(t, "unexpected name %q in a value (strings need quotes, references an @)", t.text)
	case t.is("@"):
		n := p.next()
		if n.kind != tName {
			return nil, p.errf(n, "@ must be followed by a configurable's name")
		}
		r := Ref{Name: n.text}
		if p.peek().is("(") {
			p.next()
			if c := p.next(); !c.is(")") {
				return nil, p.errf(c, "@%s( must be followed by )", n.text)
			}
			r.Evaluate = true
		}
		return r, nil
	case t.is("%"):
		n := p.next()
		if n.kind != tName {
			return nil, p.errf(n, "%% must be followed by a macro's name")
		}
		return Macro{Name: n.text}, nil
	case t.is("["):
		xs, _, err := p.items("]", depth)
		return List(xs), err
	case t.is("("):
		xs, comma, err := p.items(")", depth)
		if err != nil {
			return nil, err
		}
		if len(xs) == 1 && !comma {
			return xs[0], nil // parentheses around one value
		}
		return Tuple(xs), nil
	case t.is("{"):
		return p.dict(depth)
	}
	return nil, p.errf(t, "expected a value, found %s", t.describe())
}

// items parses comma-separated values up to the closing bracket and
// reports whether a comma followed the last one.
func (p *parser) items(closing string, depth int) ([]Value, bool, error) {
	xs := []Value{}
	comma := false
	for {
		if p.peek().is(closing) {
			p.next()
			return xs, comma, nil
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, false, err
		}
		xs = append(xs, v)
		switch t := p.next(); {
		case t.is(","):
			comma = true
		case t.is(closing):
			return xs, false, nil
		default:
			return nil, false, p.errf(t, "expected , or %s, found %s", closing, t.describe())
		}
	}
}

func (p *parser) dict(depth int) (Value, error) {
	d := Dict{}
	for {
		if p.peek().is("}") {
			p.next()
			return d, nil
		}
		k, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); !c.is(":") {
			return nil, p.errf(c, "expected : after a dict key, found %s", c.describe())
		}
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d = append(d, DictEntry{k, v})
		switch t := p.next(); {
		case t.is(","):
		case t.is("}"):
			return d, nil
		default:
			return nil, p.errf(t, "expected , or }, found %s", t.describe())
		}
	}
}

// number parses a Python int or float literal.
func number(s string, bad func() error) (Value, error) {
	clean := strings.ReplaceAll(s, "_", "")
	lower := strings.ToLower(clean)
	body := strings.TrimLeft(lower, "+-")
	if !strings.HasPrefix(body, "0x") && !strings.HasPrefix(body, "0o") && !strings.HasPrefix(body, "0b") &&
		strings.ContainsAny(body, ".e") {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil {
			return nil, bad()
		}
		return f, nil
	}
	if len(body) > 1 && body[0] == '0' && isDigit(body[1]) {
		return nil, bad() // Python refuses 010
	}
	n, err := strconv.ParseInt(clean, 0, 64)
	if err != nil {
		return nil, bad()
	}
	return n, nil
}
