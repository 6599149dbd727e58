package tui

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// The latent pane shows one meter per latent dimension (PCA order) at the
// playhead: the distance from the dimension's mean over the clip, in its
// standard deviation over the clip. It edits dimensions: add a bias,
// scale, freeze at the value under the playhead, or replace by noise.
//
// Edits are heard through the decoder. The clip is encoded once; when the
// codec streams (StreamingCodec) and a sound device plays at the clip's
// rate, track B is a liveTrack: the latents, with the edit in force, are
// decoded buffer by buffer while B plays, so an edit is heard a block or
// two (plus the device's buffer) after the key, with no re-render. The
// meters need no correction for the decoder's latency: the live track
// feeds the decoder that far ahead, so what is heard at the playhead is the
// frame under it. Otherwise (no device, over SSH, a codec that cannot
// stream) a short pause after the last edit (or enter) renders the whole
// clip offline with the edits as track B (encode once, edit every frame,
// decode), which is also what w exports.

// renderDelay is the pause after an edit before the clip is re-rendered
// offline.
const renderDelay = 600 * time.Millisecond

// meterRange is the ± range of the meters, in standard deviations.
const meterRange = 3.0

// dimEdit is the edit of one latent dimension.
type dimEdit struct {
	bias     float64 // added, in σ of the dimension
	scale    float64 // multiplies the value (1: none)
	frozen   bool
	freezeAt float32   // the held value
	noise    []float32 // N(0, σ²) per frame when randomised, else nil
}

func (e dimEdit) active() bool {
	return e.bias != 0 || e.scale != 1 || e.frozen || e.noise != nil
}

// apply returns the edited value v of frame t, σ the dimension's spread.
func (e dimEdit) apply(v float32, t int, sigma float64) float32 {
	switch {
	case e.noise != nil:
		v = e.noise[min(t, len(e.noise)-1)]
	case e.frozen:
		v = e.freezeAt
	}
	return float32(float64(v)*e.scale + e.bias*sigma)
}

// describe summarises the edit.
func (e dimEdit) describe() string {
	var parts []string
	if e.noise != nil {
		parts = append(parts, "random")
	}
	if e.frozen {
		parts = append(parts, "frozen")
	}
	if e.scale != 1 {
		parts = append(parts, fmt.Sprintf("×%.2f", e.scale))
	}
	if e.bias != 0 {
		parts = append(parts, fmt.Sprintf("%+.2fσ", e.bias))
	}
	return strings.Join(parts, " ")
}

// latentRenderDueMsg fires renderDelay after edit number seq.
type latentRenderDueMsg struct{ seq int }

// liveReadyMsg delivers a live track built for latents generation gen (or
// why it could not be built).
type liveReadyMsg struct {
	gen   int
	track *liveTrack
	err   error
}

// liveTrackMsg asks the playback bar to play track as B (if it does not
// already), labelled label; selectB makes B current, play starts playback.
// seq orders the labels of successive edits.
type liveTrackMsg struct {
	track   *liveTrack
	seq     int
	label   string
	selectB bool
	play    bool
}

// latentPane is the Latent pane.
type latentPane struct {
	Common
	codec     Codec
	info      CodecInfo
	modelErr  error
	clip      *clip
	z         [][]float32
	mean      []float64 // per dim, over the clip
	sigma     []float64 // per dim, over the clip
	encodeErr error
	edits     []dimEdit
	sel, top  int
	pos       int  // playhead, clip samples
	editSeq   int  // counts edits
	busy      bool // a render runs
	heard     int  // the edit count of the last finished render (-1: none)
	playNext  bool // play when the running render arrives

	// Streaming (see liveTrack): live plays the edits while B plays.
	canStream  bool // a sound device is open
	deviceRate int  // its rate
	live       *liveTrack
	liveGen    int   // bumped whenever the latents change
	building   bool  // a live track is being built for liveGen
	liveErr    error // why streaming is off for these latents
	// retired is the live track of the previous latents (a reloaded
	// model), left playing until its successor is installed.
	retired *liveTrack
}

func newLatentPane(c Common) latentPane { return latentPane{Common: c, heard: -1} }

