package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/tui/demo"
)

// The sessions pane lists the sessions with their state, and creates,
// opens, renames and deletes them. Creating one asks for a name, then for
// audio files or folders (tab completes paths); preprocessing then runs in
// a goroutine that reports progress through a channel drained one message
// per command.

type sessMode int

const (
	modeBrowse        sessMode = iota
	modeName                   // typing a new session's name
	modePaths                  // adding audio paths
	modeRename                 // typing the new name
	modeConfirmDelete          // y/n
)

// Messages of the sessions pane.
type (
	sessionsListedMsg struct {
		list []sessions.Summary
		// demos names the sessions installed by tui/demo.
		demos map[string]bool
		err   error
	}
	sessionsRefreshMsg struct{}
	prepProgressMsg    struct{ p audio.Progress }
	prepDoneMsg        struct {
		name   string
		report *audio.DatasetReport
		// rejected are the report's rejections, each path named as the
		// user typed its input.
		rejected []audio.Rejection
		err      error
	}
)

// maxRejectedShown bounds the rejected files listed under the sessions;
// dataset.json lists them all.
const maxRejectedShown = 5

// sessionsPane is the Sessions pane.
type sessionsPane struct {
	Common
	list   []sessions.Summary
	demos  map[string]bool
	cursor int
	listed bool
	err    error
	open   string // the open session

	mode   sessMode
	prompt prompt
	target string   // session being created, extended, renamed or deleted
	paths  []string // audio inputs gathered for preprocessing

	prep *prepJob
	// rejected lists what the last preprocessing of rejectedFor left out,
	// until esc hides it or another preprocessing starts.
	rejected    []audio.Rejection
	rejectedFor string
	// life ends a preprocessing job with the workstation (Options.ctx;
	// nil: never).
	life context.Context
}

// prepJob is a running preprocess.
type prepJob struct {
	name     string
	progress audio.Progress
	ch       chan tea.Msg
	cancel   context.CancelFunc
}

func newSessionsPane(c Common) sessionsPane { return sessionsPane{Common: c} }

// Init lists the sessions and starts the periodic refresh.
func (p sessionsPane) Init() tea.Cmd { return tea.Batch(listSessionsCmd, p.refreshTick()) }

func (p sessionsPane) refreshTick() tea.Cmd {
	return tea.Tick(2*time.Second, func(time.Time) tea.Msg { return sessionsRefreshMsg{} })
}

// listSessionsCmd reads every session's summary.
func listSessionsCmd() tea.Msg {
	if _, err := sessions.Home(); err != nil {
		return fatalMsg{err: err, hint: "set RAVE_HOME to a folder for your sessions, e.g. RAVE_HOME=~/rave rave"}
	}
	names, err := sessions.List()
	if err != nil {
		return sessionsListedMsg{err: err}
	}
	list := make([]sessions.Summary, 0, len(names))
	demos := map[string]bool{}
	for _, n := range names {
		s, err := sessions.Open(n)
		if err != nil {
			list = append(list, sessions.Summary{Name: n, State: "unreadable"})
			continue
		}
		if demo.Is(s) {
			demos[n] = true
		}
		list = append(list, s.Summary())
	}
	return sessionsListedMsg{list: list, demos: demos}
}

// capturing reports whether keys go to a prompt or dialog.
func (p sessionsPane) capturing() bool { return p.mode != modeBrowse }

// selected returns the summary under the cursor.
func (p sessionsPane) selected() (sessions.Summary, bool) {
	if p.cursor < 0 || p.cursor >= len(p.list) {
		return sessions.Summary{}, false
	}
	return p.list[p.cursor], true
}

