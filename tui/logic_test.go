package tui

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model/tinymodel"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/sessions/trainjob"
	"github.com/ravestation/rave/train/runlog"
	"github.com/ravestation/rave/tui/demo"
)

// Pure-logic tests: they call Update directly and run the returned
// commands by hand, so nothing depends on timing.

// update sends msgs to m in order, returning the model and the last cmd.
func update(t *testing.T, m app, msgs ...tea.Msg) (app, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, msg := range msgs {
		var next tea.Model
		next, cmd = m.Update(msg)
		m = next.(app)
	}
	return m, cmd
}

// run executes cmd and every command it batches, returning the messages
// (tick commands are skipped: they would sleep).
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := await(cmd, 300*time.Millisecond) // nil: a tick or a blocking wait
	if batch, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range batch {
			out = append(out, run(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

// drainPrep feeds the pane the messages of the preprocess channel, as the
// program would, starting with cmd's, until preprocessing is done.
func drainPrep(p sessionsPane, cmd tea.Cmd) (sessionsPane, prepDoneMsg) {
	for msg := cmd(); ; msg = cmd() {
		if d, ok := msg.(prepDoneMsg); ok {
			return p, d
		}
		p, cmd = p.Update(msg)
	}
}

// await runs cmd and returns its message, or nil when cmd has not
// returned within d.
func await(cmd tea.Cmd, d time.Duration) tea.Msg {
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(d):
		return nil
	}
}

// find returns the first message of type T.
func find[T any](msgs []tea.Msg) (T, bool) {
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func TestPaneSwitchingAndMergedRunes(t *testing.T) {
	withHome(t)
	m := newModel(testOptions(t, nil))
	// tab from the last pane wraps round to the first, shift+tab back.
	for _, k := range []struct {
		key  string
		want int
	}{{"4", paneLatent}, {"5", paneGenerate}, {"tab", paneSessions}, {"shift+tab", paneGenerate}} {
		m, _ = update(t, m, keyMsg(k.key))
		if m.active != k.want {
			t.Fatalf("after %s: pane %s, want %s", k.key, paneNames[m.active], paneNames[k.want])
		}
	}
	// tmux delivers quick keys as one message: "23" must act as 2 then 3.
	m, _ = update(t, m, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("23")})
	if m.active != paneFidelity {
		t.Fatalf("merged \"23\": pane %d, want fidelity", m.active)
	}
	m, _ = update(t, m, keyMsg("?"))
	if !m.showHelp || !strings.Contains(m.View(), "Fidelity pane") {
		t.Fatal("? did not show the fidelity help")
	}
	m, _ = update(t, m, keyMsg("x"))
	if m.showHelp {
		t.Fatal("a key did not close the help")
	}
}

func isQuit(cmd tea.Cmd) bool {
	for _, msg := range run(cmd) {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

func TestPromptCapturesKeys(t *testing.T) {
	withHome(t)
	m := newModel(testOptions(t, nil))
	m, _ = update(t, m, keyMsg("n"))
	if !m.capturing() {
		t.Fatal("n did not open the name prompt")
	}
	m, cmd := update(t, m, keyMsg("q"), keyMsg("2"), tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("ab")})
	if isQuit(cmd) || m.active != paneSessions {
		t.Fatal("keys typed in the prompt acted as global keys")
	}
	if got := m.sessions.prompt.Value(); got != "q2ab" {
		t.Fatalf("prompt = %q, want q2ab", got)
	}
	m, _ = update(t, m, keyMsg("esc"))
	if m.capturing() {
		t.Fatal("esc did not close the prompt")
	}
	_, cmd = update(t, m, keyMsg("q"))
	if !isQuit(cmd) {
		t.Fatal("q outside a prompt did not quit")
	}
}

func TestCreateRenameDeleteSession(t *testing.T) {
	withHome(t)
	dir := t.TempDir()
	wav := filepath.Join(dir, "tone.wav")
	x := make([]float32, 48000)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(float64(i)/10))
	}
	if err := audio.WriteWAV(wav, [][]float32{x}, 48000, audio.Int16); err != nil {
		t.Fatal(err)
	}
	p := newSessionsPane(newModel(testOptions(t, nil)).Common)
	p, _ = p.Update(keyMsg("n"))
	for _, r := range "tone" {
		p, _ = p.Update(keyMsg(string(r)))
	}
	p, _ = p.Update(keyMsg("enter"))
	if p.mode != modePaths {
		t.Fatalf("after the name, mode %d, want paths", p.mode)
	}
	p.prompt.input.SetValue(wav)
	p, _ = p.Update(keyMsg("enter"))
	p, cmd := p.Update(keyMsg("enter")) // empty line: start
	if p.prep == nil {
		t.Fatal("preprocessing did not start")
	}
	// Drain the preprocess channel through the pane, as the program would.
	p, done := drainPrep(p, cmd)
	if done.err != nil {
		t.Fatalf("preprocess: %v", done.err)
	}
	s, err := sessions.Open("tone")
	if err != nil || s.Summary().State != sessions.StatePreprocessed {
		t.Fatalf("after preprocessing: %v, %+v", err, s.Summary())
	}
	p, _ = p.Update(listSessionsCmd())

	// Rename.
	p, _ = p.Update(keyMsg("r"))
	p.prompt.input.SetValue("tone2")
	p, cmd = p.Update(keyMsg("enter"))
	if gone, ok := find[sessionGoneMsg](run(cmd)); !ok || gone.newName != "tone2" {
		t.Fatalf("rename gave %v", run(cmd))
	}
	p, _ = p.Update(listSessionsCmd())
	if sel, _ := p.selected(); sel.Name != "tone2" {
		t.Fatalf("selected %q after rename", sel.Name)
	}
	// Delete asks first; n keeps it.
	p, _ = p.Update(keyMsg("d"))
	p, cmd = p.Update(keyMsg("n"))
	if cmd != nil || p.mode != modeBrowse {
		t.Fatal("n in the delete dialog did something")
	}
	p, _ = p.Update(keyMsg("d"))
	_, cmd = p.Update(keyMsg("y"))
	if _, ok := find[sessionGoneMsg](run(cmd)); !ok {
		t.Fatal("y did not delete")
	}
	if names, _ := sessions.List(); len(names) != 0 {
		t.Fatalf("sessions after delete: %v", names)
	}
}

func TestFidelityPicker(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 60, testNow)
	c := Common{Width: 80, Height: 20, Styles: DefaultStyles(nil), Keys: DefaultKeyMap(), Now: func() time.Time { return testNow }}
	p := newFidelityPane(c)
	codec := &fakeCodec{}
	p, _ = p.Update(sessionOpenedMsg{s})
	p, _ = p.Update(modelLoadedMsg{session: "piano", codec: codec})
	if exact, pow2 := p.dims(); exact != 6 || pow2 != 8 {
		t.Fatalf("dims at f 0.95 = %d, %d; want 6 exact (0.962 ≥ 0.95), 8 power of two", exact, pow2)
	}
	for range 3 {
		p, _ = p.Update(keyMsg("right"))
	}
	if p.f != 0.98 || p.k() != 7 {
		t.Fatalf("after 3×right: f %v k %d, want 0.98 and 7", p.f, p.k())
	}
	p, _ = p.Update(keyMsg("{"))
	if p.f != 0.979 {
		t.Fatalf("fine step: f %v, want 0.979", p.f)
	}
	p, _ = p.Update(keyMsg("t"))
	if p.k() != 8 || p.rule() != "pow2" {
		t.Fatalf("rule toggle: k %d rule %s", p.k(), p.rule())
	}
	// 8 dims × 48000/2048 frames/s × 8 bits.
	if got, want := p.kbps(8), 8*48000.0/2048*8/1000; math.Abs(got-want) > 1e-9 {
		t.Fatalf("kbps = %v, want %v", got, want)
	}
	msgs := run(p.save())
	choice, ok := find[fidelityChoiceMsg](msgs)
	if !ok {
		t.Fatalf("save gave %v", msgs)
	}
	p, _ = p.Update(choice)
	got, err := s.ReadFidelity()
	if err != nil || got.Dims != 8 || got.Rule != "pow2" || got.Fidelity != 0.979 || got.Bits != 8 {
		t.Fatalf("fidelity.json = %+v, %v", got, err)
	}
	// Rendering at k decodes exactly k dims.
	clip := sineClip()
	p, _ = p.Update(clipLoadedMsg{clip: clip})
	z, _ := codec.Encode(clip.samples)
	p, _ = p.Update(encodedMsg{z: z})
	p, cmd := p.Update(keyMsg("enter"))
	r, ok := find[renderedMsg](run(cmd))
	if !ok || !r.play || len(r.audio) != len(clip.samples) {
		t.Fatalf("render gave %+v", r)
	}
	if d := codec.lastDecoded(); len(d) != 8 {
		t.Fatalf("decoded %d dims, want 8", len(d))
	}
	if p, _ = p.Update(r); p.rendering {
		t.Fatal("still rendering after the result")
	}
}

