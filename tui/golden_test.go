package tui

import (
	"bytes"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
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
	teatest.RequireEqualOutput(t, []byte(got))
}

// paneGolden runs the app at 80×24 like goldenRun but compares only what
// view returns (one pane), so status notes that time out cannot race.
func paneGolden(t *testing.T, opts Options, view func(app) string, steps func(s *screen)) {
	t.Helper()
	s := &screen{t: t, tm: teatest.NewTestModel(t, newModel(opts), teatest.WithInitialTermSize(80, 24))}
	steps(s)
	if err := s.tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := s.tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(app)
	got := view(m)
	m.release()
	teatest.RequireEqualOutput(t, []byte(got))
}

// noCard is the playback bar's text without a sound device.
const noCard = "✗ no sound device"

func TestGolden(t *testing.T) {
	t.Run("sessions_list", func(t *testing.T) {
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
		goldenRun(t, testOptions(t, nil), 80, 24, []string{"▸ piano", noCard}, func(s *screen) {
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

	trained := func(t *testing.T) Options {
		withHome(t)
		s := makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		writeMetrics(t, s, 1500)
		writePrior(t, s, 240)
		opts := testOptions(t, nil)
		opts.Session = "piano"
		return opts
	}
	t.Run("training", func(t *testing.T) {
		goldenRun(t, trained(t), 80, 24, []string{"feature_match", "last ckpt", "dataset chunks 9–10", noCard}, nil)
	})

	t.Run("training_next_loss", func(t *testing.T) {
		goldenRun(t, trained(t), 80, 24, []string{"mss_fb (5/5", "dataset chunks 9–10", noCard}, func(s *screen) {
			s.wait("feature_match")
			s.press("left")
		})
	})

	withModel := func(t *testing.T) Options {
		withHome(t)
		makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		opts := testOptions(t, &fakeCodec{})
		opts.Session = "piano"
		return opts
	}
	t.Run("fidelity", func(t *testing.T) {
		goldenRun(t, withModel(t), 80, 24, []string{"f = 0.960", "× 12 bits", "dataset chunks 9–10", noCard}, func(s *screen) {
			s.wait("Training piano")
			s.press("3")
			s.wait("enter plays")
			s.press("right", "b")
		})
	})

	t.Run("latent", func(t *testing.T) {
		goldenRun(t, withModel(t), 80, 24, []string{"frozen", "B latent edit (4 dims changed)", "B holds the latest render", noCard}, func(s *screen) {
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

	t.Run("help", func(t *testing.T) {
		withHome(t)
		goldenRun(t, testOptions(t, nil), 80, 24, []string{"Keys", noCard}, func(s *screen) {
			s.wait("No sessions yet")
			s.press("?")
		})
	})

	t.Run("sessions_demo", func(t *testing.T) {
		withHome(t)
		opts := testOptions(t, &fakeCodec{})
		opts.installDemo = demo.Install
		paneGolden(t, opts, func(m app) string { return m.sessions.View() }, func(s *screen) {
			s.wait("● demo", "Fidelity demo", noCard)
			s.press("1")
			s.wait("★ demo (piano)", "★ demo Salamander")
		})
	})

	t.Run("generate_no_prior", func(t *testing.T) {
		withHome(t)
		makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		opts := testOptions(t, &fakeCodec{})
		opts.Session = "piano"
		goldenRun(t, opts, 80, 24, []string{"has no prior yet", "rave prior train --session piano", noCard}, func(s *screen) {
			s.wait("Training piano")
			s.press("5")
		})
	})

	t.Run("generate", func(t *testing.T) {
		withHome(t)
		s := makeSession(t, "piano", 600, testNow.Add(-time.Hour))
		writePrior(t, s, 240)
		opts := testOptions(t, &fakeCodec{})
		opts.Session = "piano"
		paneGolden(t, opts, func(m app) string { return m.generate.View() }, func(sc *screen) {
			sc.wait("Training piano", "prior step 4,800")
			sc.press("5")
			sc.wait("trained just now")
			sc.press("right", "up", "}", "enter")
			sc.wait("✓ generated seed 2 t=1.1 5s")
		})
	})

	t.Run("resize_120x32", func(t *testing.T) {
		goldenRun(t, trained(t), 80, 24, []string{"q quit (training goes on)"}, func(s *screen) {
			s.wait("feature_match", "dataset chunks 9–10", noCard)
			s.tm.Send(tea.WindowSizeMsg{Width: 120, Height: 32})
		})
	})
}
