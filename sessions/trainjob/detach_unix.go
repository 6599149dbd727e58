//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package trainjob

import (
	"fmt"
	"os/exec"
	"syscall"

	"github.com/ravestation/rave/sessions"
)

// detach makes cmd start in a session of its own (setsid): no terminal,
// and no signal meant for this process group reaches it.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

// interrupt asks the job pid, which holds s's lock, to checkpoint and
// stop: SIGINT, as Ctrl-C in its terminal would.
func interrupt(s *sessions.Session, pid int) error {
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		return fmt.Errorf("sessions: %q: signal trainer pid %d: %w", s.Manifest.Name, pid, err)
	}
	return nil
}