// frame returns the latent frame under the playhead.
func (p latentPane) frame() int {
	if p.info.Hop <= 0 || len(p.z) == 0 {
		return 0
	}
	return max(0, min(len(p.z[0])-1, p.pos/p.info.Hop))
}

// Update handles the pane's messages and keys.
func (p latentPane) Update(msg tea.Msg) (latentPane, tea.Cmd) {
	switch msg := msg.(type) {
	case sessionOpenedMsg:
		p.closeLive()
		p.codec, p.info, p.modelErr, p.z, p.mean, p.sigma, p.edits, p.encodeErr = nil, CodecInfo{}, nil, nil, nil, nil, nil, nil
		p.busy, p.heard, p.playNext = false, -1, false
	case modelLoadedMsg:
		// Edits survive a reload of the same model shape (the trainer
		// writes a new model at every checkpoint).
		p.retireLive()
		p.codec, p.modelErr, p.z = msg.codec, msg.err, nil
		if msg.codec != nil {
			p.info = msg.codec.Info()
		} else {
			p.closeRetired() // nothing will replace it
		}
	case clipLoadedMsg:
		p.closeLive()
		p.clip, p.z, p.sigma, p.pos = msg.clip, nil, nil, 0
	case encodedMsg:
		p.retireLive()
		p.encodeErr = msg.err
		p.setLatents(msg.z)
		next, cmd := p.startLive()
		if !next.building {
			next.closeRetired()
		}
		return next, cmd
	case playerOpenedMsg:
		if msg.err == nil && msg.p != nil {
			p.canStream, p.deviceRate = true, msg.p.SampleRate()
			return p.startLive()
		}
	case liveReadyMsg:
		return p.liveReady(msg)
	case playheadMsg:
		p.pos = msg.pos
	case latentRenderDueMsg:
		if msg.seq == p.editSeq && !p.busy && p.heard != msg.seq && p.live == nil {
			return p.render(false)
		}
	case renderedMsg:
		if msg.from != "latent" {
			return p, nil
		}
		if p.live != nil {
			p.busy, p.playNext = false, false // started before B went live
			return p, nil
		}
		p.busy, p.heard = false, msg.seq
		if p.editSeq != p.heard {
			return p.render(p.playNext)
		}
		if p.playNext && !msg.play {
			p.playNext = false
			return p, func() tea.Msg { return playRequestMsg{} }
		}
		p.playNext = false
	case renderFailedMsg:
		if msg.from == "latent" {
			p.busy, p.playNext = false, false
		}
	case tea.KeyMsg:
		return p.handleKey(msg)
	}
	return p, nil
}

// setLatents installs the clip's latents and their spread per dimension.
func (p *latentPane) setLatents(z [][]float32) {
	p.z = z
	p.mean = make([]float64, len(z))
	p.sigma = make([]float64, len(z))
	if len(p.edits) != len(z) {
		p.edits = make([]dimEdit, len(z))
		for i := range p.edits {
			p.edits[i].scale = 1
		}
	}
	for d, row := range z {
		var s, s2 float64
		for _, v := range row {
			s += float64(v)
			s2 += float64(v) * float64(v)
		}
		n := float64(max(1, len(row)))
		sd := math.Sqrt(max(0, s2/n-(s/n)*(s/n)))
		if sd < 1e-6 {
			sd = 1
		}
		p.mean[d], p.sigma[d] = s/n, sd
	}
	p.sel = max(0, min(p.sel, len(z)-1))
}

