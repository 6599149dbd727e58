package tui

import "github.com/charmbracelet/lipgloss"

// Colours, light and dark variants. Every colour of the TUI is one of
// these; styles below are built from them.
var (
	colorText     = lipgloss.AdaptiveColor{Light: "#1F1F1F", Dark: "#E4E4E4"}
	colorSubtle   = lipgloss.AdaptiveColor{Light: "#8A8A8A", Dark: "#7A7A7A"}
	colorFaint    = lipgloss.AdaptiveColor{Light: "#C8C8C8", Dark: "#3E3E3E"}
	colorAccent   = lipgloss.AdaptiveColor{Light: "#6B3FD4", Dark: "#A88BFA"}
	colorAccentBg = lipgloss.AdaptiveColor{Light: "#E6DDFB", Dark: "#3B2A6E"}
	colorOK       = lipgloss.AdaptiveColor{Light: "#1C7C3A", Dark: "#5FD787"}
	colorWarn     = lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#F2C14E"}
	colorError    = lipgloss.AdaptiveColor{Light: "#C4262E", Dark: "#FF6B6B"}
	colorOnBadge  = lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#1A1A1A"}
	colorTrackA   = lipgloss.AdaptiveColor{Light: "#0E6BA8", Dark: "#5FB3F9"}
	colorTrackB   = lipgloss.AdaptiveColor{Light: "#B3470E", Dark: "#FFA657"}
	colorChart    = lipgloss.AdaptiveColor{Light: "#3A6FD8", Dark: "#7AA2F7"}
	colorChart2   = lipgloss.AdaptiveColor{Light: "#8A5CD8", Dark: "#BB9AF7"}
)

// Styles is the workstation's one set of styles. Components take it from
// Common; nothing outside this file creates a style.
type Styles struct {
	// Layout.
	Title, TabActive, TabInactive, SessionTag lipgloss.Style
	Heading, Text, Subtle, Faint, Accent      lipgloss.Style
	Selected, Cursor                          lipgloss.Style
	OK, Warn, Error                           lipgloss.Style

	// Status line and errors.
	StatusInfo, StatusError, ErrorBadge, Hint lipgloss.Style

	// Charts and meters.
	Chart, ChartAlt, Axis, MeterPos, MeterNeg, MeterMid lipgloss.Style
	BarFull, BarEmpty                                   lipgloss.Style

	// Playback bar.
	TrackA, TrackB, Playhead lipgloss.Style

	// Dialogs, prompts and the help overlay.
	Dialog, Prompt, HelpKey, HelpDesc, HelpTitle lipgloss.Style
}

// DefaultStyles builds the styles for a renderer (one per SSH client, or
// lipgloss.DefaultRenderer() for the local terminal).
func DefaultStyles(r *lipgloss.Renderer) *Styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	n := r.NewStyle
	return &Styles{
		Title:       n().Bold(true).Foreground(colorAccent),
		TabActive:   n().Bold(true).Foreground(colorText).Background(colorAccentBg),
		TabInactive: n().Foreground(colorSubtle),
		SessionTag:  n().Foreground(colorAccent),
		Heading:     n().Bold(true).Foreground(colorText),
		Text:        n().Foreground(colorText),
		Subtle:      n().Foreground(colorSubtle),
		Faint:       n().Foreground(colorFaint),
		Accent:      n().Foreground(colorAccent),
		Selected:    n().Bold(true).Foreground(colorAccent),
		Cursor:      n().Foreground(colorAccent).Bold(true),
		OK:          n().Foreground(colorOK),
		Warn:        n().Foreground(colorWarn),
		Error:       n().Foreground(colorError),

		StatusInfo:  n().Foreground(colorOK),
		StatusError: n().Foreground(colorError).Bold(true),
		ErrorBadge:  n().Bold(true).Foreground(colorOnBadge).Background(colorError).Padding(0, 1),
		Hint:        n().Foreground(colorWarn),

		Chart:    n().Foreground(colorChart),
		ChartAlt: n().Foreground(colorChart2),
		Axis:     n().Foreground(colorSubtle),
		MeterPos: n().Foreground(colorTrackB),
		MeterNeg: n().Foreground(colorTrackA),
		MeterMid: n().Foreground(colorSubtle),
		BarFull:  n().Foreground(colorAccent),
		BarEmpty: n().Foreground(colorFaint),

		TrackA:   n().Bold(true).Foreground(colorTrackA),
		TrackB:   n().Bold(true).Foreground(colorTrackB),
		Playhead: n().Foreground(colorText),

		Dialog:    n().Border(lipgloss.RoundedBorder()).BorderForeground(colorAccent).Padding(0, 1),
		Prompt:    n().Foreground(colorAccent).Bold(true),
		HelpKey:   n().Foreground(colorAccent),
		HelpDesc:  n().Foreground(colorSubtle),
		HelpTitle: n().Bold(true).Foreground(colorText).Underline(true),
	}
}
