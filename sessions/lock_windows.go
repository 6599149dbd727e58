//go:build windows

package sessions

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffsetHigh places the locked byte at 2⁶² (the high 32 bits of its
// offset), far past the pid and purpose written at the start of the lock
// file: a Windows lock forbids other processes to read the bytes it
// covers, and they read those to name the holder. Locking past the end of
// a file is allowed.
const lockOffsetHigh = 1 << 30

// lockFile takes an exclusive lock (LockFileEx) on one byte of f without
// waiting; it returns errLockHeld when another handle holds it. Windows
// drops the locks of a handle when it closes, and of a process when it
// ends, a killed holder's included.
func lockFile(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockOffsetHigh}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errLockHeld
	}
	return err
}

// unlockFile drops the lock taken by lockFile.
func unlockFile(f *os.File) error {
	ol := windows.Overlapped{OffsetHigh: lockOffsetHigh}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}
