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
	"strconv"
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

// maxElements bounds what Read allocates for a corrupt header.
const maxElements = 1 << 30

// Read reads a 1-D or 2-D array of float32, float64 or int32/int64 values
// (little-endian, C order) and returns it as rows of float32; a 1-D array
// is one row.
func Read(r io.Reader) ([][]float32, error) {
	br := bufio.NewReader(r)
	pre := make([]byte, 8)
	if _, err := io.ReadFull(br, pre); err != nil || string(pre[:6]) != string(magic) {
		return nil, fmt.Errorf("%w: no .npy magic", ErrFormat)
	}
	var hlen int
	switch pre[6] {
	case 1:
		var n uint16
		if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
			return nil, fmt.Errorf("%w: truncated header", ErrFormat)
		}
		hlen = int(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
			return nil, fmt.Errorf("%w: truncated header", ErrFormat)
		}
		hlen = int(n)
	default:
		return nil, fmt.Errorf("%w: version %d.%d", ErrFormat, pre[6], pre[7])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrFormat, hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, fmt.Errorf("%w: truncated header", ErrFormat)
	}
	h := string(hb)
	d := descrRE.FindStringSubmatch(h)
	o := orderRE.FindStringSubmatch(h)
	s := shapeRE.FindStringSubmatch(h)
	if d == nil || o == nil || s == nil {
		return nil, fmt.Errorf("%w: header %q", ErrFormat, strings.TrimSpace(h))
	}
	if o[1] == "True" {
		return nil, fmt.Errorf("%w: Fortran order is not supported (save with np.ascontiguousarray)", ErrFormat)
	}
	descr := strings.TrimLeft(d[1], "<=|")
	if strings.HasPrefix(d[1], ">") {
		return nil, fmt.Errorf("%w: big-endian data", ErrFormat)
	}
	var dims []int
	for _, p := range strings.Split(s[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: shape %q", ErrFormat, s[1])
		}
		dims = append(dims, n)
	}
	rows, cols := 1, 0
	switch len(dims) {
	case 1:
		cols = dims[0]
	case 2:
		rows, cols = dims[0], dims[1]
	default:
		return nil, fmt.Errorf("%w: %d-D array, want 1-D or 2-D (dims, frames)", ErrFormat, len(dims))
	}
	if rows*cols > maxElements || (cols > 0 && rows > maxElements/cols) {
		return nil, fmt.Errorf("%w: shape %v too large", ErrFormat, dims)
	}
	size := map[string]int{"f4": 4, "f8": 8, "i4": 4, "i8": 8}[descr]
	if size == 0 {
		return nil, fmt.Errorf("%w: dtype %s (want float32, float64, int32 or int64)", ErrFormat, d[1])
	}
	buf := make([]byte, size*cols)
	out := make([][]float32, rows)
	for i := range out {
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("%w: data truncated at row %d of %d", ErrFormat, i, rows)
		}
		row := make([]float32, cols)
		for j := range row {
			b := buf[j*size:]
			switch descr {
			case "f4":
				row[j] = math.Float32frombits(binary.LittleEndian.Uint32(b))
			case "f8":
				row[j] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			case "i4":
				row[j] = float32(int32(binary.LittleEndian.Uint32(b)))
			case "i8":
				row[j] = float32(int64(binary.LittleEndian.Uint64(b)))
			}
		}
		out[i] = row
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
