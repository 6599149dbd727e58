package tui

import (
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
)

// Playback is the player the playback bar drives; *audio.Player
// implements it (tests use a fake).
type Playback interface {
	Load(a, b audio.SeekStream) error
	SetTrack(t audio.Track, s audio.SeekStream) error
	HasTrack(t audio.Track) bool
	Play() error
	Pause()
	Playing() bool
	Position() int
	Len() int
	Seek(pos int) error
	Select(t audio.Track) error
	Current() audio.Track
	SetLoop(on bool)
	Loop() bool
	SetVolume(v float64)
	Volume() float64
	SampleRate() int
	Close() error
}

var _ Playback = (*audio.Player)(nil)

// deviceRate is the rate the sound device is opened at; clips at other
// rates are resampled to it.
const deviceRate = 48000

// openAudio opens the process's sound device.
func openAudio() (Playback, error) {
	p, err := audio.OpenPlayer(audio.PlayerOptions{SampleRate: deviceRate})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Messages of the playback bar.
type (
	playerOpenedMsg struct {
		p   Playback
		err error
	}
	// tracksMsg carries tracks resampled to the device rate: A, and B if
	// there is a render (selected when it arrives).
	tracksMsg struct {
		a, b   []float32
		labelB string
		play   bool
		gen    int
	}
	playTickMsg struct{ gen int }
	// playRequestMsg plays track B from where it is.
	playRequestMsg struct{}
	exportedMsg    struct {
		paths []string
		err   error
	}
)

// playerBar is the playback bar: tracks A (the clip) and B (a render of
// it), transport, and the WAV export that replaces playback when there is
// no sound device.
type playerBar struct {
	Common
	p       Playback
	devErr  error // why there is no player
	opening bool
	noAudio bool

	session  *sessions.Session
	a, b     []float32 // at rate
	rate     int
	labelA   string
	labelB   string
	gen      int // bumped when the clip changes, to drop stale tracks
	ticking  bool
	tickGen  int
	pos      int // device samples
	playing  bool
	loaded   bool
	exported string

	// live, when not nil, is track B: the latent pane's live track (at
	// the device's rate), in place of the rendered b.
	live    *liveTrack
	liveSeq int // the edit count of labelB
}

func newPlayerBar(c Common, noAudio bool) playerBar {
	return playerBar{Common: c, noAudio: noAudio, opening: !noAudio}
}

// openCmd opens the device off the UI goroutine.
func (pb playerBar) openCmd(open func() (Playback, error)) tea.Cmd {
	if pb.noAudio {
		return nil
	}
	return func() tea.Msg {
		p, err := open()
		return playerOpenedMsg{p, err}
	}
}

// clipPos converts the device position to samples of the clip.
func (pb playerBar) clipPos() int {
	if pb.p == nil || pb.rate == 0 || pb.p.SampleRate() == 0 {
		return 0
	}
	return int(int64(pb.pos) * int64(pb.rate) / int64(pb.p.SampleRate()))
}

// prepare resamples tracks to the device rate in a command.
func (pb playerBar) prepare(a, b []float32, labelB string, play bool) tea.Cmd {
	if pb.p == nil {
		return nil
	}
	from, to, gen := pb.rate, pb.p.SampleRate(), pb.gen
	return func() tea.Msg {
		ra, err := resampled(a, from, to)
		if err != nil {
			return errMsg{err}
		}
		rb, err := resampled(b, from, to)
		if err != nil {
			return errMsg{err}
		}
		return tracksMsg{a: ra, b: rb, labelB: labelB, play: play, gen: gen}
	}
}

func (pb playerBar) tick() tea.Cmd {
	gen := pb.tickGen
	return tea.Tick(100*time.Millisecond, func(time.Time) tea.Msg { return playTickMsg{gen} })
}

// startTicking re-arms position updates while playing.
func (pb *playerBar) startTicking() tea.Cmd {
	if pb.ticking {
		return nil
	}
	pb.ticking = true
	pb.tickGen++
	return pb.tick()
}

func (pb *playerBar) sync() {
	if pb.p == nil {
		return
	}
	pb.pos = pb.p.Position()
	pb.playing = pb.p.Playing()
}

// Update handles the bar's messages.
func (pb playerBar) Update(msg tea.Msg) (playerBar, tea.Cmd) {
	switch msg := msg.(type) {
	case playerOpenedMsg:
		pb.opening = false
		if msg.err != nil {
			pb.devErr = msg.err
			return pb, nil
		}
		pb.p = msg.p
		if pb.a != nil {
			return pb, pb.prepare(pb.a, pb.b, pb.labelB, false)
		}
	case sessionOpenedMsg:
		pb.session = msg.s
		pb.a, pb.b, pb.labelA, pb.labelB, pb.loaded, pb.live = nil, nil, "", "", false, nil
		pb.gen++
		if pb.p != nil {
			pb.p.Pause()
			pb.sync()
		}
	case clipLoadedMsg:
		pb.a, pb.b, pb.rate, pb.labelA, pb.labelB, pb.live = msg.clip.samples, nil, msg.clip.rate, msg.clip.label, "", nil
		pb.gen++
		pb.loaded = false
		return pb, pb.prepare(pb.a, nil, "", msg.play)
	case renderedMsg:
		if pb.a == nil || msg.from == "latent" && pb.live != nil {
			return pb, nil // a render that was running when B went live
		}
		if msg.rate != pb.rate {
			// Convert off the UI goroutine, then come back at the clip's rate.
			to := pb.rate
			return pb, func() tea.Msg {
				x, err := resampled(msg.audio, msg.rate, to)
				if err != nil {
					return errMsg{err}
				}
				msg.audio, msg.rate = x, to
				return msg
			}
		}
		pb.b, pb.labelB, pb.live = fitLen(msg.audio, len(pb.a)), msg.label, nil
		return pb, pb.prepare(pb.a, pb.b, pb.labelB, msg.play)
	case liveTrackMsg:
		return pb.setLive(msg)
	case tracksMsg:
		if pb.p == nil || msg.gen != pb.gen {
			return pb, nil
		}
		rate := pb.p.SampleRate()
		var bs audio.SeekStream
		if msg.b != nil {
			bs = audio.NewClip(fitLen(msg.b, len(msg.a)), rate)
		}
		var err error
		if !pb.loaded {
			first := bs
			if bs == nil && pb.live != nil && pb.live.Len() == len(msg.a) {
				first = pb.live // B went live before the tracks loaded
			}
			err = pb.p.Load(audio.NewClip(msg.a, rate), first)
			pb.loaded = err == nil
		} else if bs != nil {
			err = pb.p.SetTrack(audio.TrackB, bs)
		}
		if err == nil && bs != nil {
			err = pb.p.Select(audio.TrackB)
		}
		if err != nil {
			return pb, errorCmd(err)
		}
		if msg.play {
			if err := pb.p.Play(); err != nil {
				return pb, errorCmd(err)
			}
		}
		pb.sync()
		if pb.playing {
			return pb, pb.startTicking()
		}
	case playTickMsg:
		if msg.gen != pb.tickGen {
			return pb, nil
		}
		pb.sync()
		if !pb.playing {
			pb.ticking = false
			return pb, nil
		}
		return pb, pb.tick()
	case playRequestMsg:
		if pb.p == nil || !pb.loaded {
			return pb, nil
		}
		if pb.p.HasTrack(audio.TrackB) {
			pb.p.Select(audio.TrackB)
		}
		if err := pb.p.Play(); err != nil {
			return pb, errorCmd(err)
		}
		pb.sync()
		return pb, pb.startTicking()
	case exportedMsg:
		if msg.err != nil {
			return pb, errorCmd(msg.err)
		}
		pb.exported = strings.Join(msg.paths, ", ")
		return pb, statusCmd("exported " + pb.exported)
	}
	return pb, nil
}

// setLive makes the latent pane's live track B (replacing a rendered B),
// relabels it, and selects or plays it as asked.
func (pb playerBar) setLive(msg liveTrackMsg) (playerBar, tea.Cmd) {
	if pb.a == nil || msg.track == nil || msg.track.Len() != len(pb.a) {
		return pb, nil
	}
	fresh := pb.live != msg.track
	if fresh || msg.seq >= pb.liveSeq {
		pb.labelB, pb.liveSeq = msg.label, msg.seq
	}
	pb.live, pb.b = msg.track, nil
	if pb.p == nil || !pb.loaded {
		return pb, nil // installed when the tracks load
	}
	var err error
	if fresh {
		err = pb.p.SetTrack(audio.TrackB, msg.track)
	}
	if err == nil && msg.selectB && pb.p.Current() != audio.TrackB {
		err = pb.p.Select(audio.TrackB)
	}
	if err == nil && msg.play {
		err = pb.p.Play()
	}
	if err != nil {
		return pb, errorCmd(err)
	}
	pb.sync()
	if pb.playing {
		return pb, pb.startTicking()
	}
	return pb, nil
}

// handleKey runs a playback key; ok is false for other keys.
func (pb playerBar) handleKey(msg tea.KeyMsg) (playerBar, tea.Cmd, bool) {
	k := pb.Keys
	if key.Matches(msg, k.ExportWAV) {
		return pb, pb.exportCmd(), true
	}
	playbackKey := key.Matches(msg, k.PlayPause, k.SwitchAB, k.Loop, k.VolumeUp, k.VolumeDown, k.SeekBack, k.SeekForward)
	if !playbackKey {
		return pb, nil, false
	}
	if pb.p == nil || !pb.loaded {
		return pb, statusCmd(pb.unavailable()), true
	}
	var err error
	step := 2 * pb.p.SampleRate()
	switch {
	case key.Matches(msg, k.PlayPause):
		if pb.p.Playing() {
			pb.p.Pause()
		} else {
			err = pb.p.Play()
		}
	case key.Matches(msg, k.SwitchAB):
		next := audio.TrackB
		if pb.p.Current() == audio.TrackB {
			next = audio.TrackA
		}
		if !pb.p.HasTrack(audio.TrackB) {
			return pb, statusCmd("no B track yet: render one (enter in Fidelity or Latent)"), true
		}
		err = pb.p.Select(next)
	case key.Matches(msg, k.Loop):
		pb.p.SetLoop(!pb.p.Loop())
	case key.Matches(msg, k.VolumeUp):
		pb.p.SetVolume(pb.p.Volume() + 0.1)
	case key.Matches(msg, k.VolumeDown):
		pb.p.SetVolume(pb.p.Volume() - 0.1)
	case key.Matches(msg, k.SeekBack):
		err = pb.p.Seek(pb.p.Position() - step)
	case key.Matches(msg, k.SeekForward):
		err = pb.p.Seek(pb.p.Position() + step)
	}
	if err != nil {
		return pb, errorCmd(err), true
	}
	pb.sync()
	if pb.playing {
		return pb, pb.startTicking(), true
	}
	return pb, nil, true
}

// unavailable explains why playback keys do nothing.
func (pb playerBar) unavailable() string {
	switch {
	case pb.devErr != nil || pb.noAudio:
		return "no sound device: press w to export the clip and its render as WAV files"
	case pb.opening:
		return "the sound device is still opening"
	}
	return "nothing to play yet: open a session with a dataset, or press o in Fidelity/Latent to open a file"
}

// exportDir is where WAV files go: the session's exports/ folder, else
// the current folder.
func (pb playerBar) exportDir() string {
	if pb.session != nil {
		return pb.session.Path(layout.ExportsDir)
	}
	return "."
}

// exportCmd writes track A (and B) as 16-bit WAV files.
func (pb playerBar) exportCmd() tea.Cmd {
	if pb.a == nil {
		return statusCmd("nothing to export yet: open a session with a dataset first")
	}
	dir, a, b, rate, live := pb.exportDir(), pb.a, pb.b, pb.rate, pb.live
	nameA := wavName("clip-A-" + pb.labelA)
	nameB := wavName("clip-B-" + pb.labelB)
	return func() tea.Msg {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return exportedMsg{err: fmt.Errorf("export: %w", err)}
		}
		if b == nil && live != nil {
			// B plays live: render it whole with the edit in force.
			var err error
			if b, err = live.Render(); err != nil {
				return exportedMsg{err: fmt.Errorf("export: %w", err)}
			}
		}
		var paths []string
		for _, t := range []struct {
			name string
			x    []float32
		}{{nameA, a}, {nameB, b}} {
			if t.x == nil {
				continue
			}
			p := filepath.Join(dir, t.name)
			if err := audio.WriteWAV(p, [][]float32{t.x}, rate, audio.Int16); err != nil {
				return exportedMsg{err: err}
			}
			paths = append(paths, p)
		}
		return exportedMsg{paths: paths}
	}
}

