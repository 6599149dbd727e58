// Package trainjob starts, stops and talks to the training job of a
// session.
//
// A training job is a detached `rave train --session NAME` process: it runs
// in its own session and process group (setsid; on Windows, without a
// console and in a process group of its own), reads nothing from the
// terminal and writes its output to <session>/train.log, so closing the
// workstation, the terminal or an SSH connection never stops it. The job
// holds the session lock (purpose "train") while it runs; that lock is how
// everyone else finds it. Stopping it is a SIGINT to the lock holder (on
// Windows, the session's StopFile, which the holder watches): the trainer
// writes a checkpoint and exits. Starting it again resumes from the last
// checkpoint.
//
// Requests to a running trainer go through <session>/control.json, a small
// JSON object the trainer polls (every few steps or seconds) and deletes
// once acted upon:
//
//	{"force_stage2": true, "requested": "2025-01-02T15:04:05Z"}
//
// force_stage2 asks the trainer to switch to the adversarial stage now
// instead of at the configured warmup step (acids-ircam/RAVE#327).
package trainjob

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
)

var (
	// ErrRunning is returned when starting a job on a session that
	// already has one (or is otherwise locked).
	ErrRunning = errors.New("a job is already running")
	// ErrNotRunning is returned when stopping a session that has no job.
	ErrNotRunning = errors.New("no training job is running")
)

// Options configures Start. Zero fields take the defaults.
type Options struct {
	// Executable is the rave binary to run (os.Executable()).
	Executable string
	// Args are extra flags appended after `train --session NAME`, for
	// example []string{"--preset", "small"}.
	Args []string
	// Env is the child's environment (os.Environ()); RAVE_HOME is always
	// set to this process's Home so the child finds the same session.
	Env []string
	// Watch is how long Start watches the new process for an early
	// exit, such as a bad flag (1.5 s). Negative: do not watch.
	Watch time.Duration
}

// Job describes a started training process.
type Job struct {
	// PID is the process id.
	PID int
	// Log is the path of train.log.
	Log string
	// Args is the command line (program first).
	Args []string
}

// Start starts `rave train --session NAME [Args]` detached from
// this process: a new session (setsid, or a console-less process group on
// Windows), stdin from the null device, stdout and
// stderr appended to train.log. It refuses (ErrRunning) when the session is
// locked. If the process exits within opts.Watch, the error quotes the end
// of train.log; otherwise it returns while the job runs on. The child is
// reaped in the background, so a job that ends while this process lives
// leaves no zombie.
func Start(s *sessions.Session, opts Options) (*Job, error) {
	name := s.Manifest.Name
	if pid, purpose, held := s.LockHolder(); held {
		return nil, fmt.Errorf("sessions: %q: %w (pid %d, %s)", name, ErrRunning, pid, purposeOr(purpose))
	}
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("sessions: %q: find the rave binary: %w", name, err)
		}
	}
	home, err := sessions.Home()
	if err != nil {
		return nil, err
	}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	env = append(append([]string(nil), env...), sessions.HomeEnv+"="+home)
	args := append([]string{"train", "--session", name}, opts.Args...)

	logPath := layout.TrainLog(s.Dir)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sessions: %q: open train log: %w", name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s starting: %s %s\n", time.Now().UTC().Format(time.RFC3339), exe, strings.Join(args, " "))

	cmd := exec.Command(exe, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sessions: %q: start trainer: %w", name, err)
	}
	job := &Job{PID: cmd.Process.Pid, Log: logPath, Args: append([]string{exe}, args...)}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	watch := opts.Watch
	if watch == 0 {
		watch = 1500 * time.Millisecond
	}
	deadline := time.Now().Add(watch)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			if err == nil {
				err = errors.New("exit status 0")
			}
			return job, fmt.Errorf("sessions: %q: trainer exited at once (%v); end of %s:\n%s", name, err, layout.TrainLogFile, tailFile(logPath, 8))
		case <-time.After(25 * time.Millisecond):
		}
		if pid, _, held := s.LockHolder(); held && pid == job.PID {
			break // the job holds the lock: it is up
		}
	}
	return job, nil
}

// Stop asks the session's training job to stop: SIGINT to the
// process holding the lock (on Windows, the session's StopFile), which
// checkpoints and exits. It returns the pid asked without waiting;
// Session.Training reports when the job is gone.
func Stop(s *sessions.Session) (int, error) {
	name := s.Manifest.Name
	pid, purpose, held := s.LockHolder()
	if !held || pid <= 0 {
		return 0, fmt.Errorf("sessions: %q: %w", name, ErrNotRunning)
	}
	if !sessions.IsTrainPurpose(purpose) {
		return 0, fmt.Errorf("sessions: %q: %w (the lock is held by pid %d for %s)", name, ErrNotRunning, pid, purposeOr(purpose))
	}
	if pid == os.Getpid() {
		return 0, fmt.Errorf("sessions: %q: the training lock is held by this process", name)
	}
	if err := interrupt(s, pid); err != nil {
		return 0, err
	}
	return pid, nil
}

// purposeOr names a lock purpose in a message.
func purposeOr(p string) string {
	if p == "" {
		return "unnamed job"
	}
	return p
}

// Control is the content of control.json: requests to the running trainer.
type Control struct {
	// ForceStage2 asks for the switch to the adversarial stage now.
	ForceStage2 bool `json:"force_stage2,omitempty"`
	// Requested is when the request was written (UTC).
	Requested time.Time `json:"requested"`
}

// RequestStage2 writes control.json asking the trainer to switch to stage 2
// at its next poll. It works whether or not a job runs now: a trainer
// started later reads it too.
func RequestStage2(s *sessions.Session) error {
	c, err := ReadControl(s)
	if err != nil {
		c = Control{}
	}
	c.ForceStage2 = true
	return WriteControl(s, c)
}

// WriteControl replaces control.json atomically.
func WriteControl(s *sessions.Session, c Control) error {
	if c.Requested.IsZero() {
		c.Requested = time.Now().UTC()
	}
	if err := core.WriteJSONAtomic(layout.Control(s.Dir), c); err != nil {
		return fmt.Errorf("sessions: %q: control: %w", s.Manifest.Name, err)
	}
	return nil
}

// ReadControl reads control.json; a missing file is an empty Control.
func ReadControl(s *sessions.Session) (Control, error) {
	var c Control
	b, err := os.ReadFile(layout.Control(s.Dir))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("sessions: %q: control: %w", s.Manifest.Name, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return Control{}, fmt.Errorf("sessions: %q: control.json is not valid JSON: %w", s.Manifest.Name, err)
	}
	return c, nil
}

// ClearControl removes control.json (the trainer calls it once it acted).
func ClearControl(s *sessions.Session) error {
	err := os.Remove(layout.Control(s.Dir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sessions: %q: control: %w", s.Manifest.Name, err)
	}
	return nil
}

// TailLog returns the last n lines of the session's train.log ("" if it
// does not exist).
func TailLog(s *sessions.Session, n int) string { return tailFile(layout.TrainLog(s.Dir), n) }

// tailFile returns the last n lines of the file at path (reading at most
// its last 64 KiB).
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const maxRead = 64 << 10
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-maxRead)
	buf := make([]byte, st.Size()-off)
	k, _ := f.ReadAt(buf, off)
	buf = bytes.TrimRight(buf[:k], "\n")
	lines := bytes.Split(buf, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
