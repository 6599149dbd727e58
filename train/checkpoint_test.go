package train

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ravestation/rave/core"
)

func named(name string, v ...float32) *core.Tensor {
	t := core.New(v, len(v))
	t.Name = name
	return t
}

func TestCheckpointsKeepLastAndSkipDamaged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), CheckpointDir)
	for step := int64(1); step <= 4; step++ {
		if _, err := SaveCheckpoint(dir, step*100, []*core.Tensor{named("w", float32(step))}, map[string]string{"stage": "1"}, 2); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(listCheckpoints(dir)); n != 2 {
		t.Fatalf("%d checkpoints kept, want 2", n)
	}
	// Damage the newest: resume must fall back to the one before.
	newest := listCheckpoints(dir)[0]
	os.WriteFile(newest, []byte("garbage"), 0o644)
	// A temporary file from a killed writer is ignored.
	os.WriteFile(filepath.Join(dir, ".ckpt-000000000500.safetensors.tmp-123"), []byte("half"), 0o644)
	path, tf, warns, err := LatestCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != checkpointName(300) || len(warns) != 1 {
		t.Fatalf("latest = %s (warnings %v), want step 300 with one warning", path, warns)
	}
	w, _ := tf.Tensor("w")
	if w.Data()[0] != 3 || tf.Metadata()["step"] != "300" {
		t.Errorf("checkpoint content %v %v", w.Data(), tf.Metadata())
	}
}

func TestNoCheckpoint(t *testing.T) {
	if _, _, _, err := LatestCheckpoint(t.TempDir()); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("empty folder: %v", err)
	}
}

// TestCheckpointWriteFailureKeepsPrevious checks that a write failing inside
// the atomic writer leaves the previous checkpoint as the latest and no
// stray files behind.
func TestCheckpointWriteFailureKeepsPrevious(t *testing.T) {
	dir := filepath.Join(t.TempDir(), CheckpointDir)
	if _, err := SaveCheckpoint(dir, 1, []*core.Tensor{named("w", 1)}, nil, 3); err != nil {
		t.Fatal(err)
	}
	// A tensor list that cannot be encoded (duplicate names) fails inside
	// the atomic writer, exactly like a write error would.
	_, err := SaveCheckpoint(dir, 2, []*core.Tensor{named("w", 2), named("w", 3)}, nil, 3)
	if err == nil {
		t.Fatal("bad checkpoint accepted")
	}
	path, _, _, err := LatestCheckpoint(dir)
	if err != nil || filepath.Base(path) != checkpointName(1) {
		t.Fatalf("after a failed write latest = %s, %v; want step 1", path, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("failed write left files behind: %v", entries)
	}
}
