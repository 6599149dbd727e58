package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Header is what the header of a .npy array says: its little-endian
// element type and its shape.
type Header struct {
	// Descr is the element type without its byte-order mark: "f4", "f8",
	// "i4" or "i8".
	Descr string
	// Shape is the array's shape (empty for a scalar).
	Shape []int
	// Len is the header's length in bytes, magic and version included:
	// where the data starts.
	Len int64
}

// elemSize returns the bytes per element of h.Descr.
func (h Header) elemSize() int {
	return map[string]int{"f4": 4, "f8": 8, "i4": 4, "i8": 8}[h.Descr]
}

// Elements returns the number of elements of the shape.
func (h Header) Elements() int {
	n := 1
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

// ReadHeader reads the header of a .npy array: versions 1 to 3, C order,
// a little-endian float32, float64, int32 or int64 element type, at most
// maxElements elements. It reads nothing past the header.
func ReadHeader(r io.Reader) (Header, error) {
	pre := make([]byte, 8)
	if _, err := io.ReadFull(r, pre); err != nil || string(pre[:6]) != string(magic) {
		return Header{}, fmt.Errorf("%w: no .npy magic", ErrFormat)
	}
	var hlen, lenBytes int
	switch pre[6] {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return Header{}, fmt.Errorf("%w: truncated header", ErrFormat)
		}
		hlen, lenBytes = int(n), 2
	case 2, 3:
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return Header{}, fmt.Errorf("%w: truncated header", ErrFormat)
		}
		hlen, lenBytes = int(n), 4
	default:
		return Header{}, fmt.Errorf("%w: version %d.%d", ErrFormat, pre[6], pre[7])
	}
	if hlen > 1<<20 {
		return Header{}, fmt.Errorf("%w: header of %d bytes", ErrFormat, hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return Header{}, fmt.Errorf("%w: truncated header", ErrFormat)
	}
	s := string(hb)
	d, o, sh := descrRE.FindStringSubmatch(s), orderRE.FindStringSubmatch(s), shapeRE.FindStringSubmatch(s)
	switch {
	case d == nil || o == nil || sh == nil:
		return Header{}, fmt.Errorf("%w: header %q", ErrFormat, strings.TrimSpace(s))
	case o[1] == "True":
		return Header{}, fmt.Errorf("%w: Fortran order is not supported (save with np.ascontiguousarray)", ErrFormat)
	case strings.HasPrefix(d[1], ">"):
		return Header{}, fmt.Errorf("%w: big-endian data", ErrFormat)
	}
	h := Header{Descr: strings.TrimLeft(d[1], "<=|"), Len: int64(8 + lenBytes + hlen)}
	n := 1
	for _, p := range strings.Split(sh[1], ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, err := strconv.Atoi(p)
		if err != nil || k < 0 {
			return Header{}, fmt.Errorf("%w: shape %q", ErrFormat, sh[1])
		}
		if k > 0 && n > maxElements/k {
			return Header{}, fmt.Errorf("%w: shape (%s) too large", ErrFormat, sh[1])
		}
		n *= k
		h.Shape = append(h.Shape, k)
	}
	if h.elemSize() == 0 {
		return Header{}, fmt.Errorf("%w: dtype %s (want float32, float64, int32 or int64)", ErrFormat, d[1])
	}
	return h, nil
}

// ReadArray reads an array of any shape (as ReadHeader accepts) and
// returns its header and its values as float32, in C order. Memory grows
// with the data actually read, not with the shape the header claims.
func ReadArray(r io.Reader) (Header, []float32, error) {
	br := bufio.NewReader(r)
	h, err := ReadHeader(br)
	if err != nil {
		return Header{}, nil, err
	}
	n, size := h.Elements(), h.elemSize()
	const block = 1 << 14
	buf := make([]byte, size*min(n, block))
	data := make([]float32, 0, min(n, block))
	for len(data) < n {
		b := buf[:size*min(n-len(data), block)]
		if _, err := io.ReadFull(br, b); err != nil {
			return Header{}, nil, fmt.Errorf("%w: data truncated at value %d of %d", ErrFormat, len(data), n)
		}
		for i := 0; i < len(b); i += size {
			data = append(data, decode(h.Descr, b[i:]))
		}
	}
	return h, data, nil
}

// decode returns the value of type descr at the start of b as float32.
func decode(descr string, b []byte) float32 {
	switch descr {
	case "f4":
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	case "f8":
		return float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case "i4":
		return float32(int32(binary.LittleEndian.Uint32(b)))
	case "i8":
		return float32(int64(binary.LittleEndian.Uint64(b)))
	}
	return 0
}