// fileSafe turns a label into a file-name fragment.
// wavName returns the file name of an export labelled label: the label made
// file-safe, without an audio extension it already carries (a clip named
// after "take.wav" is exported as "….take.wav", not "take.wav.wav"), then
// ".wav".
func wavName(label string) string {
	switch strings.ToLower(filepath.Ext(label)) {
	case ".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".aif", ".aiff":
		label = strings.TrimSuffix(label, filepath.Ext(label))
	}
	return fileSafe(label) + ".wav"
}

func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '=', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "clip"
	}
	return out
}

// ShortHelp implements help.KeyMap.
func (pb playerBar) ShortHelp() []key.Binding {
	if pb.p == nil {
		return []key.Binding{pb.Keys.ExportWAV}
	}
	return []key.Binding{pb.Keys.PlayPause, pb.Keys.SwitchAB, pb.Keys.ExportWAV}
}

// FullHelp implements help.KeyMap.
func (pb playerBar) FullHelp() [][]key.Binding { return [][]key.Binding{pb.ShortHelp()} }

// View draws two lines: the tracks, then the transport (or why there is
// none).
func (pb playerBar) View() string {
	st, w := pb.Styles, pb.Width
	var top string
	if pb.a == nil {
		top = st.Subtle.Render("no clip — open a session with a dataset, or o in Fidelity/Latent to open a file")
	} else {
		cur := audio.TrackA
		if pb.p != nil && pb.loaded {
			cur = pb.p.Current()
		}
		mark := func(t audio.Track) string {
			if t == cur {
				return "▸"
			}
			return " "
		}
		b := st.Subtle.Render("— none yet (enter in Fidelity or Latent)")
		if pb.b != nil || pb.live != nil {
			b = st.Text.Render(pb.labelB)
		}
		top = mark(audio.TrackA) + st.TrackA.Render("A") + " " + st.Text.Render(pb.labelA) + "   " +
			mark(audio.TrackB) + st.TrackB.Render("B") + " " + b
	}
	var bottom string
	switch {
	case pb.p == nil && (pb.devErr != nil || pb.noAudio):
		why, detail := "audio off", ""
		if pb.devErr != nil {
			why, detail = "no sound device", " · "+deviceReason(pb.devErr)
		}
		bottom = st.Error.Render("✗ "+why) + st.Subtle.Render(" · ") + st.Hint.Render("w exports A/B as WAV to "+pb.exportLabel()) + st.Subtle.Render(detail)
	case pb.p == nil:
		bottom = st.Subtle.Render("… opening the sound device")
	default:
		icon := "■"
		if pb.playing {
			icon = "▶"
		}
		n := pb.p.Len()
		rate := pb.p.SampleRate()
		left := fmt.Sprintf("%s %s ", icon, fmtClock(pb.pos, rate))
		loop := "off"
		if pb.p.Loop() {
			loop = "on"
		}
		right := fmt.Sprintf(" %s · vol %d%% · loop %s", fmtClock(n, rate), int(pb.p.Volume()*100+0.5), loop)
		barW := max(5, w-len([]rune(left))-len([]rune(right)))
		frac := 0.0
		if n > 0 {
			frac = float64(pb.pos) / float64(n)
		}
		bottom = st.Text.Render(left) + positionBar(frac, barW, st) + st.Subtle.Render(right)
	}
	return truncate(top, w) + "\n" + truncate(bottom, w)
}

// exportLabel names the export folder briefly.
func (pb playerBar) exportLabel() string {
	if pb.session != nil {
		return pb.session.Manifest.Name + "/" + layout.ExportsDir + "/"
	}
	return "the current folder"
}

// noDevice reports whether the bar offers export instead of playback.
func (pb playerBar) noDevice() bool { return pb.p == nil && (pb.devErr != nil || pb.noAudio) }

// deviceError returns the device error, if any.
func (pb playerBar) deviceError() error {
	if pb.noAudio && pb.devErr == nil {
		return errors.New("audio disabled")
	}
	return pb.devErr
}