func (p latentPane) handleKey(msg tea.KeyMsg) (latentPane, tea.Cmd) {
	k := p.Keys
	if len(p.z) == 0 {
		if key.Matches(msg, k.Up, k.Down, k.BiasDown, k.BiasUp, k.ScaleDown, k.ScaleUp, k.Freeze, k.Randomize, k.ResetDim, k.ResetAll, k.Render) {
			return p, statusCmd(p.waitingText())
		}
		return p, nil
	}
	p.edits = slices.Clone(p.edits) // edit a copy: the previous model stays as it was
	e := &p.edits[p.sel]
	edited := true
	switch {
	case key.Matches(msg, k.Up):
		p.sel, edited = max(0, p.sel-1), false
	case key.Matches(msg, k.Down):
		p.sel, edited = min(len(p.z)-1, p.sel+1), false
	case key.Matches(msg, k.BiasDown):
		e.bias -= 0.25
	case key.Matches(msg, k.BiasUp):
		e.bias += 0.25
	case key.Matches(msg, k.ScaleDown):
		e.scale /= 1.25
	case key.Matches(msg, k.ScaleUp):
		e.scale *= 1.25
	case key.Matches(msg, k.Freeze):
		e.frozen = !e.frozen
		e.freezeAt = p.z[p.sel][p.frame()]
	case key.Matches(msg, k.Randomize):
		if e.noise != nil {
			e.noise = nil
		} else {
			rng := rand.New(rand.NewPCG(uint64(p.sel)+1, uint64(p.editSeq)+1))
			e.noise = make([]float32, len(p.z[p.sel]))
			for t := range e.noise {
				e.noise[t] = float32(rng.NormFloat64() * p.sigma[p.sel])
			}
		}
	case key.Matches(msg, k.ResetDim):
		*e = dimEdit{scale: 1}
	case key.Matches(msg, k.ResetAll):
		for i := range p.edits {
			p.edits[i] = dimEdit{scale: 1}
		}
	case key.Matches(msg, k.Render):
		if p.live != nil {
			return p, p.playLive(true)
		}
		if p.busy {
			p.playNext = true
			return p, nil
		}
		return p.render(true)
	default:
		edited = false
	}
	e.bias = math.Round(e.bias*100) / 100
	if !edited {
		return p, nil
	}
	p.editSeq++
	if p.live != nil {
		// Heard from the next block the live track decodes.
		p.live.SetEdit(p.editFunc())
		p.heard = p.editSeq
		return p, p.playLive(false)
	}
	seq := p.editSeq
	return p, tea.Tick(renderDelay, func(time.Time) tea.Msg { return latentRenderDueMsg{seq} })
}

// edited counts the dimensions with an edit.
func (p latentPane) edited() int {
	n := 0
	for _, e := range p.edits {
		if e.active() {
			n++
		}
	}
	return n
}

// editFunc returns the current edits as a LatentEdit over private copies,
// safe to call from any goroutine.
func (p latentPane) editFunc() LatentEdit {
	edits := append([]dimEdit(nil), p.edits...)
	sigma := append([]float64(nil), p.sigma...)
	return func(t int, col []float32) {
		for d, e := range edits {
			if d < len(col) && e.active() {
				col[d] = e.apply(col[d], t, sigma[d])
			}
		}
	}
}

// renderLabel names track B for the current edits.
func (p latentPane) renderLabel() string {
	if n := p.edited(); n > 0 {
		return fmt.Sprintf("latent edit (%d dims changed)", n)
	}
	return "reconstruction (no edits)"
}

// render decodes the clip offline with the current edits as track B.
func (p latentPane) render(play bool) (latentPane, tea.Cmd) {
	if p.codec == nil || p.clip == nil || p.z == nil {
		return p, statusCmd(p.waitingText())
	}
	p.busy = true
	seq := p.editSeq
	codec, z, n, rate := p.codec, p.z, len(p.clip.samples), p.clip.rate
	label, edit := p.renderLabel(), p.editFunc()
	return p, func() tea.Msg {
		y, err := decodeEdited(codec, z, n, edit)
		if err != nil {
			return renderFailedMsg{from: "latent", err: fmt.Errorf("render latent edit: %w", err)}
		}
		return renderedMsg{from: "latent", seq: seq, label: label, audio: y, rate: rate, play: play}
	}
}

// decodeEdited applies edit to every frame of a copy of z and decodes it.
func decodeEdited(c Codec, z [][]float32, n int, edit LatentEdit) ([]float32, error) {
	D := len(z)
	if D == 0 {
		return nil, fmt.Errorf("no latents")
	}
	T := len(z[0])
	out := make([][]float32, D)
	for d := range out {
		out[d] = make([]float32, T)
	}
	col := make([]float32, D)
	for t := range T {
		for d := range D {
			col[d] = z[d][t]
		}
		edit(t, col)
		for d := range D {
			out[d][t] = col[d]
		}
	}
	return c.Decode(out, n)
}

