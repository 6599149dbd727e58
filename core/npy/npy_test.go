package npy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	rows := [][]float32{{1, 2, 3}, {-4, 5.5, 6e-7}}
	var b bytes.Buffer
	if err := Write(&b, rows); err != nil {
		t.Fatal(err)
	}
	if (b.Len()-2*3*4)%64 != 0 {
		t.Errorf("header not aligned to 64 bytes: file %d bytes", b.Len())
	}
	got, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1][2] != 6e-7 || got[0][0] != 1 {
		t.Errorf("read back %v", got)
	}
}

func TestReadsNumpyHeaderVariants(t *testing.T) {
	// A header as numpy 1.24 writes for np.zeros((2,), '<f8').
	h := "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
	h += string(bytes.Repeat([]byte(" "), 128-10-len(h)-1)) + "\n"
	data := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), 0)
	data = append(data, h...)
	data = append(data, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40) // 1.0, 2.0
	got, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0][0] != 1 || got[0][1] != 2 {
		t.Errorf("got %v", got)
	}
}

func TestRejectsBadFiles(t *testing.T) {
	var good bytes.Buffer
	Write(&good, [][]float32{{1, 2}, {3, 4}})
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("hello world, not numpy"),
		"truncated": good.Bytes()[:good.Len()-3],
		"fortran":   bytes.Replace(good.Bytes(), []byte("False"), []byte("True "), 1),
		"3d":        bytes.Replace(good.Bytes(), []byte("(2, 2)"), []byte("(1,2,2)"), 1),
	} {
		if _, err := Read(bytes.NewReader(data)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
}

// TestWriteFileFailureKeepsTheOldFile checks that a failed WriteFile
// leaves the file at its path as it was (the write is atomic).
func TestWriteFileFailureKeepsTheOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "z.npy")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, [][]float32{{1, 2}, {3}}); err == nil {
		t.Fatal("WriteFile of ragged rows = nil, want an error")
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
		t.Errorf("after a failed WriteFile the file holds %q (%v), want %q", b, err, "keep me")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("after a failed WriteFile the folder holds %d entries, want 1", len(entries))
	}
	if err := WriteFile(path, [][]float32{{1, 2}, {3, 4}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := Read(f); err != nil || len(got) != 2 || got[1][1] != 4 {
		t.Errorf("Read after WriteFile = %v, %v", got, err)
	}
}

func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	Write(&good, [][]float32{{1, 2}, {3, 4}})
	f.Add(good.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		Read(bytes.NewReader(data))
	})
}
