// Package npy reads and writes 2-D float32 arrays in NumPy's .npy format
// (version 1.0, little-endian, C order), the format `rave encode` writes
// latents in so that Python tools can read them with numpy.load.
package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strings"

	"github.com/ravestation/rave/core"
)

var magic = []byte("\x93NUMPY")

// ErrFormat is returned for files that are not a supported .npy array.
var ErrFormat = errors.New("npy: unsupported or corrupt file")

// Write writes rows (rows × cols, all rows the same length) as a float32
// array of shape (rows, cols).
func Write(w io.Writer, rows [][]float32) error {
	r := len(rows)
	c := 0
	if r > 0 {
		c = len(rows[0])
	}
	for i, row := range rows {
		if len(row) != c {
			return fmt.Errorf("npy: row %d has %d values, row 0 has %d", i, len(row), c)
		}
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", r, c)
	// magic(6) + version(2) + length(2) + header + '\n' is a multiple of 64.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	bw := bufio.NewWriter(w)
	bw.Write(magic)
	bw.Write([]byte{1, 0})
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	var b [4]byte
	for _, row := range rows {
		for _, v := range row {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			bw.Write(b[:])
		}
	}
	return bw.Flush()
}

// WriteFile writes rows to path atomically (a temporary file in the same
// folder, renamed over path once whole), so a failed write leaves what was
// at path untouched.
func WriteFile(path string, rows [][]float32) error {
	err := core.WriteFileAtomic(path, func(f *os.File) error { return Write(f, rows) })
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

var (
	descrRE = regexp.MustCompile(`'descr':\s*'([<>|=]?[fi][248])'`)
	orderRE = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
	shapeRE = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)
)

// maxElements bounds the elements of an array.
const maxElements = 1 << 30

// maxEmptyRows bounds the rows of an array without columns, which hold
// no data for their number to be checked against.
const maxEmptyRows = 1 << 16

// Read reads a 1-D or 2-D array of float32, float64 or int32/int64 values
// (little-endian, C order) and returns it as rows of float32; a 1-D array
// is one row.
func Read(r io.Reader) ([][]float32, error) {
	h, data, err := ReadArray(r)
	if err != nil {
		return nil, err
	}
	rows, cols := 1, 0
	switch len(h.Shape) {
	case 1:
		cols = h.Shape[0]
	case 2:
		rows, cols = h.Shape[0], h.Shape[1]
	default:
		return nil, fmt.Errorf("%w: %d-D array, want 1-D or 2-D (dims, frames)", ErrFormat, len(h.Shape))
	}
	if cols == 0 && rows > maxEmptyRows {
		return nil, fmt.Errorf("%w: shape %v too large", ErrFormat, h.Shape)
	}
	out := make([][]float32, rows)
	for i := range out {
		out[i] = data[i*cols : (i+1)*cols : (i+1)*cols]
	}
	return out, nil
}

// ReadFile reads an array from path.
func ReadFile(path string) ([][]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	rows, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}
