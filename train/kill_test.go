//go:build unix

package train

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// The kill test runs the trainer in a child process (this test binary,
// re-executed with killTrainerEnv set) and kills it with SIGKILL at random
// moments while it writes a checkpoint at every step, then checks that
// every file of the session is whole and that training resumes.
const killTrainerEnv = "RAVE_TEST_KILL_TRAINER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(killTrainerEnv); dir != "" {
		if lim := os.Getenv(killTrainerEnv + "_FSIZE"); lim != "" {
			// A size-limited disk: writes past the limit fail with EFBIG
			// instead of killing the process with SIGXFSZ.
			var n uint64
			fmt.Sscan(lim, &n)
			signal.Ignore(syscall.SIGXFSZ)
			syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n})
		}
		var cfg Config
		if err := json.Unmarshal([]byte(os.Getenv(killTrainerEnv+"_CONFIG")), &cfg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		cfg.SessionDir = dir
		if err := Run(context.Background(), cfg, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func killConfig() Config {
	c := tinyConfig("", 100_000)
	c.Batch, c.LogEvery, c.ValEvery, c.CheckpointEvery, c.Keep = 1, 1, 7, 1, 2
	c.Stage1Steps = 12
	return c
}

// checkSessionWhole opens every file the trainer writes and fails if any
// is partial: the newest checkpoint loads, the session model loads,
// status.json parses, and metrics.jsonl holds only whole lines.
func checkSessionWhole(t *testing.T, dir string) {
	t.Helper()
	if _, _, err := LatestCheckpoint(filepath.Join(dir, layout.CheckpointDir), func(p string) error {
		_, err := loadCheckpoint(p)
		return err
	}); err != nil {
		t.Fatalf("no loadable checkpoint: %v", err)
	}
	for _, p := range listCheckpoints(filepath.Join(dir, layout.CheckpointDir)) {
		if _, err := loadCheckpoint(p); err != nil {
			t.Fatalf("checkpoint %s is damaged: %v", filepath.Base(p), err)
		}
	}
	if _, err := model.Load(filepath.Join(dir, layout.ModelFile)); err != nil {
		t.Fatalf("session model damaged: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, layout.StatusFile)); err == nil {
		if _, err := runlog.ReadStatus(filepath.Join(dir, layout.StatusFile)); err != nil {
			t.Fatalf("status.json damaged: %v", err)
		}
	}
	if f, err := os.Open(filepath.Join(dir, layout.MetricsFile)); err == nil {
		_, skipped, err := runlog.ReadMetrics(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// A torn line may exist right after the kill; the next run trims it.
		if skipped > 1 {
			t.Fatalf("metrics.jsonl has %d broken lines", skipped)
		}
	}
}

// TestSIGKILLDuringCheckpoints kills the trainer 20 times at random moments
// of a run that checkpoints every step and checks the session each time.
func TestSIGKILLDuringCheckpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts trainer processes")
	}
	dir := synthSession(t, 12, 65536)
	rng := rand.New(rand.NewPCG(11, 11))
	startWith := func(cfgJSON []byte) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killTrainerEnv+"="+dir, killTrainerEnv+"_CONFIG="+string(cfgJSON))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	cfgJSON, _ := json.Marshal(killConfig())
	start := func() *exec.Cmd { return startWith(cfgJSON) }
	// Let a first run write its step-0 checkpoint.
	first := start()
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(dir, layout.ModelFile)); err == nil {
			break
		}
		if i > 600 {
			first.Process.Kill()
			t.Fatal("trainer wrote no checkpoint in 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	kills := 0
	for kills < 20 {
		cmd := start()
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err == nil {
			t.Fatal("the endless run finished")
		}
		kills++
		checkSessionWhole(t, dir)
	}
	// Resume and finish a few steps past the newest checkpoint.
	path, _, _ := LatestCheckpoint(filepath.Join(dir, layout.CheckpointDir), nil)
	var last int64
	fmt.Sscanf(filepath.Base(path), "step-%d", &last)
	t.Logf("killed the trainer %d times; newest checkpoint at step %d", kills, last)
	c := killConfig()
	c.Steps = last + 3
	endJSON, _ := json.Marshal(c)
	cmd := startWith(endJSON)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("resumed run failed: %v", err)
	}
	checkSessionWhole(t, dir)
	st, err := runlog.ReadStatus(filepath.Join(dir, layout.StatusFile))
	if err != nil || st.State != "done" || st.Step != last+3 {
		t.Fatalf("final status %+v, %v; want done at step %d", st, err, last+3)
	}
}

// TestFullDiskKeepsPreviousCheckpoint runs the trainer in a child process
// whose files may not grow past 64 KiB (RLIMIT_FSIZE, the way a full disk
// fails a write): the first checkpoint write fails, the run stops with an
// error saying the previous checkpoint is intact, and that checkpoint still
// loads and resumes.
func TestFullDiskKeepsPreviousCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts trainer processes")
	}
	dir := synthSession(t, 12, 65536)
	c := killConfig()
	c.Steps, c.Stage1Steps = 2, 2
	run := func(c Config, fsize string) (string, error) {
		js, _ := json.Marshal(c)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), killTrainerEnv+"="+dir, killTrainerEnv+"_CONFIG="+string(js))
		if fsize != "" {
			cmd.Env = append(cmd.Env, killTrainerEnv+"_FSIZE="+fsize)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(c, ""); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	c.Steps = 4
	out, err := run(c, "65536")
	if err == nil {
		t.Fatal("a run on a full disk reported success")
	}
	if !strings.Contains(out, "previous one is intact") || !strings.Contains(out, "file too large") {
		t.Fatalf("unclear error on a full disk:\n%s", out)
	}
	path, _, err := LatestCheckpoint(filepath.Join(dir, layout.CheckpointDir), func(p string) error {
		_, err := loadCheckpoint(p)
		return err
	})
	if err != nil || filepath.Base(path) != layout.CheckpointName(2) {
		t.Fatalf("after the failed write the newest checkpoint is %s (%v), want step 2", path, err)
	}
	checkSessionWhole(t, dir)
	if out, err := run(c, ""); err != nil {
		t.Fatalf("resume after freeing space: %v\n%s", err, out)
	}
}
