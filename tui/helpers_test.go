package tui

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/render"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
)

func init() {
	// Goldens hold plain text: no colour escape codes.
	lipgloss.SetColorProfile(termenv.Ascii)
}

// testNow is the fixed clock of the tests.
var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// fakeCodec is a deterministic stand-in for a model: 8 latent dims, hop
// 2048 at 48 kHz, and a fidelity curve like a trained v1 model's.
type fakeCodec struct {
	mu      sync.Mutex
	decoded [][]float32 // last latents decoded
}

func (c *fakeCodec) Info() CodecInfo {
	return CodecInfo{SampleRate: 48000, Dims: 8, Hop: 2048, Step: 120000, Stage: 2,
		Fidelity: []float32{0.42, 0.66, 0.80, 0.88, 0.93, 0.962, 0.985, 1}}
}

// Encode returns dim d at frame t = sin(t/(d+2))·(d+1)/2 + 0.1·d.
func (c *fakeCodec) Encode(x []float32) ([][]float32, error) {
	frames := (len(x) + 2047) / 2048
	z := make([][]float32, 8)
	for d := range z {
		z[d] = make([]float32, frames)
		for t := range z[d] {
			z[d][t] = float32(math.Sin(float64(t)/float64(d+2))*float64(d+1)/2 + 0.1*float64(d))
		}
	}
	return z, nil
}

// Decode returns n samples of a sine whose level follows z[0].
func (c *fakeCodec) Decode(z [][]float32, n int) ([]float32, error) {
	c.mu.Lock()
	c.decoded = z
	c.mu.Unlock()
	y := make([]float32, n)
	for i := range y {
		y[i] = 0.1 * float32(math.Sin(float64(i)/20)) * (1 + z[0][min(len(z[0])-1, i/2048)]/10)
	}
	return y, nil
}

func (c *fakeCodec) lastDecoded() [][]float32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.decoded
}

// fakePlayback is an in-memory Playback whose position only moves when a
// test says so.
type fakePlayback struct {
	mu      sync.Mutex
	n       int
	hasB    bool
	cur     audio.Track
	pos     int
	playing bool
	loop    bool
	vol     float64
}

func newFakePlayback() *fakePlayback { return &fakePlayback{vol: 1} }

func (f *fakePlayback) Load(a, b audio.SeekStream) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n, f.hasB = a.Len(), b != nil
	if !f.hasB {
		f.cur = audio.TrackA
	}
	return nil
}
func (f *fakePlayback) SetTrack(t audio.Track, s audio.SeekStream) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t == audio.TrackB {
		f.hasB = s != nil
	}
	return nil
}
func (f *fakePlayback) HasTrack(t audio.Track) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return t == audio.TrackA && f.n > 0 || t == audio.TrackB && f.hasB
}
func (f *fakePlayback) Play() error { f.mu.Lock(); f.playing = true; f.mu.Unlock(); return nil }
func (f *fakePlayback) Pause()      { f.mu.Lock(); f.playing = false; f.mu.Unlock() }
func (f *fakePlayback) Playing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.playing
}
func (f *fakePlayback) Position() int { f.mu.Lock(); defer f.mu.Unlock(); return f.pos }
func (f *fakePlayback) Len() int      { f.mu.Lock(); defer f.mu.Unlock(); return f.n }
func (f *fakePlayback) Seek(pos int) error {
	f.mu.Lock()
	f.pos = max(0, min(pos, f.n))
	f.mu.Unlock()
	return nil
}
func (f *fakePlayback) Select(t audio.Track) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t == audio.TrackB && !f.hasB {
		return fmt.Errorf("no track B")
	}
	f.cur = t
	return nil
}
func (f *fakePlayback) Current() audio.Track { f.mu.Lock(); defer f.mu.Unlock(); return f.cur }
func (f *fakePlayback) SetLoop(on bool)      { f.mu.Lock(); f.loop = on; f.mu.Unlock() }
func (f *fakePlayback) Loop() bool           { f.mu.Lock(); defer f.mu.Unlock(); return f.loop }
func (f *fakePlayback) SetVolume(v float64)  { f.mu.Lock(); f.vol = max(0, min(2, v)); f.mu.Unlock() }
func (f *fakePlayback) Volume() float64      { f.mu.Lock(); defer f.mu.Unlock(); return f.vol }
func (f *fakePlayback) SampleRate() int      { return 48000 }
func (f *fakePlayback) Close() error         { return nil }