func TestLatentEditsReachDecoder(t *testing.T) {
	c := Common{Width: 80, Height: 20, Styles: DefaultStyles(nil), Keys: DefaultKeyMap(), Now: time.Now}
	codec := &fakeCodec{}
	p := newLatentPane(c)
	p, _ = p.Update(modelLoadedMsg{codec: codec})
	clip := sineClip()
	p, _ = p.Update(clipLoadedMsg{clip: clip})
	z, _ := codec.Encode(clip.samples)
	p, _ = p.Update(encodedMsg{z: z})
	p, _ = p.Update(playheadMsg{pos: 10 * 2048})
	if p.frame() != 10 {
		t.Fatalf("frame = %d, want 10", p.frame())
	}
	// dim 1: +0.5σ; dim 2: ×1.25; dim 3: frozen at frame 10; dim 4: random.
	p, _ = p.Update(keyMsg("right"))
	p, _ = p.Update(keyMsg("l"))
	p, _ = p.Update(keyMsg("down"))
	p, _ = p.Update(keyMsg("]"))
	p, _ = p.Update(keyMsg("down"))
	p, _ = p.Update(keyMsg("f"))
	p, due := p.Update(keyMsg("down"))
	if due != nil {
		t.Fatal("moving the selection scheduled a render")
	}
	p, due = p.Update(keyMsg("z"))
	if due == nil || p.edited() != 4 || p.editSeq != 5 {
		t.Fatalf("edits: %d edited, seq %d", p.edited(), p.editSeq)
	}
	// The debounce fires for the last edit only.
	if _, cmd := p.Update(latentRenderDueMsg{seq: 1}); cmd != nil {
		t.Fatal("a stale debounce started a render")
	}
	p, cmd := p.Update(latentRenderDueMsg{seq: 5})
	r, ok := find[renderedMsg](run(cmd))
	if !ok || r.from != "latent" || r.seq != 5 {
		t.Fatalf("render gave %+v", r)
	}
	got := codec.lastDecoded()
	for tt := range z[0] {
		if want := z[0][tt] + float32(0.5*p.sigma[0]); math.Abs(float64(got[0][tt]-want)) > 1e-5 {
			t.Fatalf("dim 1 frame %d = %v, want %v (+0.5σ)", tt, got[0][tt], want)
		}
		if want := z[1][tt] * 1.25; math.Abs(float64(got[1][tt]-want)) > 1e-5 {
			t.Fatalf("dim 2 frame %d = %v, want %v (×1.25)", tt, got[1][tt], want)
		}
		if got[2][tt] != z[2][10] {
			t.Fatalf("dim 3 frame %d = %v, want frozen %v", tt, got[2][tt], z[2][10])
		}
		if !reflect.DeepEqual(got[4], z[4]) || !reflect.DeepEqual(got[7], z[7]) {
			t.Fatal("unedited dims changed")
		}
	}
	if reflect.DeepEqual(got[3], z[3]) {
		t.Fatal("randomised dim 4 is unchanged")
	}
	p, _ = p.Update(r)
	if p.busy || p.heard != 5 {
		t.Fatalf("after the render: busy %v heard %d", p.busy, p.heard)
	}
	p, _ = p.Update(keyMsg("C"))
	if p.edited() != 0 {
		t.Fatal("C did not clear the edits")
	}
}

