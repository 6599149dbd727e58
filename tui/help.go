package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
)

// The help: the footer's one line of keys and the ? pages. Every key of
// the active pane and every global one is on the pages; the footer shows
// what fits of the pane's, then always ? and q.

// shortHelp draws bindings as "key desc • key desc …" in at most w cells:
// as many as fit, then "…" when some do not.
func (m app) shortHelp(bindings []key.Binding, w int) string {
	hs := m.help.Styles
	sep := hs.ShortSeparator.Render(m.help.ShortSeparator)
	tail := " " + hs.Ellipsis.Render(ellipsis)
	var b strings.Builder
	for i, kb := range bindings {
		item := hs.ShortKey.Render(kb.Help().Key) + " " + hs.ShortDesc.Render(kb.Help().Desc)
		if i > 0 {
			item = sep + item
		}
		room := w - lipgloss.Width(b.String())
		if i < len(bindings)-1 {
			room -= lipgloss.Width(tail) // keep room to say more follow
		}
		if lipgloss.Width(item) > room {
			if i == 0 {
				return truncate(hs.Ellipsis.Render(ellipsis), w)
			}
			b.WriteString(tail)
			break
		}
		b.WriteString(item)
	}
	return b.String()
}

// helpPages lays the help out in pages of the body's height: the global
// and playback keys, then the active pane's, side by side when the
// terminal is wide enough and one under the other when not. Each page
// starts with a heading line.
func (m app) helpPages() []string {
	st, k := m.Styles, m.Keys
	var pane helpSection
	switch m.active {
	case paneSessions:
		pane = helpSection{"Sessions pane", m.sessions.FullHelp()[0]}
	case paneTraining:
		pane = helpSection{"Training pane", m.training.FullHelp()[0]}
	case paneFidelity:
		pane = helpSection{"Fidelity pane", m.fidelity.FullHelp()[0]}
	case paneLatent:
		pane = helpSection{"Latent pane", m.latent.FullHelp()[0]}
	case paneGenerate:
		pane = helpSection{"Generate pane", m.generate.FullHelp()[0]}
	}
	g := k.globalSections()
	// Two columns when the longest line (a 9-cell key and a 24-cell
	// description) fits in each.
	const minCol = 35
	twoCols := m.Width >= 2*minCol
	colW := m.Width
	if twoCols {
		colW = m.Width / 2
	}
	block := func(s helpSection) []string {
		out := []string{st.HelpTitle.Render(s.Title)}
		for _, b := range s.Bindings {
			h := b.Help()
			out = append(out, truncate(st.HelpKey.Render(fmt.Sprintf("%-9s", h.Key))+" "+st.HelpDesc.Render(h.Desc), colW-1))
		}
		return out
	}
	left := append(append(block(g[0]), ""), block(g[1])...)
	var rows []string
	if twoCols {
		right := block(pane)
		for r := range max(len(left), len(right)) {
			l, rr := "", ""
			if r < len(left) {
				l = left[r]
			}
			if r < len(right) {
				rr = right[r]
			}
			rows = append(rows, strings.TrimRight(l+strings.Repeat(" ", max(0, colW-lipgloss.Width(l)))+rr, " "))
		}
	} else {
		rows = append(append(left, ""), block(pane)...)
	}
	per := max(1, max(3, m.Height-4)-1)
	n := (len(rows) + per - 1) / per
	pages := make([]string, n)
	for i := range n {
		head := st.Heading.Render("Keys") + st.Subtle.Render(" · any key closes · each pane has its own ? page · training runs on after q")
		if n > 1 {
			head = st.Heading.Render(fmt.Sprintf("Keys %d/%d", i+1, n)) + st.Subtle.Render(" · ? next page · any other key closes · training runs on after q")
		}
		page := append([]string{truncate(head, m.Width)}, rows[i*per:min(len(rows), (i+1)*per)]...)
		pages[i] = strings.Join(page, "\n")
	}
	return pages
}

// helpView draws the help page being shown.
func (m app) helpView() string {
	pages := m.helpPages()
	return pages[min(m.helpPage, len(pages)-1)]
}
