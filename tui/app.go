package tui

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/tui/demo"
)

// The root model: it owns focus, routes messages, handles the global and
// playback keys and lays out header, pane, playback bar and status line.
// Panes do the rest.

// pane indexes, in tab order.
const (
	paneSessions = iota
	paneTraining
	paneFidelity
	paneLatent
	paneGenerate
	paneCount
)

var paneNames = [paneCount]string{"Sessions", "Training", "Fidelity", "Latent", "Generate"}

// paneShort are the tab labels of a narrow terminal.
var paneShort = [paneCount]string{"Sess", "Train", "Fid", "Lat", "Gen"}

// statusTimeout is how long a status note stays.
const statusTimeout = 4 * time.Second

// app is the root bubbletea model.
type app struct {
	Common
	opts     Options
	sessions sessionsPane
	training trainingPane
	fidelity fidelityPane
	latent   latentPane
	generate generatePane
	player   playerBar
	help     help.Model

	active       int
	session      *sessions.Session
	codec        Codec
	modelMod     time.Time // modification time of the model in use
	loadingModel bool
	clip         *clip
	encSeq       int

	status    string
	statusErr bool
	statusID  int
	fatal     *fatalMsg
	showHelp  bool
	helpPage  int     // the help page shown (when it needs several)
	clipAsk   *prompt // "open clip file" prompt
	released  bool    // release has run: the final model of a quit
}

// newModel builds the root model for opts.
func newModel(opts Options) app {
	opts = opts.withDefaults()
	c := Common{Width: 80, Height: 24, Styles: DefaultStyles(opts.renderer), Keys: DefaultKeyMap(), Now: opts.now}
	h := help.New()
	h.Styles.ShortKey, h.Styles.ShortDesc, h.Styles.ShortSeparator = c.Styles.HelpKey, c.Styles.HelpDesc, c.Styles.Faint
	h.Styles.Ellipsis = c.Styles.Faint
	m := app{
		Common:   c,
		opts:     opts,
		sessions: newSessionsPane(c),
		training: newTrainingPane(c, opts.Executable, opts.pollEvery),
		fidelity: newFidelityPane(c),
		latent:   newLatentPane(c),
		generate: newGeneratePane(c, opts.generate, opts.newSeed),
		player:   newPlayerBar(c, opts.NoAudio),
		help:     h,
	}
	m.training.life, m.sessions.life = opts.ctx, opts.ctx
	m.resize(c.Width, c.Height)
	return m
}

// Init lists sessions, opens the sound device and, if asked, a session
// and a clip file.
func (m app) Init() tea.Cmd {
	cmds := []tea.Cmd{m.sessions.Init(), m.player.openCmd(m.opts.openAudio)}
	if name := m.opts.Session; name != "" {
		cmds = append(cmds, func() tea.Msg {
			s, err := sessions.Open(name)
			if err != nil {
				return errMsg{err}
			}
			return sessionOpenedMsg{s}
		})
	}
	if path := m.opts.Clip; path != "" && m.opts.Session == "" {
		cmds = append(cmds, loadFileClipCmd(path, 0))
	}
	if m.opts.Session == "" {
		cmds = append(cmds, demoCmd(m.opts.Demo, m.opts.installDemo))
	}
	return tea.Batch(cmds...)
}

// resize lays the components out: header (1 line), pane, playback bar (2)
// and status line (1).
func (m *app) resize(w, h int) {
	m.Width, m.Height = w, h
	body := max(3, h-4)
	m.sessions.SetSize(w, body)
	m.training.SetSize(w, body)
	m.fidelity.SetSize(w, body)
	m.latent.SetSize(w, body)
	m.generate.SetSize(w, body)
	m.player.SetSize(w, 2)
	m.help.Width = w
}

// capturing reports whether keys go to a text prompt or dialog.
func (m app) capturing() bool {
	return m.clipAsk != nil || m.active == paneSessions && m.sessions.capturing() ||
		m.active == paneTraining && m.training.capturing()
}