func TestTrainingKeys(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 60, testNow)
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	exe := filepath.Join(dir, "fake-rave")
	script := "#!/bin/sh\necho \"$@\" > " + argsFile + "\necho 'rave train: no dataset' >&2\nexit 1\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c := Common{Width: 80, Height: 20, Styles: DefaultStyles(nil), Keys: DefaultKeyMap(), Now: time.Now}
	p := newTrainingPane(c, exe, 0)
	p.life = t.Context()
	p, _ = p.Update(sessionOpenedMsg{s})
	p, _ = p.Update(keyMsg("p")) // quick → small (presets are sorted: quick, small, tiny, v1)
	p, cmd := p.Update(keyMsg("s"))
	job, ok := find[jobMsg](run(cmd))
	if !ok || job.err == nil || !strings.Contains(job.err.Error(), "no dataset") {
		t.Fatalf("start of a failing trainer: %+v", job)
	}
	b, _ := os.ReadFile(argsFile)
	if got := strings.TrimSpace(string(b)); got != "train --session piano --preset small" {
		t.Fatalf("trainer args = %q", got)
	}
	p, _ = p.Update(job)
	if v := p.View(); !strings.Contains(v, "exited at once") || !strings.Contains(v, "rave train: no dataset") {
		t.Errorf("the failed start is not shown with the end of train.log:\n%s", v)
	}
	// F on the stopped session asks first (TestForceStage2AsksWhenStopped).
	p, _ = p.Update(keyMsg("F"))
	p, cmd = p.Update(keyMsg("y"))
	req, ok := find[stage2RequestedMsg](run(cmd))
	if !ok || req.running {
		t.Fatalf("F, y: %v, want a request for the next start", run(cmd))
	}
	if c, err := trainjob.ReadControl(s); err != nil || !c.ForceStage2 {
		t.Fatalf("control.json after F, y: %+v, %v", c, err)
	}
	_, cmd = p.Update(keyMsg("x"))
	if st, _ := find[statusMsg](run(cmd)); !strings.Contains(st.text, "no training job") {
		t.Fatalf("x with no job: %q", st.text)
	}
}

func TestMetricsTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	tail := &metricsTail{path: path}
	if recs, reset, err := tail.next(); recs != nil || reset || err != nil {
		t.Fatalf("missing file: %v %v %v", recs, reset, err)
	}
	line := `{"kind":"step","step":%d,"stage":1,"losses":{"kl":0.5}}` + "\n"
	f, _ := os.Create(path)
	f.WriteString(strings.ReplaceAll(line, "%d", "1") + `{"kind":"step","st`) // torn last line
	recs, _, _ := tail.next()
	if len(recs) != 1 || recs[0].Step != 1 {
		t.Fatalf("first read: %+v", recs)
	}
	f.WriteString(`ep":2,"stage":1,"losses":{"kl":"NaN"}}` + "\n")
	recs, _, _ = tail.next()
	if len(recs) != 1 || recs[0].Step != 2 || !math.IsNaN(recs[0].Losses["kl"]) {
		t.Fatalf("completed line: %+v", recs)
	}
	f.Close()
	os.WriteFile(path, []byte(strings.ReplaceAll(line, "%d", "7")), 0o644) // replaced, shorter
	recs, reset, _ := tail.next()
	if !reset || len(recs) != 1 || recs[0].Step != 7 {
		t.Fatalf("after replacement: reset %v, %+v", reset, recs)
	}
}

func TestChartHelpers(t *testing.T) {
	if got := sparkline([]float64{0, 1, 2, 3, 4, 5, 6, 7}, 8); got != "▁▂▃▄▅▆▇█" {
		t.Errorf("sparkline = %q", got)
	}
	if got := sparkline([]float64{1, math.NaN(), 1}, 3); got != "▅ ▅" {
		t.Errorf("sparkline with NaN = %q", got)
	}
	if got := len(bucket(make([]float64, 1000), 50)); got != 50 {
		t.Errorf("bucket to 50 gave %d", got)
	}
	st := DefaultStyles(nil)
	if got := meter(1.5, 3, 9, st); got != "····│██··" {
		t.Errorf("meter(+1.5 of ±3) = %q", got)
	}
	if got := meter(-9, 3, 9, st); got != "◀███│····" {
		t.Errorf("meter(-9 of ±3) = %q", got)
	}
	if got := areaChart([]float64{0, 1}, 2, 2, st.Chart, st.Cursor, -1, &scale{lo: 0, hi: 1}); !reflect.DeepEqual(got, []string{" █", "▁█"}) {
		t.Errorf("areaChart = %q", got)
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "—"}, {42 * time.Second, "42s"}, {725 * time.Second, "12m 5s"}, {26 * time.Hour, "1d 2h"}} {
		if got := fmtSpan(c.d); got != c.want {
			t.Errorf("fmtSpan(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := fmtCount(1234567); got != "1,234,567" {
		t.Errorf("fmtCount = %q", got)
	}
	if got := fmtClock(72000, 48000); got != "0:01.5" {
		t.Errorf("fmtClock = %q", got)
	}
	if got := checkpointLabel("/x/checkpoints/ckpt-000000014000.safetensors"); got != "step 14,000" {
		t.Errorf("checkpointLabel = %q", got)
	}
	if got := checkpointLabel(filepath.Join("x", layout.CheckpointDir, layout.CheckpointName(6))); got != "step 6" {
		t.Errorf("checkpointLabel(%s) = %q, want step 6", layout.CheckpointName(6), got)
	}
}

func TestCompletePath(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "piano-takes"), 0o755)
	os.MkdirAll(filepath.Join(dir, "piano-live"), 0o755)
	os.WriteFile(filepath.Join(dir, "voice.wav"), nil, 0o644)
	if got, _ := completePath(filepath.Join(dir, "vo")); got != filepath.Join(dir, "voice.wav") {
		t.Errorf("single match: %q", got)
	}
	got, choices := completePath(filepath.Join(dir, "pi"))
	if got != filepath.Join(dir, "piano-") || len(choices) != 2 {
		t.Errorf("two matches: %q %v", got, choices)
	}
	if got, _ := completePath(filepath.Join(dir, "piano-t")); got != filepath.Join(dir, "piano-takes")+"/" {
		t.Errorf("folder: %q", got)
	}
}

