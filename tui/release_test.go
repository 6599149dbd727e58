package tui

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"
)

// watcherFunc is the training watcher's goroutine as runtime.Stack names it.
const watcherFunc = "tui.(*trainWatcher).run("

// goroutinesIn counts the goroutines with a frame of fn (a function as
// runtime.Stack prints it, up to the opening parenthesis).
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), fn)
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitGoroutines waits until want goroutines run fn (a goroutine ends
// shortly after it is told to; 10 s means it was not told).
func waitGoroutines(t *testing.T, fn string, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := goroutinesIn(fn)
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d goroutines in %s, want %d", what, n, strings.TrimSuffix(fn, "("), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestProgramEndStopsWatcher checks that the training watcher (a goroutine
// polling the session's files) ends with the program however it ends: by
// the quit key; from outside (a signal, teatest's Quit), with Run's
// release of the final model; or, under Serve, where the final model is out
// of reach, by the end of the SSH session's context. A watcher left behind
// polls forever: under Serve, one per connection, and in tests it made the
// no-allocation tests count its allocations.
func TestProgramEndStopsWatcher(t *testing.T) {
	for _, tc := range []struct {
		name string
		// end ends the program (or its context); release, when set,
		// releases the final model as Run does.
		end     func(s *screen, cancel context.CancelFunc)
		release bool
	}{
		{"quit key", func(s *screen, _ context.CancelFunc) { s.press("q") }, false},
		{"ended from outside, released as Run does", func(s *screen, _ context.CancelFunc) { s.tm.Quit() }, true},
		{"context done, as when an SSH client leaves", func(_ *screen, cancel context.CancelFunc) { cancel() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			waitGoroutines(t, watcherFunc, 0, "watchers of earlier tests")
			withHome(t)
			s := makeSession(t, "piano", 600, testNow.Add(-time.Hour))
			writeMetrics(t, s, 1500)
			opts := testOptions(t, nil)
			opts.Session = "piano"
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts.ctx = ctx
			sc := &screen{t: t, tm: teatest.NewTestModel(t, newModel(opts), teatest.WithInitialTermSize(80, 24))}
			sc.wait("feature_match") // the watcher has delivered the metrics
			waitGoroutines(t, watcherFunc, 1, "while the program runs")
			tc.end(sc, cancel)
			if tc.release {
				m := sc.tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(app)
				m.release()
			}
			waitGoroutines(t, watcherFunc, 0, "after the end")
			if !tc.release {
				sc.tm.Quit()
				sc.tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
			}
		})
	}
}
