package sessions

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"piano", true}, {"my-session_2.v1", true}, {"Ünïcode", true},
		{"", false}, {"../etc", false}, {"a/b", false}, {".hidden", false},
		{"tab\there", false}, {"bell\a", false}, {strings.Repeat("x", 65), false}, {"sp ace", false},
	} {
		if err := ValidateName(c.name); (err == nil) != c.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func TestCreateOpen(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	s, err := Create("piano")
	if err != nil {
		t.Fatal(err)
	}
	s.Manifest.Preset = "small"
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create("piano"); !errors.Is(err, ErrExists) {
		t.Errorf("second Create = %v, want ErrExists", err)
	}
	got, err := Open("piano")
	if err != nil {
		t.Fatal(err)
	}
	if got.Manifest.Preset != "small" || got.Manifest.Version != FormatVersion {
		t.Errorf("reopened manifest %+v", got.Manifest)
	}
	if _, err := Open("absent"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(absent) = %v, want ErrNotFound", err)
	}
}

func TestOpenRefusesForeignAndNewerFormats(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	s, err := Create("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"format":"rave-station-session","version":99,"name":"x"}`, "version 99"},
		{`{"format":"something-else","version":1}`, `format "something-else"`},
		{`not json`, "not valid JSON"},
	} {
		os.WriteFile(s.Path(ManifestFile), []byte(c.body), 0o644)
		if _, err := Open("x"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open with %s = %v, want an error mentioning %q", c.body, err, c.want)
		}
	}
}

func TestLockRefusesSecondHolderAndNamesPID(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	s, err := Create("locked")
	if err != nil {
		t.Fatal(err)
	}
	// Hold the lock from a child process (flock is per open file, so a
	// second process is the honest test), then try from here.
	cmd := exec.Command("flock", "-n", s.Path(LockFile), "sh", "-c", "echo $$ trainer > "+s.Path(LockFile)+"; sleep 5")
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killGroup := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	defer killGroup()
	var lerr error
	for range 100 {
		if pid, held := s.HolderPID(); held && pid > 0 {
			_, lerr = s.Acquire("test")
			break
		}
		sleepMs(20)
	}
	if !errors.Is(lerr, ErrLocked) || !strings.Contains(lerr.Error(), "pid ") {
		t.Fatalf("Acquire while held = %v, want ErrLocked naming the pid", lerr)
	}
	killGroup()
	cmd.Wait()
	// The killed shell releases the flock when the kernel closes its files,
	// which can lag the signal by a moment.
	var l *Lock
	for range 100 {
		if l, err = s.Acquire("test"); err == nil {
			break
		}
		sleepMs(20)
	}
	if err != nil {
		t.Fatalf("Acquire after the holder died = %v", err)
	}
	l.Release()
}

func TestDuplicate(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	s, err := Create("orig")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(s.Path("metrics.jsonl"), []byte("{}\n"), 0o644)
	if err := Duplicate("orig", "copy"); err != nil {
		t.Fatal(err)
	}
	c, err := Open("copy")
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Name != "copy" {
		t.Errorf("copy manifest name %q", c.Manifest.Name)
	}
	if b, _ := os.ReadFile(c.Path("metrics.jsonl")); string(b) != "{}\n" {
		t.Errorf("copied metrics %q", b)
	}
	if err := Duplicate("orig", "copy"); !errors.Is(err, ErrExists) {
		t.Errorf("second duplicate = %v, want ErrExists", err)
	}
	if size, _ := DiskUsage(c.Dir); size == 0 {
		t.Error("DiskUsage of the copy is 0")
	}
}