// TestNoSoundCardExports: with no sound device the playback keys explain
// themselves at once and w writes the clip (and its render) as WAV files.
func TestNoSoundCardExports(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 60, testNow)
	m := newModel(testOptions(t, &fakeCodec{}))
	m, _ = update(t, m, run(m.player.openCmd(m.opts.openAudio))...)
	if !m.player.noDevice() {
		t.Fatalf("no-device open: %v", m.player.devErr)
	}
	m, _ = update(t, m, sessionOpenedMsg{s}, clipLoadedMsg{clip: sineClip()},
		renderedMsg{from: "fidelity", label: "k=6 (exact, f 0.950)", audio: make([]float32, 4*48000), rate: 48000})
	if v := m.View(); !strings.Contains(v, "no sound device") || !strings.Contains(v, "w exports A/B as WAV") {
		t.Fatalf("view lacks the no-device line:\n%s", v)
	}
	_, cmd := update(t, m, keyMsg("space"))
	if st, _ := find[statusMsg](run(cmd)); !strings.Contains(st.text, "press w") {
		t.Fatalf("space without a device: %q", st.text)
	}
	_, cmd = update(t, m, keyMsg("w"))
	ex, ok := find[exportedMsg](run(cmd))
	if !ok || ex.err != nil || len(ex.paths) != 2 {
		t.Fatalf("export: %+v", ex)
	}
	for _, p := range ex.paths {
		if !strings.HasPrefix(p, s.Path(layout.ExportsDir)) {
			t.Errorf("exported %s outside the session's exports", p)
		}
		b, err := audio.Decode(p)
		if err != nil || b.SampleRate != 48000 || b.Frames() != 4*48000 {
			t.Errorf("%s: %v, %+v", p, err, b)
		}
	}
}

func TestPlayerBarWithDevice(t *testing.T) {
	withHome(t)
	fp := newFakePlayback()
	opts := testOptions(t, &fakeCodec{})
	opts.openAudio = func() (Playback, error) { return fp, nil }
	m := newModel(opts)
	m, _ = update(t, m, run(m.player.openCmd(m.opts.openAudio))...)
	m, cmd := update(t, m, clipLoadedMsg{clip: sineClip()})
	m, _ = update(t, m, run(cmd)...) // tracksMsg
	if fp.Len() != 4*48000 || fp.HasTrack(audio.TrackB) {
		t.Fatalf("after the clip: len %d, B %v", fp.Len(), fp.HasTrack(audio.TrackB))
	}
	_, cmd = update(t, m, keyMsg("a"))
	if st, _ := find[statusMsg](run(cmd)); !strings.Contains(st.text, "no B track") {
		t.Fatalf("a without B: %q", st.text)
	}
	m, cmd = update(t, m, renderedMsg{from: "fidelity", label: "k=4", audio: make([]float32, 4*48000), rate: 48000, play: true})
	m, _ = update(t, m, run(cmd)...)
	if !fp.HasTrack(audio.TrackB) || fp.Current() != audio.TrackB || !fp.Playing() {
		t.Fatalf("render did not play B: B %v cur %v playing %v", fp.HasTrack(audio.TrackB), fp.Current(), fp.Playing())
	}
	fp.Seek(48000)
	m, _ = update(t, m, keyMsg("a"), keyMsg("L"), keyMsg("-"), keyMsg(">"))
	if fp.Current() != audio.TrackA || !fp.Loop() || math.Abs(fp.Volume()-0.9) > 1e-9 || fp.Position() != 3*48000 {
		t.Fatalf("a, L, -, >: cur %v loop %v vol %v pos %d", fp.Current(), fp.Loop(), fp.Volume(), fp.Position())
	}
	m, _ = update(t, m, keyMsg("space"))
	if fp.Playing() {
		t.Fatal("space did not pause")
	}
	// The latent meters follow the playhead.
	m, _ = update(t, m, playTickMsg{gen: m.player.tickGen})
	if m.latent.pos != 3*48000 {
		t.Fatalf("latent playhead %d, want %d", m.latent.pos, 3*48000)
	}
}

// TestModelCodec runs the offline codec adapter on a real (untrained,
// tiny) model: the shapes the panes rely on.
func TestModelCodec(t *testing.T) {
	mdl := tinymodel.New(t)
	cfg := mdl.Config
	c := newModelCodec(mdl)
	info := c.Info()
	if info.SampleRate != cfg.SR || info.Dims != cfg.LatentSize || info.Hop != cfg.CompressionRatio() || info.Fidelity != nil {
		t.Fatalf("Info = %+v", info)
	}
	x := make([]float32, 3*info.Hop+100)
	for i := range x {
		x[i] = float32(0.2 * math.Sin(float64(i)/7))
	}
	z, err := c.Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(z) != info.Dims || len(z[0]) != 4 {
		t.Fatalf("Encode: %d × %d, want %d × 4", len(z), len(z[0]), info.Dims)
	}
	y, err := c.Decode(z[:3], len(x))
	if err != nil || len(y) != len(x) {
		t.Fatalf("Decode(3 dims) = %d samples, %v", len(y), err)
	}
	y2, err := decodeEdited(c, z, len(x), func(int, []float32) {})
	if err != nil || len(y2) != len(x) {
		t.Fatalf("decodeEdited = %d, %v", len(y2), err)
	}
}

