package sessions

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ravestation/rave/sessions/layout"
)

// Duplicate copies session src to a new session dst (dataset, checkpoints,
// model, metrics and exports), refusing while src's trainer runs. The copy
// is made in a temporary folder and renamed into place, so an interrupted
// copy leaves no half session.
func Duplicate(src, dst string) error {
	s, err := Open(src)
	if err != nil {
		return err
	}
	if pid, held := s.HolderPID(); held {
		return fmt.Errorf("sessions: %q is in use by pid %d; stop it before copying", src, pid)
	}
	to, err := Dir(dst)
	if err != nil {
		return err
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("sessions: %q: %w", dst, ErrExists)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(to), ".tmp-copy-"+dst+"-")
	if err != nil {
		return fmt.Errorf("sessions: duplicate: %w", err)
	}
	err = filepath.WalkDir(s.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.Dir, p)
		target := filepath.Join(tmp, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if rel == layout.LockFile || !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, target)
	})
	if err == nil {
		c := &Session{Dir: tmp}
		if c2, err2 := Open(src); err2 == nil {
			c.Manifest = c2.Manifest
		}
		c.Manifest.Name = dst
		c.Manifest.Created = time.Now().UTC()
		err = c.Save()
	}
	if err == nil {
		err = os.Rename(tmp, to)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("sessions: duplicate %q: %w", src, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// DiskUsage returns the bytes used by a folder and its newest modification
// time.
func DiskUsage(dir string) (size int64, latest time.Time) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if !d.IsDir() {
				size += fi.Size()
			}
			if fi.ModTime().After(latest) {
				latest = fi.ModTime()
			}
		}
		return nil
	})
	return size, latest
}