// Update handles the pane's messages and keys.
func (p sessionsPane) Update(msg tea.Msg) (sessionsPane, tea.Cmd) {
	switch msg := msg.(type) {
	case sessionsListedMsg:
		p.listed, p.err = true, msg.err
		if msg.err == nil {
			sel, _ := p.selected()
			p.list, p.demos = msg.list, msg.demos
			p.cursor = max(0, min(p.cursor, len(p.list)-1))
			for i, s := range p.list {
				if s.Name == sel.Name {
					p.cursor = i
				}
			}
		}
		return p, nil
	case sessionsRefreshMsg:
		return p, tea.Batch(listSessionsCmd, p.refreshTick())
	case sessionOpenedMsg:
		p.open = msg.s.Manifest.Name
		return p, nil
	case sessionGoneMsg:
		if p.open == msg.name {
			p.open = msg.newName
		}
		// The note replaces the status line, so an earlier failure (a
		// refused rename, say) no longer shows after this success.
		note := fmt.Sprintf("deleted %s", msg.name)
		if msg.newName != "" {
			note = fmt.Sprintf("renamed %s to %s", msg.name, msg.newName)
		}
		return p, tea.Batch(listSessionsCmd, statusCmd(note))
	case prepProgressMsg:
		if p.prep == nil {
			return p, nil
		}
		p.prep.progress = msg.p
		return p, waitPrep(p.prep.ch)
	case prepDoneMsg:
		p.prep = nil
		p.rejected, p.rejectedFor = msg.rejected, msg.name
		return p, tea.Batch(listSessionsCmd, prepReport(msg))
	case tea.KeyMsg:
		return p.handleKey(msg)
	}
	if p.mode == modeName || p.mode == modePaths || p.mode == modeRename {
		var cmd tea.Cmd
		p.prompt, cmd = p.prompt.Update(msg)
		return p, cmd
	}
	return p, nil
}

func (p sessionsPane) handleKey(msg tea.KeyMsg) (sessionsPane, tea.Cmd) {
	k := p.Keys
	switch p.mode {
	case modeConfirmDelete:
		switch {
		case key.Matches(msg, k.Yes):
			p.mode = modeBrowse
			name := p.target
			return p, func() tea.Msg {
				if err := sessions.Delete(name); err != nil {
					return errMsg{err}
				}
				return sessionGoneMsg{name: name}
			}
		case key.Matches(msg, k.No, k.Back):
			p.mode = modeBrowse
		}
		return p, nil
	case modeName, modeRename, modePaths:
		switch {
		case key.Matches(msg, k.Back):
			p.mode, p.paths = modeBrowse, nil
			return p, nil
		case key.Matches(msg, k.Submit):
			return p.submit()
		}
		var cmd tea.Cmd
		p.prompt, cmd = p.prompt.Update(msg)
		return p, cmd
	}

	sel, ok := p.selected()
	switch {
	case key.Matches(msg, k.Up):
		p.cursor = max(0, p.cursor-1)
	case key.Matches(msg, k.Down):
		p.cursor = max(0, min(len(p.list)-1, p.cursor+1))
	case key.Matches(msg, k.Back):
		if p.prep != nil {
			p.prep.cancel()
			return p, statusCmd("cancelling preprocessing…")
		}
		p.rejected = nil
	case key.Matches(msg, k.NewSession):
		p = p.newSession()
	case !ok:
		return p, nil
	case key.Matches(msg, k.Enter):
		name := sel.Name
		return p, func() tea.Msg {
			s, err := sessions.Open(name)
			if err != nil {
				return errMsg{err}
			}
			return sessionOpenedMsg{s}
		}
	case key.Matches(msg, k.Rename):
		p.mode, p.target = modeRename, sel.Name
		p.prompt = newPrompt(p.Common, fmt.Sprintf("Rename %q to:", sel.Name), sel.Name, false)
	case key.Matches(msg, k.Delete):
		if sel.Running {
			return p, errorCmd(fmt.Errorf("%s is training (pid %d): stop it first (x in Training)", sel.Name, sel.PID))
		}
		p.mode, p.target = modeConfirmDelete, sel.Name
	case key.Matches(msg, k.AddAudio):
		p.startPaths(sel.Name)
	}
	return p, nil
}

// newSession asks for the name of a new session (then for its audio).
func (p sessionsPane) newSession() sessionsPane {
	p.mode, p.paths = modeName, nil
	p.prompt = newPrompt(p.Common, "New session name (letters, digits, - _ .):", "", false)
	return p
}

// startPaths asks for audio inputs for the named session.
func (p *sessionsPane) startPaths(name string) {
	p.mode, p.target, p.paths = modePaths, name, nil
	p.prompt = newPrompt(p.Common, fmt.Sprintf("Audio for %s: a folder or file · tab completes · enter adds · empty enter starts", name), "", true)
}

