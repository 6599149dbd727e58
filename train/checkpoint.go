package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions/layout"
)

// CheckpointFormat and CheckpointVersion identify our trainer-state files.
const (
	CheckpointFormat  = "rave-station-checkpoint"
	CheckpointVersion = "1"
)

// ErrNoCheckpoint is returned when a folder holds no usable checkpoint.
var ErrNoCheckpoint = errors.New("no checkpoint")

const tmpPrefix = ".tmp-"

// SaveCheckpoint writes the checkpoint of step as a folder in dir: write
// fills a temporary folder, which is synced and then renamed into place in
// one atomic step, so a checkpoint folder is either complete or absent.
// Then all but the newest keep checkpoints are deleted, with any temporary
// folders left by a killed writer. If writing fails (a full disk, say) the
// earlier checkpoints are untouched and the error says so.
func SaveCheckpoint(dir string, step int64, write func(tmp string) error, keep int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("train: checkpoint: %w", err)
	}
	final := filepath.Join(dir, layout.CheckpointName(step))
	tmp, err := os.MkdirTemp(dir, tmpPrefix+layout.CheckpointName(step)+"-")
	if err != nil {
		return "", fmt.Errorf("train: checkpoint at step %d not written (the previous one is intact): %w", step, err)
	}
	fail := func(err error) (string, error) {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("train: checkpoint at step %d not written (the previous one is intact): %w", step, err)
	}
	if err := write(tmp); err != nil {
		return fail(err)
	}
	if err := syncDir(tmp); err != nil {
		return fail(err)
	}
	discard(final) // a checkpoint of the same step from an earlier attempt
	if err := os.Rename(tmp, final); err != nil {
		return fail(err)
	}
	syncDir(dir)
	pruneCheckpoints(dir, keep)
	return final, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// discard removes a checkpoint folder without ever leaving a partial one
// under its name: it is first renamed to a temporary name (atomic), then
// deleted; a kill in between leaves only a temporary folder, removed later.
func discard(p string) {
	tmp := filepath.Join(filepath.Dir(p), tmpPrefix+"del-"+filepath.Base(p))
	if err := os.Rename(p, tmp); err != nil {
		return
	}
	os.RemoveAll(tmp)
}

// listCheckpoints returns the checkpoint folders of dir, newest first.
func listCheckpoints(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && layout.IsCheckpointName(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

func pruneCheckpoints(dir string, keep int) {
	keep = max(keep, 1)
	for i, p := range listCheckpoints(dir) {
		if i >= keep {
			discard(p)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// LatestCheckpoint returns the newest checkpoint folder in dir that check
// accepts (check opens its files; nil accepts any). Rejected folders are
// skipped and described in warnings, so a damaged newest checkpoint falls
// back to the one before.
func LatestCheckpoint(dir string, check func(path string) error) (path string, warnings []string, err error) {
	for _, p := range listCheckpoints(dir) {
		if check != nil {
			if err := check(p); err != nil {
				warnings = append(warnings, fmt.Sprintf("skipping checkpoint %s: %v", filepath.Base(p), err))
				continue
			}
		}
		return p, warnings, nil
	}
	return "", warnings, fmt.Errorf("train: %s: %w", dir, ErrNoCheckpoint)
}

// linkModel makes dst the same file as src (a hard link, or a copy where
// links are impossible), replacing dst atomically.
func linkModel(src, dst string) error {
	tmp := dst + ".tmp-link"
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := core.WriteFileAtomic(tmp, func(f *os.File) error {
			in, err := os.Open(src)
			if err != nil {
				return err
			}
			defer in.Close()
			_, err = io.Copy(f, in)
			return err
		}); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dst)
}
