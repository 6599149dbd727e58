// Package outpath guards the files a command writes: an output must not
// be one of the command's inputs, and must not land among a session's own
// files. Every command of rave that writes a file the user names checks
// its output with Check before doing any work, so a slip of the keyboard
// (`rave reconstruct piano take.wav take.wav`, or an output path inside a
// session folder) is refused with a message instead of destroying the
// recording or the session's model.
//
// Paths are compared after following symbolic links, and existing files
// with os.SameFile, so `./take.wav`, a link to take.wav and a hard link
// of it are all recognised as take.wav.
package outpath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ravestation/rave/sessions/layout"
)

// ErrInput is wrapped by Check's error when the output is one of the
// inputs.
var ErrInput = errors.New("the output is an input")

// ErrSessionFile is wrapped by Check's error when the output lies among a
// session's own files.
var ErrSessionFile = errors.New("the output is inside a session folder")

// Check returns an error when writing out would replace or change one of
// inputs, or a file of a session: out resolves (symbolic links followed)
// to a path inside a session folder under sessionsRoot other than the
// session's exports folder (layout.ExportsDir), or to the session folder
// itself. Inputs that are empty or name no file (a session name given as
// a model) are skipped; sessionsRoot "" skips the session check. The
// error is one line naming out and the path it would destroy, and wraps
// ErrInput or ErrSessionFile.
func Check(out string, inputs []string, sessionsRoot string) error {
	if out == "" {
		return nil
	}
	rout := resolve(out)
	outInfo, outErr := os.Stat(out)
	for _, in := range inputs {
		if in == "" {
			continue
		}
		inInfo, inErr := os.Stat(in)
		same := rout == resolve(in)
		if outErr == nil && inErr == nil {
			same = same || os.SameFile(outInfo, inInfo)
		}
		if same {
			return fmt.Errorf("%w: writing %s would replace %s; choose another output file", ErrInput, out, in)
		}
	}
	if sessionsRoot == "" {
		return nil
	}
	root := resolve(sessionsRoot)
	rel, err := filepath.Rel(root, rout)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	parts := strings.Split(rel, string(filepath.Separator))
	dir := filepath.Join(root, parts[0])
	switch {
	case len(parts) == 1:
		// A file beside the session folders is no session's; the folder
		// of a session (an output folder such as `rave plot --out`) is.
		if outErr != nil || !outInfo.IsDir() {
			return nil
		}
	case parts[1] == layout.ExportsDir:
		return nil
	}
	return fmt.Errorf("%w: %s lies in the folder of session %q (%s), whose files rave manages; write it elsewhere, or under %s",
		ErrSessionFile, out, parts[0], dir, layout.Exports(dir))
}

// resolve returns path as an absolute, clean path with the symbolic links
// of its longest existing prefix followed: the path the file has, or
// would have once written.
func resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	var rest []string
	p := abs
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return abs
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}