func TestLoadSessionModelMissing(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 0, testNow)
	if _, err := loadSessionModel(s); !errors.Is(err, errNoModel) {
		t.Fatalf("loadSessionModel without a model: %v", err)
	}
	if _, err := datasetClip(s); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("datasetClip without a dataset: %v", err)
	}
}

func TestFatalErrorView(t *testing.T) {
	for _, v := range []string{sessions.HomeEnv, "XDG_DATA_HOME", "HOME"} {
		t.Setenv(v, "")
	}
	m := newModel(testOptions(t, nil))
	m, _ = update(t, m, listSessionsCmd())
	v := m.View()
	if m.fatal == nil || !strings.Contains(v, "ERROR") || !strings.Contains(v, "HINT") || !strings.Contains(v, "RAVE_HOME") {
		t.Fatalf("no fatal view:\n%s", v)
	}
	if _, cmd := update(t, m, keyMsg("x")); !isQuit(cmd) {
		t.Fatal("a key did not quit the fatal view")
	}
}

func TestGeneratePaneKeys(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 600, testNow)
	m := newModel(testOptions(t, &fakeCodec{}))
	m, _ = update(t, m, sessionOpenedMsg{s}, keyMsg("5"))
	if m.active != paneGenerate {
		t.Fatalf("after 5: pane %d, want generate", m.active)
	}
	// Without a prior, enter explains how to train one.
	_, cmd := update(t, m, keyMsg("enter"))
	if st, ok := find[statusMsg](run(cmd)); !ok || !strings.Contains(st.text, "rave prior train --session piano") {
		t.Fatalf("enter without a prior: %v, want the prior training hint", run(cmd))
	}
	// The watcher reports a prior; settings move within their limits.
	m, _ = update(t, m, trainUpdateMsg{gen: m.training.gen, priorMod: testNow})
	if !m.generate.hasPrior() {
		t.Fatal("a prior was reported but the pane has none")
	}
	for range 25 {
		m, _ = update(t, m, keyMsg("right"))
	}
	m, _ = update(t, m, keyMsg("left"), keyMsg("down"), keyMsg("down"), keyMsg("r"), keyMsg("}"))
	want := genParams{tempTenths: genMaxTempTenths - 1, seconds: genDefaultSeconds - 2, seed: 4243}
	if m.generate.params != want {
		t.Fatalf("params %+v, want %+v", m.generate.params, want)
	}
	for range 10 {
		m, _ = update(t, m, keyMsg("down"))
	}
	if m.generate.params.seconds != genMinSeconds {
		t.Fatalf("length %d s, want the minimum %d", m.generate.params.seconds, genMinSeconds)
	}

	// enter generates in a command, not in Update.
	m, cmd = update(t, m, keyMsg("enter"))
	if !m.generate.busy || m.generate.result != nil {
		t.Fatal("enter did not start a generation")
	}
	gen, ok := find[generatedMsg](run(cmd))
	if !ok || gen.err != nil || len(gen.audio) != 48000 || gen.params.seed != 4243 {
		t.Fatalf("generation: %+v", gen)
	}
	// A second enter while busy does not start another.
	_, cmd2 := update(t, m, keyMsg("enter"))
	if _, ok := find[generatedMsg](run(cmd2)); ok {
		t.Fatal("a second generation started while busy")
	}
	m, _ = update(t, m, gen)
	if m.generate.busy || m.generate.result == nil {
		t.Fatal("the result was not kept")
	}
	// A stale result (from before a session change) is dropped.
	stale := gen
	stale.seq--
	if m2, _ := update(t, m, stale); m2.generate.result != m.generate.result {
		t.Fatal("a stale generation replaced the result")
	}

	// p plays the result as the working clip.
	_, cmd = update(t, m, keyMsg("p"))
	cl, ok := find[clipLoadedMsg](run(cmd))
	if !ok || !cl.play || len(cl.clip.samples) != 48000 || !strings.Contains(cl.clip.label, "seed 4243") {
		t.Fatalf("p: %+v", cl)
	}
	// e exports it to the session's exports folder.
	_, cmd = update(t, m, keyMsg("e"))
	ex, ok := find[genExportedMsg](run(cmd))
	if !ok || ex.err != nil {
		t.Fatalf("e: %+v", ex)
	}
	if b, err := audio.Decode(ex.path); err != nil || len(b.Mono()) != 48000 || filepath.Dir(ex.path) != s.Path(layout.ExportsDir) {
		t.Fatalf("exported %s: %v", ex.path, err)
	}
}

func TestTrainingPanePriorProgress(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 600, testNow)
	m := newModel(testOptions(t, nil))
	m, _ = update(t, m, sessionOpenedMsg{s})
	recs := []runlog.MetricsRecord{
		{Kind: runlog.EventStep, Step: 20, Losses: map[string]float64{"xent": 3.2}},
		{Kind: runlog.EventValidation, Step: 20, Losses: map[string]float64{"val_xent": 3.4}},
		{Kind: runlog.EventStep, Step: 40, Losses: map[string]float64{"xent": 2.9}},
	}
	m, _ = update(t, m, trainUpdateMsg{gen: m.training.gen, priorRecords: recs})
	if got := m.training.View(); !strings.Contains(got, "prior step 40 · xent 2.9 · val_xent 3.4") {
		t.Fatalf("training view lacks the prior line:\n%s", got)
	}
	m, _ = update(t, m, trainUpdateMsg{gen: m.training.gen, priorReset: true})
	if strings.Contains(m.training.View(), "prior step") {
		t.Fatal("a replaced prior log still shows")
	}
}