// Update routes messages.
func (m app) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		return m, nil
	case tea.KeyMsg:
		if m.fatal != nil {
			return m.quit()
		}
		return m.keys(msg)
	case fatalMsg:
		m.fatal = &msg
		return m, nil
	case errMsg:
		return m.setStatus(msg.err.Error(), true)
	case statusMsg:
		return m.setStatus(msg.text, false)
	case newSessionMsg:
		m.active = paneSessions
		m.sessions = m.sessions.newSession()
		return m, nil
	case clearStatusMsg:
		if msg.id == m.statusID {
			m.status = ""
		}
		return m, nil
	case demoOpenedMsg:
		next, cmd := m.Update(sessionOpenedMsg{msg.s})
		m = next.(app)
		m.active = paneFidelity
		note := "demo session: space plays the clip · 3 picks a fidelity · 4 explores latents · " + demo.Credit
		if msg.created {
			note = "installed the " + note
		}
		return m, tea.Batch(cmd, listSessionsCmd, statusCmd(note))
	case sessionOpenedMsg:
		m.clearError() // the open succeeded: an earlier failure is stale
		m.session, m.codec, m.clip, m.modelMod = msg.s, nil, nil, time.Time{}
		m.active, m.loadingModel = paneTraining, true
		cmd := m.broadcast(msg)
		return m, tea.Batch(cmd, m.loadModelCmd(msg.s), m.loadClipCmd(msg.s))
	case sessionGoneMsg:
		var cmds []tea.Cmd
		if m.session != nil && m.session.Manifest.Name == msg.name {
			if msg.newName != "" {
				name := msg.newName
				cmds = append(cmds, func() tea.Msg {
					s, err := sessions.Open(name)
					if err != nil {
						return errMsg{err}
					}
					return sessionOpenedMsg{s}
				})
			} else {
				m.session = nil
			}
		}
		cmds = append(cmds, m.broadcast(msg))
		return m, tea.Batch(cmds...)
	case modelLoadedMsg:
		if m.session == nil || msg.session != m.session.Manifest.Name {
			return m, nil
		}
		m.codec, m.modelMod, m.loadingModel = msg.codec, msg.mod, false
		cmd := m.broadcast(msg)
		return m, tea.Batch(cmd, m.encodeCmd())
	case clipLoadedMsg:
		if m.codec != nil && msg.clip.rate != m.codec.Info().SampleRate {
			return m, resampleClipCmd(msg, m.codec.Info().SampleRate)
		}
		m.clip = msg.clip
		cmd := m.broadcast(msg)
		return m, tea.Batch(cmd, m.encodeCmd())
	case encodedMsg:
		if msg.seq != m.encSeq {
			return m, nil
		}
	case renderFailedMsg:
		cmd := m.broadcast(msg)
		_, st := m.setStatus(msg.err.Error(), true)
		return m, tea.Batch(cmd, st)
	case sessionsRefreshMsg:
		if m.active != paneSessions {
			return m, m.sessions.refreshTick() // list again only when seen
		}
	case trainUpdateMsg:
		if msg.gen == m.training.gen {
			m.generate, _ = m.generate.Update(msg)
		}
		var cmd tea.Cmd
		m.training, cmd = m.training.Update(msg)
		return m, tea.Batch(cmd, m.maybeReloadModel(msg))
	}
	return m, m.broadcast(msg)
}

// broadcast hands msg to every component and then passes the playhead on.
func (m *app) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 6)
	m.sessions, cmds[0] = m.sessions.Update(msg)
	m.training, cmds[1] = m.training.Update(msg)
	m.fidelity, cmds[2] = m.fidelity.Update(msg)
	m.latent, cmds[3] = m.latent.Update(msg)
	m.generate, cmds[4] = m.generate.Update(msg)
	m.player, cmds[5] = m.player.Update(msg)
	m.syncPlayhead()
	return tea.Batch(cmds...)
}

// syncPlayhead moves the latent meters with playback.
func (m *app) syncPlayhead() {
	pos := m.player.clipPos()
	if pos != m.latent.pos {
		m.latent, _ = m.latent.Update(playheadMsg{pos: pos, playing: m.player.playing})
	}
}

