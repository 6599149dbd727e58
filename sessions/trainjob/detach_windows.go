//go:build windows

package trainjob

import (
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"

	"github.com/ravestation/rave/sessions"
)

// detach makes cmd start without a console and in a process group of its
// own: closing this console, or Ctrl-C in it, does not reach the job.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP | windows.DETACHED_PROCESS}
}

// interrupt asks the job pid, which holds s's lock, to checkpoint and
// stop. Windows cannot deliver Ctrl-C to a process without a console, so
// the request is the session's StopFile, which the job watches
// (sessions.Lock.Context).
func interrupt(s *sessions.Session, pid int) error { return s.RequestStop(pid) }
