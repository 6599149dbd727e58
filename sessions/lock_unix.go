//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package sessions

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f without waiting; it returns
// errLockHeld when another open file holds it. A flock belongs to the
// open file, so the kernel drops it when the holder's last descriptor
// closes, a killed holder's included.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLockHeld
	}
	return err
}

// unlockFile drops the flock taken by lockFile.
func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