// keys handles a key press. Several runes arriving as one message (fast
// typing, tmux send-keys) are handled one by one unless a prompt has the
// focus.
func (m app) keys(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && !m.capturing() {
		var cmds []tea.Cmd
		var next tea.Model = m
		for _, r := range msg.Runes {
			var cmd tea.Cmd
			next, cmd = next.(app).keys(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			cmds = append(cmds, cmd)
		}
		return next, tea.Batch(cmds...)
	}
	k := m.Keys
	if m.showHelp {
		if key.Matches(msg, k.Quit) && msg.String() == "ctrl+c" {
			return m.quit()
		}
		if key.Matches(msg, k.Help) && m.helpPage+1 < len(m.helpPages()) {
			m.helpPage++
			return m, nil
		}
		m.showHelp = false
		return m, nil
	}
	if m.clipAsk != nil {
		return m.clipPromptKey(msg)
	}
	if key.Matches(msg, k.Quit) && msg.String() == "ctrl+c" {
		return m.quit()
	}
	if m.capturing() {
		var cmd tea.Cmd
		if m.active == paneTraining {
			m.training, cmd = m.training.Update(msg)
		} else {
			m.sessions, cmd = m.sessions.Update(msg)
		}
		return m, cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp, m.helpPage = true, 0
		return m, nil
	case key.Matches(msg, k.NextPane):
		m.active = (m.active + 1) % paneCount
		return m, nil
	case key.Matches(msg, k.PrevPane):
		m.active = (m.active + paneCount - 1) % paneCount
		return m, nil
	case k.pane(msg) >= 0:
		m.active = k.pane(msg)
		return m, nil
	case key.Matches(msg, k.OpenClip) && (m.active == paneFidelity || m.active == paneLatent):
		p := newPrompt(m.Common, "Audio file to use as the clip (tab completes, enter opens, esc cancels):", "", true)
		m.clipAsk = &p
		return m, nil
	}
	if pb, cmd, ok := m.player.handleKey(msg); ok {
		m.player = pb
		m.syncPlayhead()
		return m, cmd
	}
	var cmd tea.Cmd
	switch m.active {
	case paneSessions:
		m.sessions, cmd = m.sessions.Update(msg)
	case paneTraining:
		m.training, cmd = m.training.Update(msg)
	case paneFidelity:
		m.fidelity, cmd = m.fidelity.Update(msg)
	case paneLatent:
		m.latent, cmd = m.latent.Update(msg)
	case paneGenerate:
		m.generate, cmd = m.generate.Update(msg)
	}
	return m, cmd
}

// clipPromptKey edits the "open clip" prompt.
func (m app) clipPromptKey(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	switch {
	case key.Matches(msg, m.Keys.Back):
		m.clipAsk = nil
		return m, nil
	case key.Matches(msg, m.Keys.Submit):
		path := m.clipAsk.Value()
		m.clipAsk = nil
		if path == "" {
			return m, nil
		}
		rate := 0
		if m.codec != nil {
			rate = m.codec.Info().SampleRate
		}
		return m, loadFileClipCmd(expandHome([]string{path})[0], rate)
	}
	p, cmd := m.clipAsk.Update(msg)
	m.clipAsk = &p
	return m, cmd
}

// quit releases what the app runs (release) and ends the program; a
// training job runs on.
func (m app) quit() (tea.Model, tea.Cmd) {
	m.release()
	return m, tea.Quit
}

// release stops what the app runs beside the program: the training
// watcher, the live track, a preprocessing job and the sound device. quit
// calls it, and Run calls it again on the final model, because a program
// can also end without a quit key (a signal, teatest's Quit); a second
// call does nothing. Under Serve, where the final model is out of reach,
// Options.ctx (the SSH session's context) ends the watcher and the
// preprocessing instead. A training job runs on.
func (m *app) release() {
	if m.released {
		return
	}
	m.released = true
	m.training.close()
	m.latent.closeLive()
	if m.sessions.prep != nil {
		m.sessions.prep.cancel()
	}
	if m.player.p != nil {
		m.player.p.Close()
	}
}

// setStatus shows a note that clears itself.
func (m app) setStatus(text string, isErr bool) (app, tea.Cmd) {
	text = strings.Join(strings.Fields(strings.ReplaceAll(text, "\n", " · ")), " ")
	m.statusID++
	m.status, m.statusErr = text, isErr
	id := m.statusID
	return m, tea.Tick(statusTimeout, func(time.Time) tea.Msg { return clearStatusMsg{id} })
}

// clearError removes an error note from the status line; an information
// note stays.
func (m *app) clearError() {
	if m.statusErr {
		m.status, m.statusErr = "", false
	}
}

// loadModelCmd loads the session's model.
func (m app) loadModelCmd(s *sessions.Session) tea.Cmd {
	load := m.opts.loadModel
	return func() tea.Msg {
		c, err := load(s)
		mod := time.Time{}
		if fi, e := os.Stat(s.Path(layout.ModelFile)); e == nil {
			mod = fi.ModTime()
		}
		return modelLoadedMsg{session: s.Manifest.Name, codec: c, mod: mod, err: err}
	}
}

// maybeReloadModel reloads the model when the trainer wrote a new one.
func (m *app) maybeReloadModel(u trainUpdateMsg) tea.Cmd {
	if m.session == nil || m.loadingModel || u.modelMod.IsZero() || u.gen != m.training.gen {
		return nil
	}
	if !u.modelMod.After(m.modelMod) {
		return nil
	}
	m.loadingModel = true
	return m.loadModelCmd(m.session)
}

// loadClipCmd loads the working clip from the session's dataset (or the
// file named in Options.Clip).
func (m app) loadClipCmd(s *sessions.Session) tea.Cmd {
	if m.opts.Clip != "" {
		return loadFileClipCmd(m.opts.Clip, 0)
	}
	load := m.opts.loadClip
	return func() tea.Msg {
		c, err := load(s)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil // no dataset yet: the panes say so
			}
			return errMsg{fmt.Errorf("clip: %w", err)}
		}
		return clipLoadedMsg{clip: c}
	}
}

