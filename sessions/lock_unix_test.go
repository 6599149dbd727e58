//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sessions

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/ravestation/rave/sessions/layout"
)

// TestLockRefusesSecondHolderAndNamesPID holds the lock with flock(1), the
// way another program would, and checks that Acquire refuses it, naming the
// pid, until the holder is killed.
func TestLockRefusesSecondHolderAndNamesPID(t *testing.T) {
	s := newSession(t, "locked")
	// Hold the lock from a child process (flock is per open file, so a
	// second process is the honest test), then try from here.
	cmd := exec.Command("flock", "-n", s.Path(layout.LockFile), "sh", "-c", "echo $$ trainer > "+s.Path(layout.LockFile)+"; sleep 5")
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killGroup := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	defer killGroup()
	var lerr error
	for range 100 {
		if pid, held := s.HolderPID(); held && pid > 0 {
			_, lerr = s.Acquire("test")
			break
		}
		sleepMs(20)
	}
	if !errors.Is(lerr, ErrLocked) || !strings.Contains(lerr.Error(), "pid ") {
		t.Fatalf("Acquire while held = %v, want ErrLocked naming the pid", lerr)
	}
	killGroup()
	cmd.Wait()
	// The killed shell releases the flock when the kernel closes its files,
	// which can lag the signal by a moment.
	var (
		l   *Lock
		err error
	)
	for range 100 {
		if l, err = s.Acquire("test"); err == nil {
			break
		}
		sleepMs(20)
	}
	if err != nil {
		t.Fatalf("Acquire after the holder died = %v", err)
	}
	l.Release()
}
