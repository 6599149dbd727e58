// Package modelfile looks at a weights file (a model or a prior: RAVE
// Station's safetensors files, the reference's state dicts and Lightning
// checkpoints) before a reader opens it, and says what is wrong with one
// that cannot be read in words rather than in the terms of the
// safetensors, zip or pickle reader: "piano.ckpt: not a RAVE model file
// (the file is cut short)". It reads headers and the ends of archives,
// never the weights.
package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Error is the error of Check for a file that cannot be what it should
// be. Its message names the file, what it should be and what is wrong.
type Error struct {
	// Path is the file.
	Path string
	// Kind is what the file should be: "a RAVE model file", "a RAVE prior
	// file".
	Kind string
	// Problem says what is wrong: "the file is empty", "the file is cut
	// short", "it is an audio file".
	Problem string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: not %s (%s)", e.Path, e.Kind, e.Problem)
}

func (e *Error) Unwrap() error { return e.Err }

// weightsKind is the container of a weights file: safetensors (rave's own
// models and priors, and state dicts), a zip archive (.npz, PyTorch
// checkpoints since 1.6) or a pickle (older PyTorch checkpoints).
type weightsKind int

const (
	kindUnknown weightsKind = iota
	kindSafetensors
	kindZip
	kindPickle
	kindAudio
)

// expectedKinds returns the containers a weights file may be, going by
// its extension, and how to name the expected kind in a message.
func expectedKinds(path string) ([]weightsKind, string) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ckpt", ".pt", ".pth":
		return []weightsKind{kindZip, kindPickle}, "a PyTorch checkpoint"
	case ".npz":
		return []weightsKind{kindZip}, "a NumPy .npz archive"
	case ".ts":
		return []weightsKind{kindZip}, "a TorchScript export"
	}
	return []weightsKind{kindSafetensors}, "a safetensors file"
}

// IsReference reports whether path, going by its extension, holds
// reference weights in a format that only core/interop reads (.ckpt, .pt,
// .pth, .npz, .ts).
func IsReference(path string) bool {
	kinds, _ := expectedKinds(path)
	return kinds[0] != kindSafetensors
}

// maxSafetensorsHeader is the largest header the safetensors reader
// accepts (100 MB).
const maxSafetensorsHeader = 100_000_000

// Check looks at the file at path before a model or prior (what: "model"
// or "prior") is read from it, and returns an *Error when it cannot be
// one: empty, cut short, an audio file, or not of the
// kind its extension says (.safetensors, and any other extension: a
// safetensors file; .ckpt, .pt, .pth: a PyTorch checkpoint; .npz: a
// NumPy archive; .ts: a TorchScript export). It reads the safetensors header, or the end of a zip
// archive, not the weights. A file that passes may still be refused by
// the reader (a safetensors file of another program, say).
func Check(path, what string) error {
	should := "a RAVE " + what + " file"
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if st.IsDir() {
		return &Error{Path: path, Kind: should, Problem: "it is a folder"}
	}
	kind, problem := sniffWeights(f, st.Size())
	want, wantName := expectedKinds(path)
	switch {
	case problem != "":
	case kind == kindAudio:
		problem = "it is an audio file"
	case kind == kindUnknown || !containsKind(want, kind):
		problem = "the file is cut short or is not " + wantName
	default:
		return nil
	}
	return &Error{Path: path, Kind: should, Problem: problem}
}

func containsKind(kinds []weightsKind, k weightsKind) bool {
	for _, w := range kinds {
		if w == k {
			return true
		}
	}
	return false
}

// sniffWeights tells the container of r (size bytes) from its first bytes
// and, when it knows the container, whether the file is whole: problem is
// "" for a whole file, else a description.
func sniffWeights(r io.ReaderAt, size int64) (kind weightsKind, problem string) {
	if size == 0 {
		return kindUnknown, "the file is empty"
	}
	head := make([]byte, min(size, 16))
	if _, err := r.ReadAt(head, 0); err != nil {
		return kindUnknown, "the file cannot be read: " + err.Error()
	}
	switch {
	case bytes.HasPrefix(head, []byte("RIFF")), bytes.HasPrefix(head, []byte("FORM")),
		bytes.HasPrefix(head, []byte("fLaC")), bytes.HasPrefix(head, []byte("OggS")),
		bytes.HasPrefix(head, []byte("ID3")):
		return kindAudio, ""
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return kindZip, zipProblem(r, size)
	case len(head) > 1 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		return kindPickle, ""
	case len(head) > 8 && head[8] == '{':
		n := binary.LittleEndian.Uint64(head)
		if n > maxSafetensorsHeader {
			return kindUnknown, ""
		}
		return kindSafetensors, safetensorsProblem(r, size, int64(n))
	case len(head) > 1 && head[0] == 0xff && head[1]&0xe0 == 0xe0:
		return kindAudio, "" // an MPEG audio frame: an .mp3 without tags
	}
	return kindUnknown, ""
}

// safetensorsProblem checks that the header of n bytes and every tensor
// it lists lie within the file.
func safetensorsProblem(r io.ReaderAt, size, n int64) string {
	if 8+n > size {
		return "the file is cut short"
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return "the file cannot be read: " + err.Error()
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimRight(hdr, " "), &entries); err != nil {
		return "the file is damaged: its table of contents is unreadable"
	}
	var end uint64
	for name, raw := range entries {
		if name == "__metadata__" {
			continue
		}
		var t struct {
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &t); err != nil || len(t.Offsets) != 2 {
			return "the file is damaged: its table of contents is unreadable"
		}
		end = max(end, t.Offsets[1])
	}
	if end > uint64(size-8-n) {
		return "the file is cut short"
	}
	return ""
}

// zipProblem checks that a zip archive ends with its central directory,
// which a file cut short has lost.
func zipProblem(r io.ReaderAt, size int64) string {
	const eocd = 22 // the end-of-central-directory record, without comment
	tail := min(size, eocd+65535)
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil {
		return "the file cannot be read: " + err.Error()
	}
	if !bytes.Contains(buf, []byte("PK\x05\x06")) {
		return "the file is cut short"
	}
	return ""
}
