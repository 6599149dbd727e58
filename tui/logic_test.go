package tui

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train"
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
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(300 * time.Millisecond):
		return nil // a tick or a blocking wait
	}
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
	m, _ = update(t, m, keyMsg("4"))
	if m.active != paneLatent {
		t.Fatalf("after 4: pane %d, want latent", m.active)
	}
	m, _ = update(t, m, keyMsg("5"))
	if m.active != paneGenerate {
		t.Fatalf("after 5: pane %d, want generate", m.active)
	}
	m, _ = update(t, m, keyMsg("tab"))
	if m.active != paneSessions {
		t.Fatalf("tab from the last pane: pane %d, want sessions", m.active)
	}
	m, _ = update(t, m, keyMsg("shift+tab"))
	if m.active != paneGenerate {
		t.Fatalf("shift+tab: pane %d, want generate", m.active)
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
	var done prepDoneMsg
	for msg := cmd(); ; {
		if d, ok := msg.(prepDoneMsg); ok {
			done = d
			break
		}
		p, cmd = p.Update(msg)
		msg = cmd()
	}
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
	p, _ = p.Update(keyMsg("p")) // small → tiny (presets are sorted: small, tiny, v1)
	p, cmd := p.Update(keyMsg("s"))
	job, ok := find[jobMsg](run(cmd))
	if !ok || job.err == nil || !strings.Contains(job.err.Error(), "no dataset") {
		t.Fatalf("start of a failing trainer: %+v", job)
	}
	b, _ := os.ReadFile(argsFile)
	if got := strings.TrimSpace(string(b)); got != "train --session piano --preset tiny" {
		t.Fatalf("trainer args = %q", got)
	}
	p, _ = p.Update(job)
	if v := p.View(); !strings.Contains(v, "exited at once") || !strings.Contains(v, "rave train: no dataset") {
		t.Errorf("the failed start is not shown with the end of train.log:\n%s", v)
	}
	p, cmd = p.Update(keyMsg("F"))
	if _, ok := find[statusMsg](run(cmd)); !ok {
		t.Fatal("F gave no status")
	}
	if c, err := s.ReadControl(); err != nil || !c.ForceStage2 {
		t.Fatalf("control.json after F: %+v, %v", c, err)
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
	cfg, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	mdl, err := model.New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
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
	recs := []train.MetricsRecord{
		{Kind: train.EventStep, Step: 20, Losses: map[string]float64{"xent": 3.2}},
		{Kind: train.EventValidation, Step: 20, Losses: map[string]float64{"val_xent": 3.4}},
		{Kind: train.EventStep, Step: 40, Losses: map[string]float64{"xent": 2.9}},
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