// errNoCard is what OpenPlayer says on a machine without a sound card.
var errNoCard = fmt.Errorf("audio: %w: oto: ALSA error at snd_pcm_open: \"default\": No such file or directory", audio.ErrNoDevice)

// sineClip is 4 s of a 220 Hz sine at 48 kHz.
func sineClip() *clip {
	x := make([]float32, 4*48000)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(2*math.Pi*220*float64(i)/48000))
	}
	return &clip{label: "dataset chunks 9–10", samples: x, rate: 48000}
}

// testOptions returns Options with fakes: a fixed clock, no sound card,
// the fake codec and a sine clip, and a fast watcher that ends with t.
func testOptions(t testing.TB, codec Codec) Options {
	return Options{
		ctx:       t.Context(), // the watcher and preprocessing end with the test
		now:       func() time.Time { return testNow },
		openAudio: func() (Playback, error) { return nil, errNoCard },
		loadModel: func(*sessions.Session) (Codec, error) {
			if codec == nil {
				return nil, errNoModel
			}
			return codec, nil
		},
		loadClip:  func(*sessions.Session) (*clip, error) { return sineClip(), nil },
		pollEvery: 20 * time.Millisecond,
		// No demo session: tests that want one set installDemo.
		installDemo: func() (string, bool, error) { return "", false, nil },
		generate:    fakeGenerate,
		newSeed:     func() uint64 { return 4242 },
	}
}

// fakeGenerate stands in for render.Generate: a sine whose pitch
// follows the seed, with a fixed report.
func fakeGenerate(s *sessions.Session, seconds float64, o render.GenerateOptions) ([]float32, render.GenerateReport, error) {
	n := int(seconds * 48000)
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(0.2 * o.Temperature * math.Sin(2*math.Pi*float64(200+o.Seed%400)*float64(i)/48000))
	}
	return y, render.GenerateReport{Frames: n / 2048, Dims: 4, ModelDims: 8, SampleRate: 48000, Samples: n,
		Seconds: seconds, Elapsed: 1500 * time.Millisecond, RTF: 1.5 / seconds}, nil
}

// withHome points RAVE_HOME at a fresh folder.
func withHome(t testing.TB) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv(sessions.HomeEnv, home)
	return home
}