// submit handles enter in a prompt.
func (p sessionsPane) submit() (sessionsPane, tea.Cmd) {
	v := p.prompt.Value()
	switch p.mode {
	case modeName:
		if err := sessions.ValidateName(v); err != nil {
			return p, errorCmd(err)
		}
		for _, s := range p.list {
			if s.Name == v {
				return p, errorCmd(fmt.Errorf("session %q exists: pick another name", v))
			}
		}
		p.startPaths(v)
	case modeRename:
		old := p.target
		p.mode = modeBrowse
		if v == old || v == "" {
			return p, nil
		}
		return p, func() tea.Msg {
			if err := sessions.Rename(old, v); err != nil {
				return errMsg{err}
			}
			return sessionGoneMsg{name: old, newName: v}
		}
	case modePaths:
		if v != "" {
			p.paths = append(p.paths, v)
			p.prompt = newPrompt(p.Common, p.prompt.label, "", true)
			return p, nil
		}
		if len(p.paths) == 0 {
			return p, errorCmd(errors.New("add at least one folder or file first (esc cancels)"))
		}
		if p.prep != nil {
			return p, errorCmd(fmt.Errorf("already preprocessing %s: wait for it or press esc to cancel it", p.prep.name))
		}
		p.mode = modeBrowse
		life := p.life
		if life == nil {
			life = context.Background()
		}
		ctx, cancel := context.WithCancel(life)
		p.prep = &prepJob{name: p.target, ch: make(chan tea.Msg, 8), cancel: cancel}
		p.rejected = nil
		go runPreprocess(ctx, p.target, p.paths, p.prep.ch)
		p.paths = nil
		return p, waitPrep(p.prep.ch)
	}
	return p, nil
}

// runPreprocess creates (if needed) and preprocesses a session from the
// inputs as typed, sending progress (dropped when the UI lags behind) and
// then prepDoneMsg.
func runPreprocess(ctx context.Context, name string, typed []string, ch chan<- tea.Msg) {
	defer close(ch)
	s, err := sessions.OpenOrCreate(name)
	if err != nil {
		ch <- prepDoneMsg{name: name, err: err}
		return
	}
	paths := expandHome(typed)
	report, err := s.Preprocess(ctx, paths, audio.DatasetOptions{}, func(pr audio.Progress) {
		select {
		case ch <- prepProgressMsg{pr}:
		default:
		}
	})
	done := prepDoneMsg{name: name, report: report, err: err}
	if report != nil {
		for _, r := range report.Rejected {
			done.rejected = append(done.rejected, audio.Rejection{Path: typedPath(r.Path, typed, paths), Reason: r.Reason})
		}
	}
	ch <- done
}

// typedPath names path (absolute, as the dataset records it) the way the
// user typed the input holding it: that input plus the path inside it.
// A path under no input is returned as it is.
func typedPath(path string, typed, expanded []string) string {
	for i, in := range expanded {
		abs, err := filepath.Abs(in)
		if err != nil {
			continue
		}
		if path == abs {
			return typed[i]
		}
		if rel, err := filepath.Rel(abs, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return filepath.Join(typed[i], rel)
		}
	}
	return path
}

// waitPrep returns the next message of a preprocess.
func waitPrep(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

// prepReport turns a finished preprocess into a status note.
func prepReport(m prepDoneMsg) tea.Cmd {
	if m.err != nil {
		if errors.Is(m.err, context.Canceled) {
			return statusCmd("preprocessing of " + m.name + " cancelled; the previous dataset is intact")
		}
		return errorCmd(fmt.Errorf("preprocess %s: %w", m.name, m.err))
	}
	r := m.report
	rejected := fmt.Sprintf("%d rejected", len(r.Rejected))
	if len(r.Rejected) > 0 {
		rejected += " (listed above)"
	}
	text := fmt.Sprintf("%s: added %d files (%s), %s, %d duplicates · dataset %s in %d chunks",
		m.name, len(r.Added), fmtSpan(r.AddedDuration), rejected, len(r.Duplicates), fmtSpan(r.Duration), r.Chunks)
	if len(r.Warnings) > 0 {
		text += " — " + r.Warnings[0]
	}
	return statusCmd(text)
}

// expandHome replaces a leading "~/" by the home folder.
func expandHome(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if strings.HasPrefix(p, "~/") {
			if h, err := os.UserHomeDir(); err == nil {
				out[i] = h + p[1:]
			}
		}
	}
	return out
}

