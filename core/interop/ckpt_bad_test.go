package interop_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/modelfile"
)

// importWithin runs interop.Import(path) and fails the test if it has not
// returned within limit (gopickle's legacy loader used to spin forever on
// an empty file).
func importWithin(t *testing.T, path string, limit time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := interop.Import(path)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("Import(%s) has not returned after %v", filepath.Base(path), limit)
		return nil
	}
}

// notCheckpoint is core/modelfile's word for a .ckpt of unknown content.
const notCheckpoint = "the file is cut short or is not a PyTorch checkpoint)"

// TestImportRefusesBrokenCheckpoints checks that an empty, cut-short,
// text, audio, foreign-zip or damaged .ckpt is refused within a second
// with one line that names the file and says what is wrong in words.
func TestImportRefusesBrokenCheckpoints(t *testing.T) {
	dir := t.TempDir()
	tf, err := core.ReadSafetensors(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.ckpt")
	writeCheckpoint(t, good, tf, fixtureHparams, true)
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// The same checkpoint with bytes of data.pkl flipped: the zip is whole,
	// a record fails its checksum.
	flipped := bytes.Clone(whole)
	if i := bytes.Index(flipped, []byte("\x80\x02}")); i < 0 {
		t.Fatal("no pickle in the written checkpoint")
	} else {
		for j := i + 3; j < i+400; j++ {
			flipped[j] ^= 0x5a
		}
	}
	// A state dict {"w": a tensor of 4 floats in record 0}, with record 0
	// as given (nil: absent).
	var one pickler
	one.op(0x80, 2, '}', '(')
	one.str("w")
	one.tensor("0", "FloatStorage", []int{4}, 4)
	one.op('u', '.')
	oneTensor := func(record []byte) []byte {
		files := map[string][]byte{"archive/data.pkl": one.Bytes()}
		if record != nil {
			files["archive/data/0"] = record
		}
		return zipOf(t, files)
	}
	var underflow pickler
	underflow.op(0x80, 2, 'u', '.') // SETITEMS with nothing on the stack
	legacy := append([]byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}, bytes.Repeat([]byte{'.'}, 64)...)

	type badFile struct {
		name, file string
		data       []byte
		problem    string
	}
	tests := []badFile{
		{"empty", "empty.ckpt", []byte{}, "the file is empty)"},
		{"text", "notes.ckpt", []byte("this is not a checkpoint\n"), notCheckpoint},
		{"one byte", "one.ckpt", []byte{'`'}, notCheckpoint},
		{"audio", "take.ckpt", append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 40)...), "it is an audio file)"},
		{"zip of something else", "zipped.ckpt", zipOf(t, map[string][]byte{"notes/readme.txt": []byte("a zip of notes\n")}), "it is a zip archive without a PyTorch checkpoint in it)"},
		{"empty zip", "nothing.ckpt", zipOf(t, nil), notCheckpoint},
		{"legacy PyTorch", "old.ckpt", legacy, "it was saved by PyTorch before version 1.6, in a format rave does not read; load it in Python and save it again with torch.save)"},
		{"bytes flipped", "flipped.ckpt", flipped, "the file is damaged: part of it fails its checksum)"},
		{"table of contents of noise", "noise.ckpt", zipOf(t, map[string][]byte{"archive/data.pkl": bytes.Repeat([]byte{0x5a, 0xc3, 0x11, 0x97}, 64)}), "the file is damaged: its table of contents is unreadable (byte 0))"},
		{"table of contents cut short", "cutpkl.ckpt", zipOf(t, map[string][]byte{"archive/data.pkl": one.Bytes()[:40]}), "the file is damaged: its table of contents is cut short)"},
		{"table of contents gopickle refuses", "underflow.ckpt", zipOf(t, map[string][]byte{"archive/data.pkl": underflow.Bytes()}), "the file is damaged: its table of contents is unreadable)"},
		{"weights missing", "nodata.ckpt", oneTensor(nil), `the file is damaged: the weights of "w" are missing)`},
		{"weights cut short", "short.ckpt", oneTensor(make([]byte, 12)), `the file is damaged: the weights of "w" are cut short)`},
	}
	// Cut points from the first bytes to the last byte of the end record.
	for _, cut := range []int{1, 3, 4, 30, 100, 1000, len(whole) / 3, len(whole) / 2, len(whole) - 200, len(whole) - 22, len(whole) - 1} {
		problem := "the file is cut short)"
		if cut < 4 {
			problem = notCheckpoint
		}
		tests = append(tests, badFile{fmt.Sprintf("cut at %d of %d", cut, len(whole)), fmt.Sprintf("cut%d.ckpt", cut), whole[:cut], problem})
	}
	if ts, ok := fixtures.Root(); ok {
		if b, err := os.ReadFile(filepath.Join(ts, fixtures.V1Small, "ts", "rave_v1_small.ts")); err == nil {
			tests = append(tests, badFile{"TorchScript export", "export.ckpt", b, "it is a TorchScript export (.ts), not a training checkpoint)"})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			err := importWithin(t, path, time.Second)
			var fe *modelfile.Error
			if !errors.As(err, &fe) {
				t.Fatalf("Import(%s) = %v, want a *modelfile.Error", tt.file, err)
			}
			if want := path + ": not a RAVE model file (" + tt.problem; err.Error() != want {
				t.Errorf("Import(%s) = %q, want %q", tt.file, err, want)
			}
		})
	}
	t.Run("folder", func(t *testing.T) {
		path := filepath.Join(dir, "folder.ckpt")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := importWithin(t, path, time.Second); err == nil || err.Error() != path+": not a RAVE model file (it is a folder)" {
			t.Errorf("Import(folder.ckpt) = %v", err)
		}
	})
	t.Run("whole", func(t *testing.T) {
		if err := importWithin(t, good, 30*time.Second); err != nil {
			t.Errorf("Import(good.ckpt) = %v", err)
		}
	})
}

// zipOf returns a zip archive of files (name → content), stored.
func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestImportRefusesBrokenNPZ checks the same for .npz state dicts.
func TestImportRefusesBrokenNPZ(t *testing.T) {
	whole, err := os.ReadFile(fixtures.File(t, fixtures.V1Small, "v1_small_state_dict.npz"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name    string
		data    []byte
		problem string
	}{
		{"empty", nil, "the file is empty"},
		{"text", []byte("x,y\n1,2\n"), "the file is cut short or is not a NumPy .npz archive"},
		{"cut short", whole[:len(whole)/2], "the file is cut short"},
		{"end record cut short", whole[:len(whole)-1], "the file is cut short"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".npz")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			err := importWithin(t, path, time.Second)
			want := path + ": not a RAVE model file (" + tt.problem + ")"
			if err == nil || err.Error() != want {
				t.Errorf("Import(%s) = %v, want %q", filepath.Base(path), err, want)
			}
		})
	}
}
