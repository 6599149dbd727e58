package tui

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// prompt is a one-line text input with a label, optionally completing
// file paths on tab.
type prompt struct {
	Common
	label   string
	input   textinput.Model
	paths   bool
	choices []string // completion candidates last shown
}

func newPrompt(c Common, label, value string, paths bool) prompt {
	in := textinput.New()
	in.Prompt = "› "
	in.PromptStyle = c.Styles.Prompt
	in.TextStyle = c.Styles.Text
	in.Cursor.Style = c.Styles.Cursor
	in.Cursor.SetMode(cursor.CursorStatic)
	in.SetValue(value)
	in.CursorEnd()
	in.Focus()
	in.Width = max(10, c.Width-4)
	return prompt{Common: c, label: label, input: in, paths: paths}
}

// Value returns the text typed.
func (p prompt) Value() string { return strings.TrimSpace(p.input.Value()) }

// Update edits the text; tab completes a path when paths is set. Enter
// and esc are left to the owner.
func (p prompt) Update(msg tea.Msg) (prompt, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && p.paths && key.Matches(k, p.Keys.Complete) {
		v, choices := completePath(p.input.Value())
		p.input.SetValue(v)
		p.input.CursorEnd()
		p.choices = choices
		return p, nil
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	if _, ok := msg.(tea.KeyMsg); ok {
		p.choices = nil
	}
	return p, cmd
}

// labelLines returns the label wrapped to the prompt's width.
func (p prompt) labelLines() []string { return wrap(p.label, p.Width) }

// height returns the number of lines View draws.
func (p prompt) height() int {
	n := len(p.labelLines()) + 1
	if len(p.choices) > 1 {
		n++
	}
	return n
}

// View draws the label (wrapped), the input and any completion
// candidates.
func (p prompt) View() string {
	var out string
	for _, l := range p.labelLines() {
		out += p.Styles.Heading.Render(l) + "\n"
	}
	out += p.input.View()
	if len(p.choices) > 1 {
		shown := p.choices
		if len(shown) > 6 {
			shown = append(shown[:6:6], "…")
		}
		out += "\n" + p.Styles.Subtle.Render(strings.Join(shown, "  "))
	}
	return out
}

// completePath completes the last path element of v: a single match is
// completed (with a trailing slash for folders), several are completed to
// their common prefix and returned as choices. "~/" expands to the home
// folder.
func completePath(v string) (string, []string) {
	expanded := v
	if strings.HasPrefix(v, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			expanded = filepath.Join(h, v[2:])
			if strings.HasSuffix(v, "/") {
				expanded += "/"
			}
		}
	}
	dir, base := filepath.Split(expanded)
	readDir := dir
	if readDir == "" {
		readDir = "."
	}
	entries, err := os.ReadDir(readDir)
	if err != nil {
		return v, nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, base) || (strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	switch len(names) {
	case 0:
		return v, nil
	case 1:
		return dir + names[0], nil
	}
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	for !utf8.ValidString(prefix) {
		prefix = prefix[:len(prefix)-1]
	}
	return dir + prefix, names
}