func TestDemoOpensOnlyWithoutOtherSessions(t *testing.T) {
	withHome(t)
	installs := 0
	install := func() (string, bool, error) {
		installs++
		s, err := sessions.OpenOrCreate(demo.Name)
		if err != nil {
			return "", false, err
		}
		s.Manifest.Sources = []string{demo.Source}
		return demo.Name, installs == 1, s.Save()
	}
	// No session: the demo is installed and opened in the Fidelity pane.
	msg, ok := demoCmd(false, install)().(demoOpenedMsg)
	if !ok || !msg.created || msg.s.Manifest.Name != demo.Name {
		t.Fatalf("empty home: %+v, want the new demo opened", msg)
	}
	m, _ := update(t, newModel(testOptions(t, nil)), msg)
	if m.session == nil || m.session.Manifest.Name != demo.Name || m.active != paneFidelity {
		t.Fatalf("after demoOpenedMsg: session %v, pane %d", m.session, m.active)
	}
	// Only the demo: it opens again, not reinstalled by us.
	if _, ok := demoCmd(false, install)().(demoOpenedMsg); !ok {
		t.Fatal("home with only the demo: not opened")
	}
	// Another session: nothing happens unless Demo is set.
	makeSession(t, "piano", 0, testNow)
	before := installs
	if got := demoCmd(false, install)(); got != nil || installs != before {
		t.Fatalf("home with another session: %v (installs %d → %d), want nothing", got, before, installs)
	}
	if _, ok := demoCmd(true, install)().(demoOpenedMsg); !ok {
		t.Fatal("Options.Demo: the demo did not open")
	}
}

// newTestTraining returns a training pane w cells wide with no watcher,
// with s open.
func newTestTraining(t *testing.T, s *sessions.Session, exe string, w int) trainingPane {
	t.Helper()
	c := Common{Width: w, Height: 20, Styles: DefaultStyles(nil), Keys: DefaultKeyMap(), Now: func() time.Time { return testNow }}
	p := newTrainingPane(c, exe, 0)
	p.life = t.Context()
	p, _ = p.Update(sessionOpenedMsg{s})
	return p
}

// TestTrainingStage2Step checks that the planned switch to stage 2 is the
// trainer's: the newest run manifest's Stage1Steps, else the default of
// the preset a start would pass (200,000 for small, not the model
// preset's 1,000,000 warmup).
func TestTrainingStage2Step(t *testing.T) {
	for _, tc := range []struct {
		name   string
		preset string
		run    int64 // Stage1Steps of a run manifest (0: no run)
		want   string
	}{
		{"small_before_any_run", "small", 0, "stage 2 at step 200,000"},
		{"quick_before_any_run", "quick", 0, "stage 2 at step 150,000 or at a plateau from step 40,000"},
		{"tiny_before_any_run", "tiny", 0, "stage 2 at step 20,000"},
		{"v1_before_any_run", "v1", 0, "stage 2 at step 1,000,000"},
		{"run_manifest", "small", 150_000, "stage 2 at step 150,000 (in 16h 6m)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withHome(t)
			s := makeSession(t, "piano", 600, testNow)
			s.Manifest.Preset = tc.preset
			if err := s.Save(); err != nil {
				t.Fatal(err)
			}
			if tc.run > 0 {
				writeStage1Run(t, s, 5000, tc.run)
			}
			// The watcher reads the manifest; its first update carries it.
			w := startTrainWatcher(t.Context(), s, 1, time.Hour)
			defer w.cancel()
			msg, ok := w.wait()().(trainUpdateMsg)
			if !ok {
				t.Fatal("the watcher sent nothing")
			}
			if msg.runSwitch.Stage1Steps != tc.run {
				t.Errorf("watcher: runSwitch.Stage1Steps = %d, want %d", msg.runSwitch.Stage1Steps, tc.run)
			}
			p := newTestTraining(t, s, "", 100)
			p.gen = 1
			p, _ = p.Update(msg)
			if got := p.View(); !strings.Contains(got, tc.want) {
				t.Errorf("view lacks %q:\n%s", tc.want, got)
			}
		})
	}
}

// TestForceStage2AsksWhenStopped checks that F on a stopped run asks,
// saying the switch waits for the next start, and writes the request
// only on y; on a running job it writes it at once.
func TestForceStage2AsksWhenStopped(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 600, testNow)
	writeStage1Run(t, s, 5000, 200_000)
	m := newModel(testOptions(t, nil))
	m.training.every = 0 // no watcher: updates are sent by hand
	m, _ = update(t, m, sessionOpenedMsg{s}, keyMsg("2"))
	m, _ = update(t, m, trainUpdateMsg{gen: m.training.gen, runSwitch: stageSwitch{Stage1Steps: 200_000}})
	control := func() bool {
		c, err := trainjob.ReadControl(s)
		if err != nil {
			t.Fatal(err)
		}
		return c.ForceStage2
	}

	m, cmd := update(t, m, keyMsg("F"))
	if cmd != nil || control() || !m.capturing() {
		t.Fatalf("F on a stopped run: cmd %v, control %v, capturing %v; want a question and nothing written", cmd, control(), m.capturing())
	}
	if v := m.View(); !strings.Contains(v, "Force stage 2?") || !strings.Contains(v, "next start") || !strings.Contains(v, "y request it") {
		t.Fatalf("the question is not shown:\n%s", v)
	}
	// Keys go to the question: 1 does not leave the pane, n cancels.
	m, _ = update(t, m, keyMsg("1"))
	if m.active != paneTraining || !m.capturing() {
		t.Fatal("a key other than y or n left the question")
	}
	m, cmd = update(t, m, keyMsg("n"))
	if st, _ := find[statusMsg](run(cmd)); control() || m.capturing() || !strings.Contains(st.text, "not requested") {
		t.Fatalf("n: control %v, capturing %v, status %q", control(), m.capturing(), st.text)
	}
	// y writes the request, which then shows as pending.
	m, _ = update(t, m, keyMsg("F"))
	m, cmd = update(t, m, keyMsg("y"))
	req, ok := find[stage2RequestedMsg](run(cmd))
	if !ok || req.running || !control() {
		t.Fatalf("y: %v, control %v", run(cmd), control())
	}
	m, cmd = update(t, m, req)
	if st, _ := find[statusMsg](run(cmd)); !strings.Contains(st.text, "starts again") {
		t.Fatalf("after the request: status %q, want when it applies", st.text)
	}
	if v := m.training.View(); !strings.Contains(v, "stage 2 requested: it begins when training starts again") {
		t.Fatalf("the pending request is not shown:\n%s", v)
	}
	// Asked again, F says it is already requested.
	_, cmd = update(t, m, keyMsg("F"))
	if st, _ := find[statusMsg](run(cmd)); !strings.Contains(st.text, "already requested") {
		t.Fatalf("second F: %q", st.text)
	}

	// A running job gets the request at once.
	if err := os.Remove(layout.Control(s.Dir)); err != nil {
		t.Fatal(err)
	}
	m, _ = update(t, m, trainUpdateMsg{gen: m.training.gen, running: true, pid: 4242, runSwitch: stageSwitch{Stage1Steps: 200_000}})
	m, cmd = update(t, m, keyMsg("F"))
	if req, ok := find[stage2RequestedMsg](run(cmd)); !ok || !req.running || !control() || m.capturing() {
		t.Fatalf("F on a running job: %v, control %v", run(cmd), control())
	}
}

