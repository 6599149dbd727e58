package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
)

// Column-block access to (rows, cols) arrays, for latents (dims, frames)
// that a long render produces or consumes a few frames at a time: the file
// is C order, so a block of columns is one piece of every row, written or
// read at its offset.

// header returns the .npy header Write writes for a float32 (rows, cols)
// array: magic, version 1.0, length, the dict, padding to 64 bytes.
func header(rows, cols int) []byte {
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	total := 10 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	b := append([]byte(nil), magic...)
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	return append(b, h...)
}

// ColumnWriter writes a float32 array of a known shape (rows, cols) whose
// columns arrive in blocks, at their offsets in w: the bytes are those
// Write writes for the whole array once every column is in.
type ColumnWriter struct {
	w          io.WriterAt
	rows, cols int
	data       int64 // offset of the first value
	next       int   // columns written
	buf        []byte
}

// NewColumnWriter writes the header of a (rows, cols) array at offset 0
// of w and returns a writer for its columns.
func NewColumnWriter(w io.WriterAt, rows, cols int) (*ColumnWriter, error) {
	h := header(rows, cols)
	if _, err := w.WriteAt(h, 0); err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return &ColumnWriter{w: w, rows: rows, cols: cols, data: int64(len(h))}, nil
}

// Write writes the next columns: block holds one slice per row, all of
// the same length.
func (c *ColumnWriter) Write(block [][]float32) error {
	if len(block) != c.rows {
		panic(fmt.Sprintf("npy: ColumnWriter.Write: %d rows, the array has %d", len(block), c.rows))
	}
	if c.rows == 0 {
		return nil
	}
	k := len(block[0])
	if c.next+k > c.cols {
		panic(fmt.Sprintf("npy: ColumnWriter.Write: columns %d to %d of %d", c.next, c.next+k, c.cols))
	}
	for i, row := range block {
		if len(row) != k {
			panic(fmt.Sprintf("npy: ColumnWriter.Write: row %d has %d values, row 0 has %d", i, len(row), k))
		}
		c.buf = c.buf[:0]
		for _, v := range row {
			c.buf = binary.LittleEndian.AppendUint32(c.buf, math.Float32bits(v))
		}
		off := c.data + 4*(int64(i)*int64(c.cols)+int64(c.next))
		if _, err := c.w.WriteAt(c.buf, off); err != nil {
			return fmt.Errorf("npy: %w", err)
		}
	}
	c.next += k
	return nil
}

// Written returns the number of columns written.
func (c *ColumnWriter) Written() int { return c.next }

// ColumnReader reads blocks of columns of a 1-D or 2-D array of float32,
// float64 or int32/int64 values (little-endian, C order; 1-D is one row)
// from r without reading the rest.
type ColumnReader struct {
	r          io.ReaderAt
	rows, cols int
	data       int64
	descr      string
	size       int
	buf        []byte
}

// NewColumnReader reads the header of the array in r (of size bytes, to
// check that its data is all there).
func NewColumnReader(r io.ReaderAt, size int64) (*ColumnReader, error) {
	h, err := ReadHeader(bufio.NewReader(io.NewSectionReader(r, 0, size)))
	if err != nil {
		return nil, err
	}
	c := &ColumnReader{r: r, rows: 1, descr: h.Descr, size: h.elemSize(), data: h.Len}
	switch len(h.Shape) {
	case 1:
		c.cols = h.Shape[0]
	case 2:
		c.rows, c.cols = h.Shape[0], h.Shape[1]
	default:
		return nil, fmt.Errorf("%w: %d-D array, want 1-D or 2-D (dims, frames)", ErrFormat, len(h.Shape))
	}
	if c.cols == 0 && c.rows > maxEmptyRows {
		return nil, fmt.Errorf("%w: shape %v too large", ErrFormat, h.Shape)
	}
	if need := c.data + int64(c.rows)*int64(c.cols)*int64(c.size); need > size {
		return nil, fmt.Errorf("%w: data truncated: %d bytes of %d", ErrFormat, size, need)
	}
	return c, nil
}

// Rows and Cols return the array's shape.
func (c *ColumnReader) Rows() int { return c.rows }

// Cols returns the number of columns.
func (c *ColumnReader) Cols() int { return c.cols }

// ReadCols fills dst[i] (one slice per row, all of the same length k) with
// the values of row i at columns c0 to c0+k, as float32.
func (c *ColumnReader) ReadCols(dst [][]float32, c0 int) error {
	if len(dst) != c.rows {
		panic(fmt.Sprintf("npy: ReadCols: %d rows, the array has %d", len(dst), c.rows))
	}
	for i, row := range dst {
		k := len(row)
		if c0 < 0 || c0+k > c.cols {
			panic(fmt.Sprintf("npy: ReadCols: columns %d to %d of %d", c0, c0+k, c.cols))
		}
		if cap(c.buf) < k*c.size {
			c.buf = make([]byte, k*c.size)
		}
		b := c.buf[:k*c.size]
		off := c.data + int64(c.size)*(int64(i)*int64(c.cols)+int64(c0))
		if _, err := c.r.ReadAt(b, off); err != nil {
			return fmt.Errorf("npy: row %d, columns %d to %d: %w", i, c0, c0+k, err)
		}
		for j := range row {
			row[j] = decode(c.descr, b[j*c.size:])
		}
	}
	return nil
}