// loadFileClipCmd loads an audio file as the clip.
func loadFileClipCmd(path string, rate int) tea.Cmd {
	return func() tea.Msg {
		c, err := fileClip(path, rate)
		if err != nil {
			return errMsg{err}
		}
		return clipLoadedMsg{clip: c}
	}
}

// resampleClipCmd converts the clip to the model's rate.
func resampleClipCmd(msg clipLoadedMsg, rate int) tea.Cmd {
	c := msg.clip
	return func() tea.Msg {
		x, err := resampled(c.samples, c.rate, rate)
		if err != nil {
			return errMsg{err}
		}
		return clipLoadedMsg{clip: &clip{label: c.label, samples: x, rate: rate}, play: msg.play}
	}
}

// encodeCmd encodes the clip once both it and a model are there.
func (m *app) encodeCmd() tea.Cmd {
	if m.codec == nil || m.clip == nil || m.clip.rate != m.codec.Info().SampleRate {
		return nil
	}
	m.encSeq++
	seq, codec, x := m.encSeq, m.codec, m.clip.samples
	return func() tea.Msg {
		z, err := codec.Encode(x)
		return encodedMsg{seq: seq, z: z, err: err}
	}
}

// activeHelp returns the bindings shown in the footer: the active pane's
// (or the open prompt's) and the global ones (none while a prompt or
// dialog takes the keys).
func (m app) activeHelp() (pane, global []key.Binding) {
	switch {
	case m.capturing() && m.clipAsk != nil:
		return []key.Binding{m.Keys.Complete, m.Keys.Submit, m.Keys.Back}, nil
	case m.active == paneSessions:
		pane = m.sessions.ShortHelp()
	case m.active == paneTraining:
		pane = m.training.ShortHelp()
	case m.active == paneFidelity:
		pane = m.fidelity.ShortHelp()
	case m.active == paneLatent:
		pane = m.latent.ShortHelp()
	case m.active == paneGenerate:
		pane = m.generate.ShortHelp()
	}
	if m.capturing() {
		return pane, nil
	}
	return pane, m.Keys.footerKeys()
}

// View lays out the screen.
func (m app) View() string {
	if m.fatal != nil {
		return m.errorView()
	}
	var body string
	switch {
	case m.showHelp:
		body = m.helpView()
	case m.active == paneSessions:
		body = m.sessions.View()
	case m.active == paneTraining:
		body = m.training.View()
	case m.active == paneFidelity:
		body = m.fidelity.View()
	case m.active == paneLatent:
		body = m.latent.View()
	case m.active == paneGenerate:
		body = m.generate.View()
	}
	bodyH := max(3, m.Height-4)
	if m.clipAsk != nil {
		body = fitLines(body, m.Width, max(1, bodyH-m.clipAsk.height())) + "\n" + m.clipAsk.View()
	}
	return m.headerView() + "\n" + fitLines(body, m.Width, bodyH) + "\n" + m.player.View() + "\n" + m.statusView()
}