// TestDemoCannotTrain checks that the demo, which has no dataset, says
// so in Training and Generate instead of starting a trainer that fails,
// and that n, the next step offered, opens the new-session prompt.
func TestDemoCannotTrain(t *testing.T) {
	withHome(t)
	if _, _, err := demo.Install(); err != nil {
		t.Fatal(err)
	}
	s, err := sessions.Open(demo.Name)
	if err != nil {
		t.Fatal(err)
	}
	// A trainer that would record being started.
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	exe := filepath.Join(dir, "rave")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\ntouch "+started+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t, &fakeCodec{})
	opts.Executable = exe
	m := newModel(opts)
	m.training.every = 0
	m, _ = update(t, m, sessionOpenedMsg{s}, keyMsg("2"))

	// Before the watcher says anything, s finds the dataset missing.
	m, cmd := update(t, m, keyMsg("s"))
	job, ok := find[jobMsg](run(cmd))
	if !ok || !job.noDataset {
		t.Fatalf("s on the demo: %v, want a refusal for want of a dataset", run(cmd))
	}
	if _, err := os.Stat(started); err == nil {
		t.Fatal("a trainer was started for the demo")
	}
	m, cmd = update(t, m, job)
	if st, _ := find[statusMsg](run(cmd)); !strings.Contains(st.text, "the demo has no training audio") || !strings.Contains(st.text, "n makes a new session") {
		t.Fatalf("status after s: %q", st.text)
	}
	v := oneLine(m.training.View())
	for _, want := range []string{"no training audio", "Press n to make a new session"} {
		if !strings.Contains(v, want) {
			t.Errorf("training view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "exited at once") || strings.Contains(v, "stage 2 at step") {
		t.Errorf("training view shows a start or a plan the demo cannot have:\n%s", v)
	}
	// F is refused the same way, writing nothing.
	_, cmd = update(t, m, keyMsg("F"))
	if st, _ := find[statusMsg](run(cmd)); !strings.Contains(st.text, "no training audio") {
		t.Fatalf("F on the demo: %q", st.text)
	}
	if c, _ := trainjob.ReadControl(s); c.ForceStage2 {
		t.Fatal("F on the demo wrote a request")
	}

	// Generate offers no command that would fail.
	m, _ = update(t, m, trainUpdateMsg{gen: m.training.gen, noDataset: true}, keyMsg("5"))
	g := oneLine(m.generate.View())
	if strings.Contains(g, "--session demo") || !strings.Contains(g, "cannot generate") || !strings.Contains(g, "press n") {
		t.Fatalf("generate view of the demo:\n%s", g)
	}

	// n, from either pane, opens the new-session prompt in Sessions.
	for _, pane := range []string{"2", "5"} {
		m2, cmd := update(t, m, keyMsg(pane), keyMsg("n"))
		msg, ok := find[newSessionMsg](run(cmd))
		if !ok {
			t.Fatalf("n in pane %s: %v, want a new session", pane, run(cmd))
		}
		m2, _ = update(t, m2, msg)
		if m2.active != paneSessions || m2.sessions.mode != modeName {
			t.Fatalf("after n in pane %s: pane %d, mode %d", pane, m2.active, m2.sessions.mode)
		}
	}
}

// oneLine joins the words of a view with single spaces, so a test can
// find a sentence wherever the view wrapped it.
func oneLine(view string) string { return strings.Join(strings.Fields(view), " ") }

// TestTrainerErrorShownInFull checks that a trainer exiting at once
// shows its own message whole, wrapped to the pane rather than cut, and
// once (not again behind "rave train: ").
func TestTrainerErrorShownInFull(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 600, testNow)
	p := newTestTraining(t, s, failingTrainer(t), 60)
	p, cmd := p.Update(keyMsg("s"))
	job, ok := find[jobMsg](run(cmd))
	if !ok || job.err == nil {
		t.Fatalf("start: %v", run(cmd))
	}
	p, cmd = p.Update(job)
	if e, _ := find[errMsg](run(cmd)); !strings.Contains(e.err.Error(), "too little audio") {
		t.Errorf("status: %v, want the trainer's message", e.err)
	}
	v := p.View()
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 60 {
			t.Errorf("line %d is %d cells wide: %q", i+1, w, l)
		}
	}
	text := oneLine(v)
	const want = "rave train: train: the dataset has 1 chunk(s): too little audio to train (add more with `rave preprocess` on this session, then start again)"
	if !strings.Contains(text, want) {
		t.Errorf("the trainer's message is not shown whole:\n%s", v)
	}
	if n := strings.Count(text, "too little audio"); n != 1 {
		t.Errorf("the message shows %d times, want once:\n%s", n, v)
	}
	if strings.Contains(v, "=== ") {
		t.Errorf("the log's start banner is shown:\n%s", v)
	}
}