// ShortHelp implements help.KeyMap.
func (p sessionsPane) ShortHelp() []key.Binding {
	k := p.Keys
	switch p.mode {
	case modeConfirmDelete:
		return []key.Binding{k.Yes, k.No}
	case modePaths:
		return []key.Binding{k.Complete, k.Submit, k.Back}
	case modeName, modeRename:
		return []key.Binding{k.Submit, k.Back}
	}
	if len(p.rejected) > 0 && p.prep == nil {
		return []key.Binding{k.Back, k.Enter, k.NewSession, k.AddAudio, k.Rename, k.Delete}
	}
	return []key.Binding{k.Enter, k.NewSession, k.AddAudio, k.Rename, k.Delete}
}

// FullHelp implements help.KeyMap.
func (p sessionsPane) FullHelp() [][]key.Binding {
	k := p.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Enter, k.NewSession, k.AddAudio, k.Rename, k.Delete, k.Back}}
}

// View draws the list, then the prompt, dialog or preprocessing progress.
func (p sessionsPane) View() string {
	st, w := p.Styles, p.Width
	var b strings.Builder
	count := fmt.Sprintf("%d sessions", len(p.list))
	if len(p.list) == 1 {
		count = "1 session"
	}
	b.WriteString(st.Heading.Render("Sessions") + "  " + st.Subtle.Render(count) + "\n")
	nameW, stepW := p.columns()
	header := fmt.Sprintf("  %-*s %-16s %*s %9s  %s", nameW, "NAME", "  STATE", stepW, "STEP", "DATA", "UPDATED")
	b.WriteString(st.Subtle.Render(truncate(header, w)) + "\n")
	switch {
	case p.err != nil:
		b.WriteString(st.Error.Render("cannot list sessions: "+p.err.Error()) + "\n")
	case !p.listed:
		b.WriteString(st.Subtle.Render("  reading sessions…") + "\n")
	case len(p.list) == 0:
		b.WriteString(st.Subtle.Render("  No sessions yet. Press n to create one from a folder of audio.") + "\n")
	}
	// Rows: leave room for the prompt or progress below.
	rows := max(1, p.Height-2-p.footerLines())
	first := max(0, min(p.cursor-rows+1, len(p.list)-rows))
	for i := first; i < min(len(p.list), first+rows); i++ {
		b.WriteString(p.row(p.list[i], i == p.cursor, nameW, stepW) + "\n")
	}
	out := strings.TrimRight(b.String(), "\n")
	if f := p.footer(); f != "" {
		out = fitLines(out, w, max(1, p.Height-p.footerLines())) + "\n" + f
	}
	return out
}

// columns returns the widths of the name and step columns: a narrower
// step column below 80 cells (9 holds "3,000,000"), and the name gets what
// the other columns leave, 8 to 24 cells.
func (p sessionsPane) columns() (nameW, stepW int) {
	stepW = 12
	if p.Width < 80 {
		stepW = 9
	}
	return max(8, min(24, p.Width-46-stepW)), stepW
}

// row draws one session.
func (p sessionsPane) row(s sessions.Summary, selected bool, nameW, stepW int) string {
	st := p.Styles
	state := string(s.State)
	switch {
	case p.demos[s.Name] && !s.Running && s.Busy == "":
		state = "★ demo (piano)"
	case s.Running:
		state = "▶ " + state
	case s.Busy != "":
		state = "… " + s.Busy
	case s.State == sessions.StateTraining || s.State == sessions.StateStage2:
		state = "■ " + state
	default:
		state = "  " + state
	}
	step := "—"
	updated := s.Updated
	if s.Status != nil {
		step = fmtCount(s.Status.Step)
		if s.Status.Updated.After(updated) {
			updated = s.Status.Updated
		}
	}
	data := "—"
	if s.DatasetSeconds > 0 {
		data = fmtSpan(seconds(s.DatasetSeconds))
	}
	name := s.Name
	if name == p.open {
		name += " •"
	}
	line := fmt.Sprintf("%-*s %-16s %*s %9s  %s", nameW, truncate(name, nameW), state, stepW, step, data, fmtAgo(p.Now(), updated))
	if selected {
		return st.Selected.Render("▸ " + line)
	}
	if s.Running {
		return "  " + st.OK.Render(line)
	}
	return "  " + st.Text.Render(line)
}