// headerView draws the title, the tabs and the open session. On a narrow
// terminal it drops the title, then shortens the tab labels (paneShort),
// so every tab stays on screen; only the session name is cut.
func (m app) headerView() string {
	st := m.Styles
	var tag string
	if m.session != nil {
		tag = "  " + st.SessionTag.Render("● "+m.session.Manifest.Name)
	}
	// minTag is how much of the session tag a layout must leave room for.
	minTag := min(lipgloss.Width(tag), 12)
	layouts := []struct {
		title string
		names [paneCount]string
	}{
		{"RAVE Station", paneNames},
		{"RAVE", paneNames},
		{"RAVE", paneShort},
		{"", paneShort},
	}
	var line string
	for _, l := range layouts {
		line = m.tabs(l.names)
		if l.title != "" {
			line = st.Title.Render(l.title) + " " + line
		}
		if lipgloss.Width(line)+minTag <= m.Width {
			break
		}
	}
	return truncate(line+tag, m.Width)
}

// tabs draws the tab bar with the given labels.
func (m app) tabs(names [paneCount]string) string {
	st := m.Styles
	var b strings.Builder
	for i, name := range names {
		if i == m.active {
			b.WriteString(st.TabActive.Render(fmt.Sprintf("[%d %s]", i+1, name)))
		} else {
			b.WriteString(st.TabInactive.Render(fmt.Sprintf(" %d %s ", i+1, name)))
		}
	}
	return b.String()
}

// statusView draws the status note, or the keys of the active pane
// followed by the global ones. The global keys always show: when the
// pane's keys do not fit, they end in "…" and ? lists them all.
func (m app) statusView() string {
	st := m.Styles
	switch {
	case m.status != "" && m.statusErr:
		return truncate(st.StatusError.Render("✗ "+m.status), m.Width)
	case m.status != "":
		return truncate(st.StatusInfo.Render(m.status), m.Width)
	}
	pane, global := m.activeHelp()
	g := m.shortHelp(global, m.Width)
	if g == "" {
		return m.shortHelp(pane, m.Width)
	}
	sep := m.help.Styles.ShortSeparator.Render(m.help.ShortSeparator)
	if p := m.shortHelp(pane, m.Width-lipgloss.Width(g)-lipgloss.Width(sep)); p != "" {
		g = p + sep + g
	}
	return truncate(g, m.Width)
}

// errorView replaces the screen on a fatal error: the error and the hint
// wrapped to the width, so nothing of them is lost.
func (m app) errorView() string {
	st := m.Styles
	out := st.ErrorBadge.Render("ERROR") + "\n\n" + paragraph(st.Text, m.fatal.err.Error(), m.Width)
	if m.fatal.hint != "" {
		out += "\n\n" + paragraph(st.Hint, "---> HINT: "+m.fatal.hint, m.Width)
	}
	return out + "\n\n" + st.Subtle.Render("press any key to exit")
}

// deviceReason shortens a device error for the status line.
func deviceReason(err error) string {
	s := firstLine(err)
	for _, prefix := range []string{"audio: ", "no sound device: ", "oto: "} {
		s = strings.TrimPrefix(s, prefix)
	}
	return s
}

// firstLine returns the first line of err's message.
func firstLine(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// demoOpenedMsg opens the demo session (created: installed just now).
type demoOpenedMsg struct {
	s       *sessions.Session
	created bool
}

// demoCmd installs (if needed) and opens the demo session when force is
// set or when there is no other session.
func demoCmd(force bool, install func() (string, bool, error)) tea.Cmd {
	return func() tea.Msg {
		if !force {
			names, err := sessions.List()
			if err != nil || slices.ContainsFunc(names, func(n string) bool { return n != demo.Name }) {
				return nil // the listing reports errors
			}
		}
		name, created, err := install()
		if err != nil {
			return errMsg{fmt.Errorf("demo session: %w", err)}
		}
		if name == "" {
			return nil
		}
		s, err := sessions.Open(name)
		if err != nil {
			return errMsg{fmt.Errorf("demo session: %w", err)}
		}
		if !force && !demo.Is(s) {
			return nil // a user's own session called "demo"
		}
		return demoOpenedMsg{s: s, created: created}
	}
}