// TestStaleErrorClearedOnSuccess checks that a failed rename's error
// leaves the status line once a later rename succeeds.
func TestStaleErrorClearedOnSuccess(t *testing.T) {
	withHome(t)
	makeSession(t, "cello", 0, testNow)
	makeSession(t, "piano", 0, testNow)
	m := newModel(testOptions(t, nil))
	m, _ = update(t, m, listSessionsCmd())
	rename := func(m app, to string) app {
		t.Helper()
		m, _ = update(t, m, keyMsg("r"))
		m.sessions.prompt.input.SetValue(to)
		m, cmd := update(t, m, keyMsg("enter"))
		for _, msg := range run(cmd) {
			var next tea.Cmd
			m, next = update(t, m, msg)
			for _, msg := range run(next) {
				if _, ok := msg.(statusMsg); ok {
					m, _ = update(t, m, msg)
				}
			}
		}
		return m
	}
	m = rename(m, "piano") // cello → piano: taken
	if !m.statusErr || !strings.Contains(m.statusView(), "exists") {
		t.Fatalf("after a refused rename the status is %q", m.statusView())
	}
	m = rename(m, "viola")
	if got := m.statusView(); m.statusErr || strings.Contains(got, "exists") || !strings.Contains(got, "renamed cello to viola") {
		t.Fatalf("after a successful rename the status is %q", got)
	}
}

// TestPreprocessListsRejected checks that after preprocessing the
// sessions pane names each rejected file, as typed, with its reason.
func TestPreprocessListsRejected(t *testing.T) {
	withHome(t)
	t.Chdir(t.TempDir())
	writeAudioFolder(t, "audio")
	p := newSessionsPane(newModel(testOptions(t, nil)).Common)
	p, _ = p.Update(keyMsg("n"))
	p.prompt.input.SetValue("strings")
	p, _ = p.Update(keyMsg("enter"))
	p.prompt.input.SetValue("audio")
	p, _ = p.Update(keyMsg("enter"))
	p, cmd := p.Update(keyMsg("enter"))
	p, done := drainPrep(p, cmd)
	if done.err != nil {
		t.Fatal(done.err)
	}
	p, cmd = p.Update(done)
	if st, _ := find[statusMsg](run(cmd)); !strings.Contains(st.text, "2 rejected (listed above)") {
		t.Errorf("status %q", st.text)
	}
	p, _ = p.Update(listSessionsCmd())
	v := p.View()
	for _, want := range []string{"strings: 2 rejected", filepath.Join("audio", "broken.wav") + " — ", filepath.Join("audio", "take.m4a") + " — .m4a files are not supported"} {
		if !strings.Contains(v, want) {
			t.Errorf("sessions view lacks %q:\n%s", want, v)
		}
	}
	p, _ = p.Update(keyMsg("esc"))
	if strings.Contains(p.View(), "rejected") {
		t.Error("esc did not hide the rejected files")
	}
}

// TestNarrowLayout checks every pane from 40 to 120 columns: the screen
// keeps its height, no line is wider than the terminal, the five tabs
// and the global keys (? help, q quit) always show, and what is cut ends
// in "…".
func TestNarrowLayout(t *testing.T) {
	withHome(t)
	s := makeSession(t, "a-rather-long-session-name", 600, testNow)
	writeMetrics(t, s, 300)
	m := newModel(testOptions(t, &fakeCodec{}))
	m.training.every = 0
	m, _ = update(t, m, sessionOpenedMsg{s}, clipLoadedMsg{clip: sineClip()})
	m, _ = update(t, m, modelLoadedMsg{session: s.Manifest.Name, codec: &fakeCodec{}})
	m, _ = update(t, m, errMsg{errors.New("a status note long enough to be cut on every terminal this test draws, " + strings.Repeat("and then some ", 6))})
	m.status = "" // the keys line, not the note
	for _, w := range []int{40, 50, 60, 70, 80, 100, 120} {
		for pane := range paneCount {
			m.active = pane
			next, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: 20})
			m = next.(app)
			lines := strings.Split(m.View(), "\n")
			if len(lines) != 20 {
				t.Errorf("%d cols, pane %d: %d lines, want 20", w, pane+1, len(lines))
			}
			for i, l := range lines {
				if lw := lipgloss.Width(l); lw > w {
					t.Errorf("%d cols, pane %d, line %d: %d cells: %q", w, pane+1, i+1, lw, l)
				}
			}
			for i := range paneCount {
				if !strings.Contains(lines[0], fmt.Sprint(i+1)+" ") {
					t.Errorf("%d cols: tab %d is missing from %q", w, i+1, lines[0])
				}
			}
			if !strings.Contains(lines[0], "[") || !strings.Contains(lines[0], "]") {
				t.Errorf("%d cols: no active tab in %q", w, lines[0])
			}
			if foot := lines[len(lines)-1]; !strings.HasSuffix(foot, "? help • q quit") {
				t.Errorf("%d cols, pane %d: the footer %q lacks the global keys", w, pane+1, foot)
			}
		}
	}
	if got := truncate("ALSA error at snd_pcm_open", 19); got != "ALSA error at snd_…" {
		t.Errorf("truncate = %q, want the cut marked with …", got)
	}
}

// TestWavName checks export names: one ".wav", whatever the label ends with.
func TestWavName(t *testing.T) {
	for _, c := range []struct{ label, want string }{
		{"clip-A-allison_auth-incorrect.wav", "clip-A-allison_auth-incorrect.wav"},
		{"clip-B-take 2.FLAC", "clip-B-take-2.wav"},
		{"temp=1.5", "temp=1.5.wav"},
		{"", "clip.wav"},
	} {
		if got := wavName(c.label); got != c.want {
			t.Errorf("wavName(%q) = %q, want %q", c.label, got, c.want)
		}
	}
}
