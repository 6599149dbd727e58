package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ravestation/rave/core"
)

// CheckpointDir is the folder of checkpoints inside a session.
const CheckpointDir = "checkpoints"

// CheckpointFormat and CheckpointVersion identify our checkpoint files.
const (
	CheckpointFormat  = "rave-station-checkpoint"
	CheckpointVersion = "1"
)

// ErrNoCheckpoint is returned when a folder holds no usable checkpoint.
var ErrNoCheckpoint = errors.New("no checkpoint")

// checkpointName returns the file name of the checkpoint of a step; names
// sort in step order.
func checkpointName(step int64) string { return fmt.Sprintf("ckpt-%012d.safetensors", step) }

// SaveCheckpoint writes tensors and metadata as the checkpoint of step in
// dir, atomically (temporary file, fsync, rename), then deletes all but the
// newest keep checkpoints and any temporary files left by a killed writer.
// If writing fails (a full disk, say) the earlier checkpoints are untouched.
func SaveCheckpoint(dir string, step int64, tensors []*core.Tensor, meta map[string]string, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("train: checkpoint: %w", err)
	}
	m := make(map[string]string, len(meta)+3)
	for k, v := range meta {
		m[k] = v
	}
	m["format"] = CheckpointFormat
	m["format_version"] = CheckpointVersion
	m["step"] = fmt.Sprint(step)
	path := filepath.Join(dir, checkpointName(step))
	if err := core.WriteSafetensors(path, tensors, m); err != nil {
		return "", fmt.Errorf("train: checkpoint at step %d not written (the previous one is intact): %w", step, err)
	}
	pruneCheckpoints(dir, keep)
	return path, nil
}

// listCheckpoints returns the checkpoint files of dir, newest first.
func listCheckpoints(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "ckpt-") && strings.HasSuffix(n, ".safetensors") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

func pruneCheckpoints(dir string, keep int) {
	if keep < 1 {
		keep = 1
	}
	for i, p := range listCheckpoints(dir) {
		if i >= keep {
			os.Remove(p)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".ckpt-") && strings.Contains(e.Name(), ".tmp-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// LatestCheckpoint opens the newest readable checkpoint in dir. Files that
// fail to parse or carry another format are skipped (and reported in the
// returned warnings), so a damaged newest file falls back to the one before.
// A checkpoint of a newer format version is an error naming the version.
func LatestCheckpoint(dir string) (path string, tf *core.TensorFile, warnings []string, err error) {
	for _, p := range listCheckpoints(dir) {
		f, err := core.ReadSafetensors(p)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("skipping unreadable checkpoint %s: %v", filepath.Base(p), err))
			continue
		}
		md := f.Metadata()
		if md["format"] != CheckpointFormat {
			warnings = append(warnings, fmt.Sprintf("skipping %s: format %q is not a RAVE Station checkpoint", filepath.Base(p), md["format"]))
			continue
		}
		if md["format_version"] != CheckpointVersion {
			return p, nil, warnings, fmt.Errorf("train: %s is checkpoint format version %s; this rave reads version %s (upgrade rave)", filepath.Base(p), md["format_version"], CheckpointVersion)
		}
		return p, f, warnings, nil
	}
	return "", nil, warnings, fmt.Errorf("train: %s: %w", dir, ErrNoCheckpoint)
}
