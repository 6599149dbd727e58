package tui

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
)

// The fidelity pane shows the latent SVD spectrum (the variance each PCA
// dimension explains) and the cumulative curve, with a cursor on the
// target fidelity f. It reports the dimensions f needs, both exactly and by
// the reference's export rule (rounded up to a power of two, RAVE#335), the
// resulting bitrate, plays the clip reconstructed with exactly those
// dimensions, and records the choice in <session>/fidelity.json.

// bitChoices are the quantisation widths offered for the bitrate estimate.
var bitChoices = []int{4, 6, 8, 12, 16, 32}

// fidelityChoiceMsg delivers the session's saved choice at open.
type fidelityChoiceMsg struct {
	session string
	f       sessions.Fidelity
	saved   bool // just written (else read at open)
}

// fidelityPane is the Fidelity pane.
type fidelityPane struct {
	Common
	s         *sessions.Session
	codec     Codec
	info      CodecInfo
	modelErr  error
	clip      *clip
	z         [][]float32
	encodeErr error
	f         float64
	pow2      bool
	bits      int
	rendering bool
	saved     *sessions.Fidelity
}

func newFidelityPane(c Common) fidelityPane {
	return fidelityPane{Common: c, f: 0.95, bits: 2}
}

// Update handles the pane's messages and keys.
func (p fidelityPane) Update(msg tea.Msg) (fidelityPane, tea.Cmd) {
	switch msg := msg.(type) {
	case sessionOpenedMsg:
		p.s, p.codec, p.info, p.modelErr, p.z, p.encodeErr, p.saved = msg.s, nil, CodecInfo{}, nil, nil, nil, nil
		s := msg.s
		return p, func() tea.Msg {
			f, err := s.ReadFidelity()
			if err != nil {
				return nil
			}
			return fidelityChoiceMsg{session: s.Manifest.Name, f: f}
		}
	case fidelityChoiceMsg:
		if p.s != nil && p.s.Manifest.Name == msg.session {
			f := msg.f
			p.saved = &f
			if f.Fidelity > 0 && f.Fidelity <= 1 {
				p.f = f.Fidelity
			}
			p.pow2 = f.Rule == "pow2"
			if msg.saved {
				return p, statusCmd(fmt.Sprintf("saved: f %.3f → %d dims (%s) in %s", f.Fidelity, f.Dims, f.Rule, layout.FidelityFile))
			}
		}
	case modelLoadedMsg:
		p.codec, p.modelErr, p.z = msg.codec, msg.err, nil
		if msg.codec != nil {
			p.info = msg.codec.Info()
		}
	case clipLoadedMsg:
		p.clip, p.z = msg.clip, nil
	case encodedMsg:
		p.z, p.encodeErr = msg.z, msg.err
	case renderedMsg:
		if msg.from == "fidelity" {
			p.rendering = false
		}
	case renderFailedMsg:
		if msg.from == "fidelity" {
			p.rendering = false
		}
	case tea.KeyMsg:
		return p.handleKey(msg)
	}
	return p, nil
}

func (p fidelityPane) handleKey(msg tea.KeyMsg) (fidelityPane, tea.Cmd) {
	k := p.Keys
	step := 0.0
	switch {
	case key.Matches(msg, k.FidelityDown):
		step = -0.01
	case key.Matches(msg, k.FidelityUp):
		step = 0.01
	case key.Matches(msg, k.FidelityFineDown):
		step = -0.001
	case key.Matches(msg, k.FidelityFineUp):
		step = 0.001
	case key.Matches(msg, k.Rule):
		p.pow2 = !p.pow2
	case key.Matches(msg, k.Bits):
		p.bits = (p.bits + 1) % len(bitChoices)
	case key.Matches(msg, k.PlayAtK):
		return p.render()
	case key.Matches(msg, k.SaveFidelity):
		return p, p.save()
	}
	if step != 0 {
		p.f = math.Round((p.f+step)*1000) / 1000
		p.f = max(0.5, min(1, p.f))
	}
	return p, nil
}

// dims returns the exact and power-of-two dimensions for f (0, 0 without
// a curve).
func (p fidelityPane) dims() (exact, pow2 int) {
	if len(p.info.Fidelity) == 0 {
		return 0, 0
	}
	a := latent.Analysis{Fidelity: p.info.Fidelity}
	return a.DimsForFidelity(p.f)
}

// k returns the dimensions used by the current rule.
func (p fidelityPane) k() int {
	exact, pow2 := p.dims()
	if p.pow2 {
		return pow2
	}
	return exact
}

func (p fidelityPane) rule() string {
	if p.pow2 {
		return "pow2"
	}
	return "exact"
}

