package sessions

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ravestation/rave/sessions/layout"
)

// ErrLocked is returned when another process holds a session's lock.
var ErrLocked = errors.New("session is locked")

// errLockHeld is what lockFile returns when another holder has the lock.
var errLockHeld = errors.New("held by another holder")

// Lock is a held session lock.
type Lock struct {
	f    *os.File
	stop string // the session's StopFile (see Lock.Context)
}

// Acquire takes the session's exclusive lock without waiting, writing this
// process's pid into the lock file. If another process holds it, the error
// wraps ErrLocked and names that process's pid. The lock is released by
// Release or when the process exits (an flock on Unix, LockFileEx on
// Windows: the system drops it when the holder's file closes, so a killed
// trainer never leaves a stale lock). A stop request left by an earlier
// holder (StopFile) is removed.
func (s *Session) Acquire(purpose string) (*Lock, error) {
	path := layout.Lock(s.Dir)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sessions: lock %q: %w", s.Manifest.Name, err)
	}
	if err := lockFile(f); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, errLockHeld) {
			return nil, fmt.Errorf("sessions: %q: %w by %s; stop it first (or wait for it to finish)", s.Manifest.Name, ErrLocked, holder)
		}
		return nil, fmt.Errorf("sessions: lock %q: %w", s.Manifest.Name, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(fmt.Sprintf("%d %s\n", os.Getpid(), purpose)), 0)
	f.Sync()
	l := &Lock{f: f, stop: s.stopPath()}
	if err := os.Remove(l.stop); err != nil && !errors.Is(err, os.ErrNotExist) {
		l.Release()
		return nil, fmt.Errorf("sessions: lock %q: stale stop request: %w", s.Manifest.Name, err)
	}
	return l, nil
}

func readHolder(f *os.File) string {
	b := make([]byte, 128)
	n, _ := f.ReadAt(b, 0)
	fields := strings.Fields(string(b[:n]))
	if len(fields) == 0 {
		return "another process"
	}
	if _, err := strconv.Atoi(fields[0]); err != nil {
		return "another process"
	}
	desc := "pid " + fields[0]
	if len(fields) > 1 {
		desc += " (" + strings.Join(fields[1:], " ") + ")"
	}
	return desc
}

// HolderPID returns the pid written in the session's lock file and whether
// that process currently holds the lock.
func (s *Session) HolderPID() (pid int, held bool) {
	f, err := os.OpenFile(layout.Lock(s.Dir), os.O_RDWR, 0)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if err := lockFile(f); err == nil {
		unlockFile(f)
		return 0, false
	}
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	fields := strings.Fields(string(b[:n]))
	if len(fields) > 0 {
		pid, _ = strconv.Atoi(fields[0])
	}
	return pid, true
}

// TrainPurpose is the lock purpose written by a training job.
const TrainPurpose = "train"

// Training reports whether a training job (package trainjob) runs on the
// session, and its pid.
func (s *Session) Training() (pid int, running bool) {
	pid, purpose, held := s.LockHolder()
	if !held || !IsTrainPurpose(purpose) {
		return 0, false
	}
	return pid, true
}

// LockHolder returns the pid and purpose written in the lock file, and
// whether a process holds the lock now.
func (s *Session) LockHolder() (pid int, purpose string, held bool) {
	pid, held = s.HolderPID()
	if !held {
		return 0, "", false
	}
	b, err := os.ReadFile(layout.Lock(s.Dir))
	if err != nil {
		return pid, "", true
	}
	fields := strings.Fields(string(b))
	if len(fields) > 1 {
		purpose = strings.Join(fields[1:], " ")
	}
	if len(fields) > 0 {
		if p, err := strconv.Atoi(fields[0]); err == nil {
			pid = p
		}
	}
	return pid, purpose, true
}

// IsTrainPurpose reports whether a lock purpose (LockHolder) is a
// training job's: "train", or an unnamed holder, for trainers that write
// only their pid.
func IsTrainPurpose(p string) bool {
	return p == "" || p == TrainPurpose || strings.HasPrefix(p, TrainPurpose+" ")
}

// Release frees the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	unlockFile(l.f)
	err := l.f.Close()
	l.f = nil
	return err
}
