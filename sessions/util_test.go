package sessions

import (
	"testing"
	"time"
)

func sleepMs(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }

// newSession points RAVE_HOME at a fresh folder for the test and creates
// the session name in it.
func newSession(t *testing.T, name string) *Session {
	t.Helper()
	t.Setenv(HomeEnv, t.TempDir())
	s, err := Create(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
