package tui

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Common is what every component shares: its size, the styles, the keys
// and the clock (fixed in tests).
type Common struct {
	Width, Height int
	Styles        *Styles
	Keys          *KeyMap
	Now           func() time.Time
}

// SetSize records the component's size.
func (c *Common) SetSize(width, height int) { c.Width, c.Height = width, height }

// component is the contract of every pane and bar: its own help, a size
// and a view. Update is not part of it because each component's Update
// returns its concrete type, so the root needs no type assertions.
type component interface {
	help.KeyMap
	SetSize(width, height int)
	View() string
}

var (
	_ component = (*sessionsPane)(nil)
	_ component = (*trainingPane)(nil)
	_ component = (*fidelityPane)(nil)
	_ component = (*latentPane)(nil)
	_ component = (*generatePane)(nil)
	_ component = (*playerBar)(nil)
)

// fitLines pads or cuts s to exactly h lines of at most w cells.
func fitLines(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = truncate(l, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// ellipsis ends every line cut to fit the terminal.
const ellipsis = "…"

// truncate cuts a (possibly styled) line to w cells, ending it with
// ellipsis when it had to be cut, so a reader always sees that text is
// missing. It is the one place where the TUI shortens text.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, ellipsis)
}

// paragraph wraps text to w cells (wrap) and renders each line in style.
func paragraph(style lipgloss.Style, text string, w int) string {
	lines := wrap(text, w)
	for i, l := range lines {
		lines[i] = style.Render(l)
	}
	return strings.Join(lines, "\n")
}

// wrap breaks text into lines of at most w cells, at spaces where it can
// and inside a word where it must; each paragraph (line of text) starts a
// new line. It is for messages that must be read whole, such as errors.
func wrap(text string, w int) []string {
	w = max(w, 1)
	var out []string
	for _, para := range strings.Split(text, "\n") {
		para = strings.TrimRight(para, " ")
		if para == "" {
			out = append(out, "")
			continue
		}
		out = append(out, strings.Split(ansi.Wrap(para, w, ""), "\n")...)
	}
	return out
}

// fmtCount formats n with thousands separators: 1234567 → "1,234,567".
func fmtCount(n int64) string {
	s := fmt.Sprint(max(n, -n))
	var b strings.Builder
	if n < 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtSpan formats a long duration compactly: "45s", "12m 5s", "3h 20m",
// "2d 4h"; "—" for unknown (≤ 0 or not finite).
func fmtSpan(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd %dh", s/86400, s%86400/3600)
}

// seconds converts a float number of seconds to a Duration (0 if invalid).
func seconds(s float64) time.Duration {
	if math.IsNaN(s) || math.IsInf(s, 0) || s <= 0 || s > 1e9 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// fmtClock formats a playback time as m:ss.d.
func fmtClock(samples, rate int) string {
	if rate <= 0 {
		return "0:00.0"
	}
	ds := samples * 10 / rate
	return fmt.Sprintf("%d:%02d.%d", ds/600, ds/10%60, ds%10)
}

// fmtAgo formats how long ago t was ("just now", "5m ago").
func fmtAgo(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 5*time.Second {
		return "just now"
	}
	return fmtSpan(d) + " ago"
}

// fmtValue formats a loss value in 6 significant characters.
func fmtValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v != 0 && (math.Abs(v) >= 1e5 || math.Abs(v) < 1e-3):
		return fmt.Sprintf("%.2e", v)
	}
	return fmt.Sprintf("%.4g", v)
}
