package sessions

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// lockHolderEnv makes the test binary hold a session's lock (see init).
const lockHolderEnv = "RAVE_TEST_LOCK_HOLDER"

// init turns the test binary into a lock holder when a test starts it
// with lockHolderEnv set to a session name.
func init() {
	if name := os.Getenv(lockHolderEnv); name != "" {
		os.Exit(holdLock(name))
	}
}

// holdLock takes session name's lock as a trainer does, says "holding" on
// stdout, and keeps it until stdin closes or another process asks it to
// stop (Lock.Context, which says "stop requested" on the way out).
func holdLock(name string) int {
	s, err := Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	lock, err := s.Acquire(TrainPurpose)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer lock.Release()
	ctx, cancel := lock.Context(context.Background())
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	fmt.Println("holding")
	<-ctx.Done()
	if errors.Is(context.Cause(ctx), errStopRequested) {
		fmt.Println("stop requested")
	}
	return 0
}

// TestLockHeldByAnotherProcess holds a session's lock from a child process
// (this test binary) and checks, on every platform, that Acquire refuses a
// second holder with ErrLocked naming the child's pid and purpose, that
// HolderPID and Training see it, and that the lock comes free when the
// child is killed or when it is asked to stop through the session's
// StopFile (Windows' trainjob.Stop), a stale request being cleared by the
// next Acquire.
func TestLockHeldByAnotherProcess(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, s *Session, cmd *exec.Cmd, out *bufio.Reader)
	}{
		{"killed", func(t *testing.T, _ *Session, cmd *exec.Cmd, _ *bufio.Reader) {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
		}},
		{"stop request", func(t *testing.T, s *Session, cmd *exec.Cmd, out *bufio.Reader) {
			if err := s.RequestStop(cmd.Process.Pid); err != nil {
				t.Fatal(err)
			}
			line, _ := out.ReadString('\n')
			if err := cmd.Wait(); err != nil || strings.TrimSpace(line) != "stop requested" {
				t.Fatalf("holder after the stop request: %q, %v", line, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSession(t, "held")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), lockHolderEnv+"=held")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stdin.Close()
				cmd.Process.Kill()
				cmd.Wait()
			}()
			out := bufio.NewReader(stdout)
			if line, err := out.ReadString('\n'); strings.TrimSpace(line) != "holding" {
				t.Fatalf("holder said %q (%v); stderr: %s", line, err, stderr.String())
			}
			pid := cmd.Process.Pid
			_, err = s.Acquire("test")
			if want := fmt.Sprintf("pid %d (%s)", pid, TrainPurpose); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Acquire while held = %v, want ErrLocked naming %s", err, want)
			}
			if got, held := s.HolderPID(); !held || got != pid {
				t.Errorf("HolderPID = %d, %v; want %d, true", got, held, pid)
			}
			if got, running := s.Training(); !running || got != pid {
				t.Errorf("Training = %d, %v; want %d, true", got, running, pid)
			}
			tc.end(t, s, cmd, out)
			// The system drops a dead holder's lock when it closes its
			// files, which can lag its exit by a moment.
			var l *Lock
			deadline := time.Now().Add(10 * time.Second)
			for {
				if l, err = s.Acquire("test"); err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("Acquire after the holder ended = %v", err)
			}
			defer l.Release()
			if _, err := os.Stat(s.stopPath()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a stop request outlived the holder it was for: %v", err)
			}
			ctx, cancel := l.Context(context.Background())
			defer cancel()
			time.Sleep(3 * stopPoll)
			if ctx.Err() != nil {
				t.Error("the new holder's context ended without a stop request")
			}
		})
	}
}

// TestLockContext checks that a holder's context ends on a stop request
// (with that cause), and when its parent ends, and that Release leaves a
// stop request for the next Acquire to clear.
func TestLockContext(t *testing.T) {
	s := newSession(t, "ctx")
	for _, tc := range []struct {
		name  string
		end   func(cancelParent context.CancelFunc) error
		cause error
	}{
		{"stop request", func(context.CancelFunc) error { return s.RequestStop(os.Getpid()) }, errStopRequested},
		{"parent done", func(cancel context.CancelFunc) error { cancel(); return nil }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := s.Acquire(TrainPurpose)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			parent, cancelParent := context.WithCancel(context.Background())
			defer cancelParent()
			ctx, cancel := l.Context(parent)
			defer cancel()
			if err := tc.end(cancelParent); err != nil {
				t.Fatal(err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the holder's context is not done 10 s after the request")
			}
			if got := context.Cause(ctx); !errors.Is(got, tc.cause) {
				t.Errorf("cause %v, want %v", got, tc.cause)
			}
		})
	}
}
