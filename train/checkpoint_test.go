package train

import (
	"errors"
	"fmt"
	"github.com/ravestation/rave/sessions/layout"
	"os"
	"path/filepath"
	"testing"
)

func writeMarker(v string) func(tmp string) error {
	return func(tmp string) error { return os.WriteFile(filepath.Join(tmp, "v"), []byte(v), 0o644) }
}

func readMarker(p string) error {
	b, err := os.ReadFile(filepath.Join(p, "v"))
	if err != nil {
		return err
	}
	if string(b) == "bad" {
		return errors.New("damaged")
	}
	return nil
}

func TestCheckpointsKeepLastAndSkipDamaged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), layout.CheckpointDir)
	for step := int64(1); step <= 4; step++ {
		if _, err := SaveCheckpoint(dir, step*100, writeMarker(fmt.Sprint(step)), 2); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(listCheckpoints(dir)); n != 2 {
		t.Fatalf("%d checkpoints kept, want 2", n)
	}
	os.WriteFile(filepath.Join(listCheckpoints(dir)[0], "v"), []byte("bad"), 0o644)
	os.Mkdir(filepath.Join(dir, tmpPrefix+"step-000000000500-123"), 0o755) // a killed writer
	path, warns, err := LatestCheckpoint(dir, readMarker)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != layout.CheckpointName(300) || len(warns) != 1 {
		t.Fatalf("latest = %s (warnings %v), want step 300 with one warning", path, warns)
	}
}

func TestNoCheckpoint(t *testing.T) {
	if _, _, err := LatestCheckpoint(t.TempDir(), nil); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("empty folder: %v", err)
	}
}

func TestCheckpointWriteFailureKeepsPrevious(t *testing.T) {
	dir := filepath.Join(t.TempDir(), layout.CheckpointDir)
	if _, err := SaveCheckpoint(dir, 1, writeMarker("1"), 3); err != nil {
		t.Fatal(err)
	}
	_, err := SaveCheckpoint(dir, 2, func(tmp string) error {
		writeMarker("2")(tmp)
		return errors.New("no space left on device")
	}, 3)
	if err == nil {
		t.Fatal("failed write reported success")
	}
	path, _, err := LatestCheckpoint(dir, readMarker)
	if err != nil || filepath.Base(path) != layout.CheckpointName(1) {
		t.Fatalf("after a failed write latest = %s, %v; want step 1", path, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("failed write left files behind: %v", entries)
	}
}