func (p latentPane) waitingText() string {
	switch {
	case p.codec == nil && p.modelErr != nil:
		return "no model yet: train the session first"
	case p.codec == nil:
		return "no model loaded: open a trained session"
	case p.clip == nil:
		return "no clip: the session has no dataset (o opens a file)"
	case p.encodeErr != nil:
		return "encoding the clip failed: " + p.encodeErr.Error()
	}
	return "encoding the clip…"
}

// ShortHelp implements help.KeyMap.
func (p latentPane) ShortHelp() []key.Binding {
	k := p.Keys
	return []key.Binding{k.Down, k.BiasUp, k.ScaleUp, k.Freeze, k.Randomize}
}

// FullHelp implements help.KeyMap.
func (p latentPane) FullHelp() [][]key.Binding {
	k := p.Keys
	return [][]key.Binding{{k.Up, k.Down, k.BiasDown, k.BiasUp, k.ScaleDown, k.ScaleUp, k.Freeze, k.Randomize, k.ResetDim, k.ResetAll, k.Render, k.OpenClip}}
}

// View draws one meter per dimension at the playhead.
func (p latentPane) View() string {
	st, w, h := p.Styles, p.Width, p.Height
	if len(p.z) == 0 {
		return st.Heading.Render("Latent") + "\n\n" + paragraph(st.Subtle, p.waitingText(), w)
	}
	D, T := len(p.z), len(p.z[0])
	f := p.frame()
	// The edit count comes before the explanation, which a narrow
	// terminal cuts first.
	head := st.Heading.Render("Latent") + st.Subtle.Render(fmt.Sprintf(" · %d dims (PCA order) · frame %d/%d", D, f+1, T))
	if n := p.edited(); n > 0 {
		head += st.Subtle.Render(" · ") + st.Warn.Render(fmt.Sprintf("%d edited", n))
	}
	head += st.Subtle.Render(" · meters: σ from the clip mean")
	lines := []string{truncate(head, w)}
	const editW = 22
	meterW := max(9, w-16-editW)
	if meterW%2 == 0 {
		meterW--
	}
	lines = append(lines, st.Subtle.Render(fmt.Sprintf("  %4s %7s  %-*s  %s", "dim", "value", meterW, centre(fmt.Sprintf("−%gσ", meterRange), "0", fmt.Sprintf("+%gσ", meterRange), meterW), "edit")))
	rows := max(1, h-3)
	top := max(0, min(p.sel-rows/2, D-rows))
	for d := top; d < min(D, top+rows); d++ {
		e := p.edits[d]
		v := e.apply(p.z[d][f], f, p.sigma[d])
		norm := max(-99.9, min(99.9, (float64(v)-p.mean[d])/p.sigma[d]))
		mark, style := "  ", st.Text
		if d == p.sel {
			mark, style = "▸ ", st.Selected
		}
		desc := e.describe()
		lines = append(lines, style.Render(fmt.Sprintf("%s%4d %+6.1fσ  ", mark, d+1, norm))+meter(norm, meterRange, meterW, st)+"  "+st.Warn.Render(truncate(desc, editW)))
	}
	var foot string
	switch {
	case p.live != nil:
		foot = st.Subtle.Render("streaming: B decodes the edits live as it plays · a switches A/B")
		if n := p.live.Underruns(); n > 0 {
			foot += st.Warn.Render(fmt.Sprintf(" · decoder fell behind %d×", n))
		}
	case p.busy:
		foot = st.Warn.Render("rendering the edit…")
	case p.heard != p.editSeq && p.editSeq > 0:
		foot = st.Subtle.Render("edits render after a short pause (enter renders and plays now)")
	case p.heard >= 0:
		foot = st.Subtle.Render("B holds the latest render · a switches A/B at the same position")
	default:
		foot = st.Subtle.Render("←/→ bias · [/] scale · f freeze · z random · enter renders B")
	}
	out := fitLines(strings.Join(lines, "\n"), w, max(1, h-1))
	return out + "\n" + foot
}

// centre lays out left, mid and right labels over w cells.
func centre(left, mid, right string, w int) string {
	lw, mw, rw := len([]rune(left)), len([]rune(mid)), len([]rune(right))
	midAt := w/2 - mw/2
	gap1 := max(1, midAt-lw)
	gap2 := max(1, w-lw-gap1-mw-rw)
	return left + strings.Repeat(" ", gap1) + mid + strings.Repeat(" ", gap2) + right
}
