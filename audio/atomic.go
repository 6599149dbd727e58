package audio

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// writeFileAtomic creates path with the bytes write produces. It writes a
// temporary file in the same folder, syncs it, renames it over path and syncs
// the folder, so that a crash leaves either the old file or the new one.
func writeFileAtomic(path string, write func(w io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return commitTemp(tmp, path)
}

// commitTemp syncs and closes tmp, renames it to path and syncs the folder.
// On error the caller removes tmp.
func commitTemp(tmp *os.File, path string) error {
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir fsyncs a folder so a rename inside it survives a power loss. It is
// best effort: some platforms and file systems cannot sync folders, and the
// rename itself is already atomic for readers and against a killed process.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	d.Sync() //nolint:errcheck // best effort, see above
	return d.Close()
}
