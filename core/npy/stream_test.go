package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestColumnWriterMatchesWrite writes an array in column blocks and
// compares the file with Write's, then reads it back in other blocks.
func TestColumnWriterMatchesWrite(t *testing.T) {
	const rows, cols = 3, 1001
	z := make([][]float32, rows)
	for i := range z {
		z[i] = make([]float32, cols)
		for j := range z[i] {
			z[i][j] = float32(i*cols+j) * 0.25
		}
	}
	var want bytes.Buffer
	if err := Write(&want, z); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "z.npy")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewColumnWriter(f, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	for c0 := 0; c0 < cols; c0 += 256 {
		block := make([][]float32, rows)
		for i := range block {
			block[i] = z[i][c0:min(c0+256, cols)]
		}
		if err := w.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("column-written file (%d bytes) differs from Write's (%d bytes)", len(got), want.Len())
	}

	r, err := NewColumnReader(bytes.NewReader(got), int64(len(got)))
	if err != nil {
		t.Fatal(err)
	}
	if r.Rows() != rows || r.Cols() != cols {
		t.Fatalf("shape (%d, %d), want (%d, %d)", r.Rows(), r.Cols(), rows, cols)
	}
	for _, c0 := range []int{0, 7, 999} {
		dst := make([][]float32, rows)
		for i := range dst {
			dst[i] = make([]float32, 2)
		}
		if err := r.ReadCols(dst, c0); err != nil {
			t.Fatal(err)
		}
		for i := range dst {
			for j, v := range dst[i] {
				if v != z[i][c0+j] {
					t.Fatalf("ReadCols(%d): [%d][%d] = %v, want %v", c0, i, j, v, z[i][c0+j])
				}
			}
		}
	}
	if _, err := NewColumnReader(bytes.NewReader(got[:len(got)-1]), int64(len(got)-1)); err == nil {
		t.Error("NewColumnReader accepted a truncated file")
	}
}