// kbps returns the bitrate of k dims at the chosen bits.
func (p fidelityPane) kbps(k int) float64 {
	return float64(k) * p.info.FramesPerSecond() * float64(bitChoices[p.bits]) / 1000
}

// render decodes the clip with the first k PCA dims (the rest zero).
func (p fidelityPane) render() (fidelityPane, tea.Cmd) {
	switch {
	case p.codec == nil:
		return p, statusCmd(p.noModelText())
	case p.clip == nil:
		return p, statusCmd("no clip: the session has no dataset yet (or press o to open a file)")
	case p.z == nil:
		return p, statusCmd("still encoding the clip; try again in a moment")
	case p.rendering:
		return p, nil
	}
	k := p.k()
	if k <= 0 {
		k = len(p.z)
	}
	p.rendering = true
	codec, z, n, rate := p.codec, p.z[:min(k, len(p.z))], len(p.clip.samples), p.clip.rate
	label := fmt.Sprintf("k=%d (%s, f %.3f)", k, p.rule(), p.f)
	return p, func() tea.Msg {
		y, err := codec.Decode(z, n)
		if err != nil {
			return renderFailedMsg{from: "fidelity", err: fmt.Errorf("decode at k=%d: %w", k, err)}
		}
		return renderedMsg{from: "fidelity", label: label, audio: y, rate: rate, play: true}
	}
}

// save records the choice in fidelity.json.
func (p fidelityPane) save() tea.Cmd {
	if p.s == nil {
		return statusCmd("open a session first")
	}
	k := p.k()
	if k == 0 {
		return statusCmd("no fidelity curve yet: it needs a trained model with a latent analysis")
	}
	choice := sessions.Fidelity{Fidelity: p.f, Dims: k, Rule: p.rule(), Bits: bitChoices[p.bits], KbitPerSec: math.Round(p.kbps(k)*1000) / 1000}
	s := p.s
	return func() tea.Msg {
		if err := s.SaveFidelity(choice); err != nil {
			return errMsg{err}
		}
		return fidelityChoiceMsg{session: s.Manifest.Name, f: choice, saved: true}
	}
}

func (p fidelityPane) noModelText() string {
	if p.modelErr != nil && !errors.Is(p.modelErr, errNoModel) && !errors.Is(p.modelErr, os.ErrNotExist) {
		return "model: " + p.modelErr.Error()
	}
	return "no model yet: train the session first (model.safetensors appears at the first checkpoint)"
}

// ShortHelp implements help.KeyMap.
func (p fidelityPane) ShortHelp() []key.Binding {
	k := p.Keys
	return []key.Binding{k.FidelityUp, k.PlayAtK, k.SaveFidelity, k.Rule}
}

// FullHelp implements help.KeyMap.
func (p fidelityPane) FullHelp() [][]key.Binding {
	k := p.Keys
	return [][]key.Binding{{k.FidelityDown, k.FidelityUp, k.FidelityFineDown, k.FidelityFineUp, k.PlayAtK, k.SaveFidelity, k.Rule, k.Bits, k.OpenClip}}
}

