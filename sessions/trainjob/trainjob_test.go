//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package trainjob

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// fakeTrainerEnv makes the test binary act as `rave train` (see init).
const fakeTrainerEnv = "RAVE_FAKE_TRAINER"

// init turns the test binary into a fake trainer when Start runs
// it: "run" takes the lock, writes a heartbeat, and on SIGINT writes a
// "checkpoint" and exits; "fail" complains about a flag and exits 2.
func init() {
	mode := os.Getenv(fakeTrainerEnv)
	if mode == "" {
		return
	}
	os.Exit(fakeTrainer(mode, os.Args[1:]))
}

func fakeTrainer(mode string, args []string) int {
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "rave train: flag provided but not defined: -bogus")
		return 2
	}
	if len(args) < 3 || args[0] != "train" || args[1] != "--session" {
		fmt.Fprintln(os.Stderr, "fake trainer: bad args", args)
		return 2
	}
	s, err := sessions.Open(args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The handler is in place before the lock is taken: the test stops
	// the job as soon as it holds the lock, as `rave train` may be.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGHUP)
	lock, err := s.Acquire(sessions.TrainPurpose)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer lock.Release()
	fmt.Println("fake trainer running with", strings.Join(args[3:], " "))
	runlog.WriteStatus(s.Path(layout.StatusFile), runlog.Status{PID: os.Getpid(), State: "running", Step: 10, Stage: 1})
	select {
	case got := <-sig:
		fmt.Println("got", got, "- checkpoint written")
		runlog.WriteStatus(s.Path(layout.StatusFile), runlog.Status{PID: os.Getpid(), State: "stopped", Step: 10, Stage: 1})
		return 0
	case <-time.After(30 * time.Second):
		fmt.Println("fake trainer timed out")
		return 3
	}
}

func TestStartStop(t *testing.T) {
	s := newSession(t, "job")
	if _, running := s.Training(); running {
		t.Fatal("Training reports a job before any started")
	}
	if _, err := Stop(s); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Stop with no job = %v, want ErrNotRunning", err)
	}
	job, err := Start(s, Options{
		Executable: os.Args[0],
		Args:       []string{"--preset", "tiny"},
		Env:        append(os.Environ(), fakeTrainerEnv+"=run"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(job.PID, syscall.SIGKILL)
	if got := strings.Join(job.Args[1:], " "); got != "train --session job --preset tiny" {
		t.Errorf("args = %q", got)
	}
	pid, running := s.Training()
	if !running || pid != job.PID {
		t.Fatalf("Training = %d, %v; want %d, true", pid, running, job.PID)
	}
	// Detached: its own session and process group, not ours.
	if sid, _ := getsid(job.PID); sid != job.PID {
		t.Errorf("job session id = %d, want %d (setsid)", sid, job.PID)
	}
	if pg, _ := syscall.Getpgid(job.PID); pg == syscall.Getpgrp() {
		t.Errorf("job shares our process group %d", pg)
	}
	if sum := s.Summary(); sum.State != sessions.StateTraining || !sum.Running || sum.PID != job.PID {
		t.Errorf("Summary = %+v, want a running stage-1 job", sum)
	}
	if _, err := Start(s, Options{Executable: os.Args[0], Env: append(os.Environ(), fakeTrainerEnv+"=run")}); !errors.Is(err, ErrRunning) {
		t.Errorf("second Start = %v, want ErrRunning", err)
	}
	if err := sessions.Delete("job"); !errors.Is(err, sessions.ErrLocked) {
		t.Errorf("Delete while training = %v, want sessions.ErrLocked", err)
	}

	got, err := Stop(s)
	if err != nil || got != job.PID {
		t.Fatalf("Stop = %d, %v", got, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, running := s.Training(); !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("job still holds the lock 10 s after SIGINT")
		}
		time.Sleep(20 * time.Millisecond)
	}
	log := TailLog(s, 10)
	for _, want := range []string{"=== ", "starting:", "fake trainer running with --preset tiny", "checkpoint written"} {
		if !strings.Contains(log, want) {
			t.Errorf("train.log lacks %q:\n%s", want, log)
		}
	}
	if st, err := runlog.ReadStatus(s.Path(layout.StatusFile)); err != nil || st.State != "stopped" {
		t.Errorf("status after stop = %+v, %v", st, err)
	}
}

func TestStartReportsEarlyExit(t *testing.T) {
	s := newSession(t, "bad")
	_, err := Start(s, Options{Executable: os.Args[0], Env: append(os.Environ(), fakeTrainerEnv+"=fail"), Watch: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited at once") || !strings.Contains(err.Error(), "-bogus") {
		t.Fatalf("Start of a failing trainer = %v, want an early-exit error quoting the log", err)
	}
	if _, err := Start(s, Options{Executable: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("Start of a missing binary: no error")
	}
}

func TestStopRefusesOtherPurposes(t *testing.T) {
	s := newSession(t, "pre")
	lock, err := s.Acquire("preprocess")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	if _, running := s.Training(); running {
		t.Error("Training = running while preprocessing")
	}
	if _, err := Stop(s); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Stop during preprocess = %v, want ErrNotRunning", err)
	}
	if sum := s.Summary(); sum.Busy != "preprocess" || sum.Running {
		t.Errorf("Summary = %+v, want Busy preprocess", sum)
	}
}

func TestControlFile(t *testing.T) {
	s := newSession(t, "ctl")
	if c, err := ReadControl(s); err != nil || c.ForceStage2 {
		t.Fatalf("ReadControl without a file = %+v, %v", c, err)
	}
	if err := RequestStage2(s); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.Path(layout.ControlFile))
	if err != nil || !strings.Contains(string(b), `"force_stage2": true`) {
		t.Fatalf("control.json = %s, %v", b, err)
	}
	if c, err := ReadControl(s); err != nil || !c.ForceStage2 || c.Requested.IsZero() {
		t.Fatalf("ReadControl = %+v, %v", c, err)
	}
	if err := ClearControl(s); err != nil {
		t.Fatal(err)
	}
	if err := ClearControl(s); err != nil {
		t.Errorf("second ClearControl = %v", err)
	}
}

// newSession points RAVE_HOME at a fresh folder for the test and creates
// the session name in it.
func newSession(t *testing.T, name string) *sessions.Session {
	t.Helper()
	t.Setenv(sessions.HomeEnv, t.TempDir())
	s, err := sessions.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// getsid returns the session id of pid from /proc.
func getsid(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command (which may hold spaces) close with ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var sid int
	_, err = fmt.Sscan(f[3], &sid) // state ppid pgrp session
	return sid, err
}