func (p sessionsPane) footerLines() int {
	switch {
	case p.mode == modeConfirmDelete:
		return 3
	case p.mode != modeBrowse:
		return 1 + len(p.paths) + p.prompt.height()
	case p.prep != nil:
		return 3
	case len(p.rejected) > 0:
		return 1 + len(p.rejectedLines())
	case p.demoSelected():
		return 1 + len(p.demoLines())
	}
	return 0
}

// rejectedLines lists the files the last preprocessing rejected: a
// heading, then each file with its reason, wrapped (at most
// maxReasonLines lines a file, maxRejectedShown files).
func (p sessionsPane) rejectedLines() []string {
	st, w := p.Styles, p.Width
	lines := joinFit([]string{
		st.Warn.Render(fmt.Sprintf("%s: %d rejected by the last preprocessing", p.rejectedFor, len(p.rejected))),
		st.Subtle.Render("esc hides · all in " + layout.DatasetJSONFile),
	}, st.Subtle.Render(" · "), w)
	const maxReasonLines = 3
	for _, r := range p.rejected[:min(len(p.rejected), maxRejectedShown)] {
		wrapped := wrap(r.Path+" — "+r.Reason, max(1, w-2))
		if len(wrapped) > maxReasonLines {
			wrapped = append(wrapped[:maxReasonLines-1], truncate(strings.Join(wrapped[maxReasonLines-1:], " "), w-2))
		}
		for i, l := range wrapped {
			mark := "  "
			if i == 0 {
				mark = st.Error.Render("✗ ")
			}
			lines = append(lines, mark+st.Text.Render(l))
		}
	}
	if n := len(p.rejected) - maxRejectedShown; n > 0 {
		lines = append(lines, st.Subtle.Render(fmt.Sprintf("  … and %d more", n)))
	}
	return lines
}

// demoLines credit the demo's recordings (shown while it is selected).
func (p sessionsPane) demoLines() []string {
	st := p.Styles
	return joinFit([]string{
		st.Accent.Render("★ demo ") + st.Text.Render(demo.Credit),
		st.Subtle.Render("see " + layout.CreditsFile),
		st.Subtle.Render("enter opens"),
	}, st.Subtle.Render(" · "), p.Width)
}

// demoSelected reports whether the cursor is on the demo session.
func (p sessionsPane) demoSelected() bool {
	sel, ok := p.selected()
	return ok && p.demos[sel.Name]
}

// footer draws the prompt, dialog or progress (empty when browsing).
func (p sessionsPane) footer() string {
	st, w := p.Styles, p.Width
	switch {
	case p.mode == modeConfirmDelete:
		return "\n" + st.Warn.Render(fmt.Sprintf("Delete session %q and all its files (dataset, checkpoints, exports)?", p.target)) +
			"\n" + st.Prompt.Render("y") + st.Subtle.Render(" delete · ") + st.Prompt.Render("n") + st.Subtle.Render(" keep")
	case p.mode != modeBrowse:
		var b strings.Builder
		b.WriteString("\n")
		for _, path := range p.paths {
			b.WriteString(st.OK.Render("  + ") + st.Text.Render(path) + "\n")
		}
		b.WriteString(p.prompt.View())
		return b.String()
	case p.prep != nil:
		pr := p.prep.progress
		frac := 0.0
		if pr.BytesTotal > 0 {
			frac = float64(pr.BytesDone) / float64(pr.BytesTotal)
		} else if pr.FilesTotal > 0 {
			frac = float64(pr.FilesDone) / float64(pr.FilesTotal)
		}
		stage := pr.Stage
		if stage == "" {
			stage = "starting"
		}
		label := fmt.Sprintf(" %3.0f%% %s %d/%d files", frac*100, stage, pr.FilesDone, pr.FilesTotal)
		return "\n" + st.Heading.Render("Preprocessing "+p.prep.name) + st.Subtle.Render(" (esc cancels)") + "\n" +
			progressBar(frac, max(10, w-len([]rune(label))-1), st) + st.Text.Render(label)
	case len(p.rejected) > 0:
		return "\n" + strings.Join(p.rejectedLines(), "\n")
	case p.demoSelected():
		return "\n" + strings.Join(p.demoLines(), "\n")
	}
	return ""
}