// makeSession creates a session, optionally with a (fake) dataset of
// the given seconds, and dates its manifest.
func makeSession(t *testing.T, name string, datasetSeconds float64, updated time.Time) *sessions.Session {
	t.Helper()
	s, err := sessions.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.SampleRate = 48000
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if datasetSeconds > 0 {
		// Summary estimates the duration from the size: 2 bytes a sample.
		size := int64(datasetSeconds * 48000 * 2)
		if err := os.WriteFile(s.Path(layout.DatasetBinFile), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setUpdated(t, s, updated)
	return s
}

// setUpdated rewrites the manifest's "updated" time (Save would set now).
func setUpdated(t *testing.T, s *sessions.Session, when time.Time) {
	t.Helper()
	b, err := os.ReadFile(s.Path(layout.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["updated"] = when.UTC().Format(time.RFC3339)
	b, _ = json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(s.Path(layout.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeMetrics writes a synthetic training run: stage 1 until step 12,000,
// then stage 2 with the adversarial losses, and a heartbeat.
func writeMetrics(t *testing.T, s *sessions.Session, steps int) {
	t.Helper()
	f, err := os.Create(s.Path("metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 1; i <= steps; i++ {
		step := i * 10
		stage := 1
		losses := map[string]float64{
			"mss_fb": 3 + 8*math.Exp(-float64(step)/2000) + 0.1*math.Sin(float64(i)),
			"kl":     0.01 + 0.05*(1-math.Exp(-float64(step)/3000)),
			"loud":   0.5*math.Exp(-float64(step)/4000) + 0.01,
		}
		if step >= 12000 {
			stage = 2
			losses["disc"] = 1.5 + 0.2*math.Sin(float64(i)/3)
			losses["feature_match"] = 2 + 0.3*math.Cos(float64(i)/5)
		}
		line, _ := json.Marshal(map[string]any{"kind": "step", "step": step, "stage": stage, "losses": losses,
			"beta": 0.1, "lr": 1e-4, "steps_per_sec": 1.8, "wall_s": float64(step) / 1.8, "time": "2025-03-14T12:00:00Z"})
		f.Write(append(line, '\n'))
	}
	st := map[string]any{"pid": 0, "state": "stopped", "step": steps * 10, "stage": 2, "total_steps": 2000000,
		"steps_per_sec": 1.8, "eta_s": 1100000, "last_checkpoint": s.Path("checkpoints", "ckpt-000000014000.safetensors"),
		"updated": testNow.Add(-10 * time.Minute).Format(time.RFC3339)}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(s.Path("status.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writePrior writes a stand-in prior file (only its presence counts for
// the panes) and a prior training log of n records 20 steps apart, with a
// validation every 25th.
func writePrior(t *testing.T, s *sessions.Session, n int) {
	t.Helper()
	if err := os.MkdirAll(s.Path("prior"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(layout.PriorModel(s.Dir), []byte("stand-in prior"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(s.Path("prior", "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 1; i <= n; i++ {
		step := i * 20
		line, _ := json.Marshal(map[string]any{"kind": "step", "step": step, "losses": map[string]float64{"xent": 1.5 + 2*math.Exp(-float64(step)/1000)}})
		f.Write(append(line, '\n'))
		if i%25 == 0 {
			line, _ = json.Marshal(map[string]any{"kind": "validation", "step": step, "losses": map[string]float64{"val_xent": 1.7 + 2*math.Exp(-float64(step)/1000)}})
			f.Write(append(line, '\n'))
		}
	}
}

// namedKeys are the key names keyMsg knows besides runes.
var namedKeys = map[string]tea.KeyType{
	"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
	"left": tea.KeyLeft, "right": tea.KeyRight, "up": tea.KeyUp, "down": tea.KeyDown, "ctrl+c": tea.KeyCtrlC,
}

// keyMsg returns the KeyMsg of a key name as bubbletea reports it.
func keyMsg(k string) tea.KeyMsg {
	if t, ok := namedKeys[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	if k == "space" {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// testdataPath returns a path under testdata.
func testdataPath(elem ...string) string {
	return filepath.Join(append([]string{"testdata"}, elem...)...)
}

// writeAudioFolder makes folder dir with one good file (3 s of a 220 Hz
// sine) and two that preprocessing rejects: a .wav that is not one and
// an .m4a, a format it does not read.
func writeAudioFolder(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 3*48000)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(2*math.Pi*220*float64(i)/48000))
	}
	if err := audio.WriteWAV(filepath.Join(dir, "good.wav"), [][]float32{x}, 48000, audio.Int16); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"broken.wav": "not a wave file at all", "take.m4a": "m4a"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeStage1Run writes a stopped stage-1 run: metrics up to step, a
// heartbeat at 2.5 steps/s and the run manifest of a run whose stage 1
// lasts stage1 steps (as `rave train --stage1-steps` records it).
func writeStage1Run(t *testing.T, s *sessions.Session, step, stage1 int64) {
	t.Helper()
	f, err := os.Create(s.Path(layout.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for st := int64(100); st <= step; st += 100 {
		x := float64(st)
		line, _ := json.Marshal(map[string]any{"kind": "step", "step": st, "stage": 1, "losses": map[string]float64{
			"mss_fb": 3 + 8*math.Exp(-x/2000), "kl": 0.01 + 0.05*(1-math.Exp(-x/3000)), "loud": 0.5*math.Exp(-x/4000) + 0.01}})
		f.Write(append(line, '\n'))
	}
	status := map[string]any{"pid": 0, "state": "stopped", "step": step, "stage": 1, "total_steps": 300000,
		"steps_per_sec": 2.5, "eta_s": float64(300000-step) / 2.5, "updated": testNow.Add(-time.Hour).Format(time.RFC3339)}
	b, _ := json.Marshal(status)
	if err := os.WriteFile(s.Path(layout.StatusFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(layout.Runs(s.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	run := map[string]any{"id": "20250314-120000", "state": "stopped", "start_step": 0, "end_step": step, "preset": "small",
		"config": map[string]any{"Preset": "small", "Stage1Steps": stage1, "Steps": 300000}}
	b, _ = json.Marshal(run)
	if err := os.WriteFile(layout.Run(s.Dir, "20250314-120000"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// failingTrainer returns a stand-in rave binary whose trainer exits at
// once with a message longer than a terminal line, as `rave train`
// prints it (the error, then the command's prefix and the error again).
func failingTrainer(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "rave")
	const msg = "train: the dataset has 1 chunk(s): too little audio to train (add more with `rave preprocess` on this session, then start again)"
	script := "#!/bin/sh\necho '" + msg + "' >&2\necho 'rave train: " + msg + "' >&2\nexit 1\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}
