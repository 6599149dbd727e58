package tui

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/tui/demo"
)

// Golden tests: each drives the whole app at 80×24 (unless said
// otherwise) with fake data, waits for a piece of text that appears only
// when the asynchronous work has finished, quits, and compares the final
// view with testdata/TestGolden/<name>.golden. Regenerate them with
// `go test ./tui -run TestGolden -update`.

// screen runs the app under teatest and keeps everything it has drawn, so
// waits can check several texts whatever order they were drawn in.
type screen struct {
	t   *testing.T
	tm  *teatest.TestModel
	out []byte
}

// wait blocks until everything drawn so far contains every text.
func (s *screen) wait(texts ...string) {
	s.t.Helper()
	done := func(b []byte) bool {
		all := append(s.out[:len(s.out):len(s.out)], b...)
		for _, x := range texts {
			if !bytes.Contains(all, []byte(x)) {
				return false
			}
		}
		s.out = all
		return true
	}
	if done(nil) {
		return
	}
	teatest.WaitFor(s.t, s.tm.Output(), done, teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

// press sends keys, one message each.
func (s *screen) press(keys ...string) {
	for _, k := range keys {
		s.tm.Send(keyMsg(k))
	}
}

// goldenRun starts the app at w×h, runs steps, waits for the final texts,
// quits and compares the final view with the golden file.
func goldenRun(t *testing.T, opts Options, w, h int, final []string, steps func(s *screen)) {
	t.Helper()
	s := &screen{t: t, tm: teatest.NewTestModel(t, newModel(opts), teatest.WithInitialTermSize(w, h))}
	if steps != nil {
		steps(s)
	}
	s.wait(final...)
	if err := s.tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := s.tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(app)
	got := m.View()
	m.release() // as Run does: tm.Quit ends the program without a quit key
	checkFits(t, m)
	teatest.RequireEqualOutput(t, []byte(got))
}

// paneGolden runs the app at w×h like goldenRun but compares only what
// view returns (one pane), so status notes that time out cannot race.
// The whole screen must still fit (checkFits).
func paneGolden(t *testing.T, opts Options, w, h int, view func(app) string, steps func(s *screen)) {
	t.Helper()
	s := &screen{t: t, tm: teatest.NewTestModel(t, newModel(opts), teatest.WithInitialTermSize(w, h))}
	steps(s)
	if err := s.tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := s.tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(app)
	lines := strings.Split(view(m), "\n")
	for i, l := range lines {
		lines[i] = truncate(l, w) // as the screen shows the pane
	}
	got := strings.Join(lines, "\n")
	m.release()
	checkFits(t, m)
	teatest.RequireEqualOutput(t, []byte(got))
}

// checkFits fails unless m's screen has exactly m.Height lines of at most
// m.Width cells, and every line that had to be cut says so with "…": the
// last word of each line must be a whole word of the same screen drawn
// where nothing is cut (1000 columns), end in "…", or be drawing (charts,
// meters, rules) or a narrow tab label. A word sliced off at the edge
// ("snd_p" of "snd_pcm_open:") fails.
func checkFits(t *testing.T, m app) {
	t.Helper()
	narrow := m.View()
	wide := m
	wide.resize(1000, m.Height)
	words := map[string]bool{}
	uncut := wide.View()
	if m.showHelp { // the pages break differently at another width
		uncut += "\n" + strings.Join(wide.helpPages(), "\n")
	}
	for _, w := range strings.Fields(uncut) {
		words[w] = true
	}
	for _, name := range paneShort {
		words[name], words[name+"]"] = true, true
	}
	lines := strings.Split(narrow, "\n")
	if len(lines) != m.Height {
		t.Errorf("the screen has %d lines, want %d", len(lines), m.Height)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > m.Width {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, w, m.Width, l)
		}
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		last := f[len(f)-1]
		if words[last] || strings.HasSuffix(last, ellipsis) || strings.ContainsAny(last, drawing) {
			continue
		}
		t.Errorf("line %d is cut without %q: it ends in %q, which is no whole word of the uncut screen: %q", i+1, ellipsis, last, l)
	}
}

// drawing are the characters of charts, meters, bars and rules: a word
// holding one is drawing, which is sized to the width rather than cut.
const drawing = "▁▂▃▄▅▆▇█│┤─━●·░"

// noCard is the playback bar's text without a sound device.
const noCard = "✗ no sound device"

// sized runs a golden scenario at 80×24 (golden name) and at 60×20
// (name_60x20).
func sized(t *testing.T, name string, run func(t *testing.T, w, h int)) {
	t.Helper()
	t.Run(name, func(t *testing.T) { run(t, 80, 24) })
	t.Run(name+"_60x20", func(t *testing.T) { run(t, 60, 20) })
}

func TestGolden(t *testing.T) {
	sized(t, "sessions_list", func(t *testing.T, w, h int) {
		withHome(t)
		makeSession(t, "cello", 0, testNow.Add(-49*time.Hour))
		makeSession(t, "piano", 3*3600+12*60, testNow.Add(-3*time.Hour))
		vio := makeSession(t, "violin", 45*60, testNow.Add(-20*time.Minute))
		writeMetrics(t, vio, 50)
		lock, err := vio.Acquire(sessions.TrainPurpose) // a live job: the lock is held
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		goldenRun(t, testOptions(t, nil), w, h, []string{"▸ piano", noCard}, func(s *screen) {
			s.wait("violin")
			s.press("down")
		})
	})

	t.Run("sessions_new", func(t *testing.T) {
		withHome(t)
		makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		goldenRun(t, testOptions(t, nil), 80, 24, []string{"+ recordings/take2", "› ~/more", noCard}, func(s *screen) {
			s.wait("piano")
			s.press("n")
			s.tm.Type("strings")
			s.press("enter")
			s.tm.Type("recordings/take1.wav")
			s.press("enter")
			s.tm.Type("recordings/take2")
			s.press("enter")
			s.tm.Type("~/more")
		})
	})

	t.Run("sessions_delete", func(t *testing.T) {
		withHome(t)
		makeSession(t, "old-run", 60, testNow.Add(-72*time.Hour))
		makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		goldenRun(t, testOptions(t, nil), 80, 24, []string{"Delete session", noCard}, func(s *screen) {
			s.wait("old-run")
			s.press("d")
		})
	})

	// Preprocessing lists the files it rejected and why, named as typed
	// (under ~, so that no temporary folder shows; the golden files are
	// found from the working folder, which stays).
	sized(t, "sessions_rejected", func(t *testing.T, w, h int) {
		withHome(t)
		home := t.TempDir()
		t.Setenv("HOME", home)
		writeAudioFolder(t, filepath.Join(home, "audio"))
		paneGolden(t, testOptions(t, nil), w, h, func(m app) string { return m.sessions.View() }, func(s *screen) {
			s.wait("No sessions yet")
			s.press("n")
			s.tm.Type("strings")
			s.press("enter")
			s.tm.Type("~/audio")
			s.press("enter", "enter")
			s.wait("rejected by the last preprocessing", "▸ strings")
		})
	})

	trained := func(t *testing.T) Options {
		withHome(t)
		s := makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		writeMetrics(t, s, 1500)
		writePrior(t, s, 240)
		opts := testOptions(t, nil)
		opts.Session = "piano"
		return opts
	}
	sized(t, "training", func(t *testing.T, w, h int) {
		goldenRun(t, trained(t), w, h, []string{"feature_match", "last ckpt", "dataset chunks 9–10", noCard}, nil)
	})

	t.Run("training_next_loss", func(t *testing.T) {
		goldenRun(t, trained(t), 80, 24, []string{"mss_fb (5/5", "dataset chunks 9–10", noCard}, func(s *screen) {
			s.wait("feature_match")
			s.press("left")
		})
	})

	// A stopped stage-1 run shows its manifest's stage-2 step, and F asks
	// before leaving a request for the next start.
	sized(t, "training_stage2", func(t *testing.T, w, h int) {
		withHome(t)
		s := makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		s.Manifest.Preset = "small"
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		writeStage1Run(t, s, 5000, 150_000)
		opts := testOptions(t, nil)
		opts.Session = "piano"
		paneGolden(t, opts, w, h, func(m app) string { return m.training.View() }, func(sc *screen) {
			sc.wait("stage 2 at step 150,000")
			sc.press("F")
			sc.wait("y request it")
		})
	})

	// A trainer that exits at once: its own message, in full.
	sized(t, "training_start_failed", func(t *testing.T, w, h int) {
		withHome(t)
		makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		opts := testOptions(t, nil)
		opts.Session = "piano"
		opts.Executable = failingTrainer(t)
		paneGolden(t, opts, w, h, func(m app) string { return m.training.View() }, func(sc *screen) {
			sc.wait("No metrics yet")
			sc.press("s")
			sc.wait("exited at once")
		})
	})

	// The demo cannot train: the pane says so and offers n.
	sized(t, "training_demo", func(t *testing.T, w, h int) {
		withHome(t)
		opts := testOptions(t, &fakeCodec{})
		opts.installDemo = demo.Install
		paneGolden(t, opts, w, h, func(m app) string { return m.training.View() }, func(s *screen) {
			s.wait("● demo", "Fidelity demo", noCard)
			s.press("2")
			s.wait("no training audio")
		})
	})

	withModel := func(t *testing.T) Options {
		withHome(t)
		makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		opts := testOptions(t, &fakeCodec{})
		opts.Session = "piano"
		return opts
	}
	sized(t, "fidelity", func(t *testing.T, w, h int) {
		goldenRun(t, withModel(t), w, h, []string{"f = 0.960", "× 12 bits", "dataset chunks 9–10", noCard}, func(s *screen) {
			s.wait("Training piano")
			s.press("3")
			s.wait("enter plays")
			s.press("right", "b")
		})
	})

	sized(t, "latent", func(t *testing.T, w, h int) {
		goldenRun(t, withModel(t), w, h, []string{"frozen", "B latent edit (4 dims changed)", "B holds the latest render", noCard}, func(s *screen) {
			s.wait("Training piano")
			s.press("4")
			s.wait("PCA order")
			s.press("right", "right", "down", "]", "down", "z", "down", "f")
		})
	})

	t.Run("player_playing", func(t *testing.T) {
		fp := newFakePlayback()
		opts := withModel(t)
		opts.openAudio = func() (Playback, error) { return fp, nil }
		goldenRun(t, opts, 80, 24, []string{"▶ 0:01.5", "vol 80%", "loop on"}, func(s *screen) {
			s.wait("Training piano")
			s.press("3")
			s.wait("enter plays")
			s.press("enter")
			s.wait("B k=6")
			fp.Seek(72000)
			s.press("L", "-", "-")
		})
	})

	t.Run("no_sound_device", func(t *testing.T) {
		withHome(t)
		makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		opts := testOptions(t, nil)
		opts.Session = "piano"
		goldenRun(t, opts, 80, 24, []string{"w exports A/B", "dataset chunks 9–10", "No metrics yet"}, nil)
	})

	sized(t, "help", func(t *testing.T, w, h int) {
		withHome(t)
		goldenRun(t, testOptions(t, nil), w, h, []string{"Keys", noCard}, func(s *screen) {
			s.wait("No sessions yet")
			s.press("?")
		})
	})

	// At 60×20 the help takes two pages; ? turns to the second.
	t.Run("help_page2_60x20", func(t *testing.T) {
		withHome(t)
		goldenRun(t, testOptions(t, nil), 60, 20, []string{"Keys 2/2", noCard}, func(s *screen) {
			s.wait("No sessions yet")
			s.press("?")
			s.wait("Keys 1/2")
			s.press("?")
		})
	})

	t.Run("sessions_demo", func(t *testing.T) {
		withHome(t)
		opts := testOptions(t, &fakeCodec{})
		opts.installDemo = demo.Install
		paneGolden(t, opts, 80, 24, func(m app) string { return m.sessions.View() }, func(s *screen) {
			s.wait("● demo", "Fidelity demo", noCard)
			s.press("1")
			s.wait("★ demo (piano)", "★ demo Salamander")
		})
	})

	sized(t, "generate_no_prior", func(t *testing.T, w, h int) {
		withHome(t)
		makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		opts := testOptions(t, &fakeCodec{})
		opts.Session = "piano"
		goldenRun(t, opts, w, h, []string{"has no prior yet", "rave prior train --session piano", "dataset chunks 9–10", noCard}, func(s *screen) {
			s.wait("Training piano")
			s.press("5")
		})
	})

	// The demo has no prior and nothing to train one on: no command that
	// would fail, but the next step.
	sized(t, "generate_demo", func(t *testing.T, w, h int) {
		withHome(t)
		opts := testOptions(t, &fakeCodec{})
		opts.installDemo = demo.Install
		paneGolden(t, opts, w, h, func(m app) string { return m.generate.View() }, func(s *screen) {
			s.wait("● demo", "Fidelity demo", noCard)
			s.press("5")
			s.wait("The demo has no prior")
		})
	})

	sized(t, "generate", func(t *testing.T, w, h int) {
		withHome(t)
		s := makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		writePrior(t, s, 240)
		opts := testOptions(t, &fakeCodec{})
		opts.Session = "piano"
		paneGolden(t, opts, w, h, func(m app) string { return m.generate.View() }, func(sc *screen) {
			sc.wait("Training piano", "prior step 4,800")
			sc.press("5")
			sc.wait("temperature")
			sc.press("right", "up", "}", "enter")
			sc.wait("✓ generated seed 2 t=1.1 5s")
		})
	})

	t.Run("resize_120x32", func(t *testing.T) {
		goldenRun(t, trained(t), 80, 24, []string{"q quit"}, func(s *screen) {
			s.wait("feature_match", "dataset chunks 9–10", noCard)
			s.tm.Send(tea.WindowSizeMsg{Width: 120, Height: 32})
		})
	})
}
