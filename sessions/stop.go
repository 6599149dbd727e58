package sessions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ravestation/rave/core"
)

// StopFile is the file in a session folder that asks the process holding
// the session's lock to stop where a signal cannot: Windows has no SIGINT
// for another process, so trainjob.Stop writes it there (on Unix it sends
// SIGINT). The holder watches it through Lock.Context, and Acquire removes
// one left behind.
const StopFile = "stop-request"

// stopPoll is how often Lock.Context looks for a stop request.
const stopPoll = 250 * time.Millisecond

// stopPath returns the path of the session's StopFile.
func (s *Session) stopPath() string { return filepath.Join(s.Dir, StopFile) }

// RequestStop asks the lock's holder, pid, to stop by writing StopFile
// (atomically, with pid in it): how trainjob.Stop stops a job on Windows,
// where a signal cannot.
func (s *Session) RequestStop(pid int) error {
	err := core.WriteFileAtomic(s.stopPath(), func(f *os.File) error {
		_, err := f.WriteString(strconv.Itoa(pid) + "\n")
		return err
	})
	if err != nil {
		return fmt.Errorf("sessions: %q: ask pid %d to stop: %w", s.Manifest.Name, pid, err)
	}
	return nil
}

// Context returns a context that is done when parent is, or when another
// process asks this lock's holder to stop (trainjob.Stop on Windows writes
// the session's StopFile; it is looked for every 250 ms): the holder
// passes it to its job, which then checkpoints and ends as on SIGINT.
// cancel releases the watch (Release does not).
func (l *Lock) Context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	stop := l.stop
	go func() {
		tick := time.NewTicker(stopPoll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, err := os.Stat(stop); err == nil {
					cancel(errStopRequested)
					return
				}
			}
		}
	}()
	return ctx, func() { cancel(nil) }
}

// errStopRequested is the cause of a Lock.Context ended by a stop request.
var errStopRequested = errors.New("sessions: another process asked the job to stop")