// View draws the spectrum, the cumulative curve with the cursor, and the
// choice with its bitrate.
func (p fidelityPane) View() string {
	st, w, h := p.Styles, p.Width, p.Height
	title := st.Heading.Render("Fidelity")
	if p.s != nil {
		title += " " + st.Heading.Render(p.s.Manifest.Name)
	}
	switch {
	case p.s == nil:
		return title + "\n\n" + st.Subtle.Render("No session open. Pick one in Sessions (press 1, then enter).")
	case p.codec == nil && p.modelErr == nil:
		return title + "\n\n" + st.Subtle.Render("loading the model…")
	case p.codec == nil:
		return title + "\n\n" + paragraph(st.Subtle, p.noModelText(), w)
	case len(p.info.Fidelity) == 0:
		return title + "\n\n" + paragraph(st.Subtle, "The model has no latent analysis yet: the trainer runs it at checkpoints (or `rave analyze`).", w)
	}
	info := p.info
	title += st.Subtle.Render(fmt.Sprintf(" · %d dims · %.2f frames/s · model step %s", info.Dims, info.FramesPerSecond(), fmtCount(info.Step)))
	lines := []string{truncate(title, w)}

	const labelW = 5
	plotW := max(8, w-labelW-1)
	D := len(info.Fidelity)
	colW := max(1, min(6, plotW/D))
	shown := min(D, plotW/colW)
	ratio := make([]float64, 0, shown*colW)
	cum := make([]float64, 0, shown*colW)
	prev := 0.0
	peak := 0.0
	for i := range shown {
		c := float64(info.Fidelity[i])
		r := max(0, c-prev)
		prev = c
		peak = max(peak, r)
		for range colW {
			ratio = append(ratio, r)
			cum = append(cum, c)
		}
	}
	exact, pow2 := p.dims()
	k := p.k()
	cursor := (k-1)*colW + colW/2
	if k > shown {
		cursor = -1
	}
	bottom := p.bottomLines(k, exact, pow2)
	// Below the title: two chart labels, the marker and the bottom lines.
	avail := max(4, h-len(lines)-3-len(bottom))
	barH := max(2, avail*2/5)
	cumH := max(2, avail-barH)

	more := ""
	if shown < D {
		more = fmt.Sprintf(" (first %d of %d)", shown, D)
	}
	lines = append(lines, st.Subtle.Render("variance explained by each PCA dim"+more))
	for i, row := range areaChart(ratio, plotW, barH, st.Chart, st.Cursor, cursor, &scale{lo: 0, hi: max(peak, 1e-9)}) {
		label := ""
		if i == 0 {
			label = fmt.Sprintf("%.0f%%", peak*100)
		} else if i == barH-1 {
			label = "0%"
		}
		lines = append(lines, st.Axis.Render(fmt.Sprintf("%*s┤", labelW, label))+row)
	}
	lines = append(lines, st.Subtle.Render(fmt.Sprintf("cumulative (fidelity) · cursor at k = %d", k)))
	for i, row := range areaChart(cum, plotW, cumH, st.ChartAlt, st.Cursor, cursor, &scale{lo: 0, hi: 1}) {
		label := ""
		if i == 0 {
			label = "100%"
		} else if i == cumH-1 {
			label = "0%"
		}
		lines = append(lines, st.Axis.Render(fmt.Sprintf("%*s┤", labelW, label))+row)
	}
	marker := strings.Repeat(" ", labelW+1)
	if cursor >= 0 {
		tag := fmt.Sprintf("▲ k=%d, %.1f%%", k, 100*float64(info.Fidelity[k-1]))
		at := min(cursor, max(0, plotW-len([]rune(tag))))
		if at < cursor {
			tag = fmt.Sprintf("k=%d, %.1f%% ▲", k, 100*float64(info.Fidelity[k-1]))
			at = max(0, cursor-len([]rune(tag))+1)
		}
		marker += strings.Repeat(" ", at) + st.Cursor.Render(tag)
	}
	lines = append(lines, marker)
	return strings.Join(append(lines, bottom...), "\n")
}

// bottomLines draws the choice of k, its bitrate and what enter does,
// breaking between their parts on a narrow terminal.
func (p fidelityPane) bottomLines(k, exact, pow2 int) []string {
	st, w, info := p.Styles, p.Width, p.info
	use := "exact"
	if p.pow2 {
		use = "power of two"
	}
	sep := st.Text.Render(" · ")
	lines := joinFit([]string{
		st.Heading.Render(fmt.Sprintf("f = %.3f", p.f)) + st.Text.Render(fmt.Sprintf(" → k = %d exact", exact)),
		st.Text.Render(fmt.Sprintf("k = %d power of two (reference export)", pow2)),
		st.Text.Render("using " + use),
	}, sep, w)
	lines = append(lines, joinFit([]string{
		st.Text.Render(fmt.Sprintf("bitrate: %d dims × %.2f frames/s × %d bits =", k, info.FramesPerSecond(), bitChoices[p.bits])),
		st.Text.Render(fmt.Sprintf("%.2f kbit/s (%s per minute)", p.kbps(k), fmtBytes(p.kbps(k)*1000/8*60))),
	}, " ", w)...)
	var note string
	switch {
	case p.rendering:
		note = st.Warn.Render(fmt.Sprintf("rendering the clip at k = %d…", k))
	case p.clip == nil:
		note = st.Subtle.Render("no clip to preview (the session has no dataset; o opens a file)")
	case p.encodeErr != nil:
		note = st.Error.Render("encoding the clip failed: " + p.encodeErr.Error())
	case p.z == nil:
		note = st.Subtle.Render("encoding the clip…")
	default:
		note = st.Subtle.Render(fmt.Sprintf("enter plays the clip with exactly %d dims as B (a switches A/B)", k))
	}
	notes := []string{note}
	if p.saved != nil {
		notes = append(notes, st.OK.Render(fmt.Sprintf("saved: %d dims (%s, f %.3f)", p.saved.Dims, p.saved.Rule, p.saved.Fidelity)))
	}
	return append(lines, joinFit(notes, st.Subtle.Render(" · "), w)...)
}

// fmtBytes formats a byte count (B, kB, MB).
func fmtBytes(b float64) string {
	switch {
	case b >= 1e6:
		return fmt.Sprintf("%.1f MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f kB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}
