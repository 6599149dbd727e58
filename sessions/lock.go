package sessions

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the name of the advisory lock file inside a session folder.
const LockFile = "lock"

// ErrLocked is returned when another process holds a session's lock.
var ErrLocked = errors.New("session is locked")

// Lock is a held session lock.
type Lock struct {
	f *os.File
}

// Acquire takes the session's exclusive lock without waiting, writing this
// process's pid into the lock file. If another process holds it, the error
// wraps ErrLocked and names that process's pid. The lock is released by
// Release or when the process exits (it is an flock, so a killed trainer
// never leaves a stale lock).
func (s *Session) Acquire(purpose string) (*Lock, error) {
	path := s.Path(LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sessions: lock %q: %w", s.Manifest.Name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sessions: %q: %w by %s; stop it first (or wait for it to finish)", s.Manifest.Name, ErrLocked, holder)
		}
		return nil, fmt.Errorf("sessions: lock %q: %w", s.Manifest.Name, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(fmt.Sprintf("%d %s\n", os.Getpid(), purpose)), 0)
	f.Sync()
	return &Lock{f: f}, nil
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
	f, err := os.OpenFile(s.Path(LockFile), os.O_RDWR, 0)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
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

// Release frees the lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	err := l.f.Close()
	l.f = nil
	return err
}
