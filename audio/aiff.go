package audio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// decodeAIFF parses an AIFF or uncompressed AIFF-C stream starting at offset
// 0 of r. AIFF-C compression types NONE, twos, sowt, raw, fl32 and fl64 are
// supported; others are reported as ErrUnsupportedFormat.
//
// Reference: Apple "Audio Interchange File Format: AIFF, version 1.3" (1989)
// and "AIFF-C" draft (1991).
func decodeAIFF(r io.ReadSeeker) (*Buffer, error) {
	f, frames, err := openAIFF(r)
	if err != nil {
		return nil, err
	}
	return readPCM(r, f, frames)
}

// openAIFF parses the header of an AIFF or AIFF-C stream starting at
// offset 0 of r and leaves r at the first sample frame; it returns the
// sample layout and the number of frames.
func openAIFF(r io.ReadSeeker) (pcmLayout, int64, error) {
	size, err := streamSize(r)
	if err != nil {
		return pcmLayout{}, 0, err
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return pcmLayout{}, 0, fmt.Errorf("%w: form header", ErrTruncated)
	}
	aifc := string(hdr[8:12]) == "AIFC"
	pos := int64(12)
	var (
		comm      []byte
		ssndPos   int64 = -1
		ssndLen   int64
		chunk     [8]byte
		be        = binary.BigEndian
		commBytes = 18
	)
	if aifc {
		commBytes = 22
	}
	for comm == nil || ssndPos < 0 {
		if size-pos < 8 {
			if comm == nil {
				return pcmLayout{}, 0, fmt.Errorf("%w: no COMM chunk", ErrCorrupt)
			}
			return pcmLayout{}, 0, fmt.Errorf("%w: no SSND chunk", ErrCorrupt)
		}
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return pcmLayout{}, 0, err
		}
		if _, err := io.ReadFull(r, chunk[:]); err != nil {
			return pcmLayout{}, 0, fmt.Errorf("%w: chunk header at byte %d", ErrTruncated, pos)
		}
		id := string(chunk[:4])
		n := int64(be.Uint32(chunk[4:]))
		pos += 8
		left := size - pos
		if n > left {
			return pcmLayout{}, 0, fmt.Errorf("%w: %q chunk announces %d bytes, %d left", ErrTruncated, id, n, left)
		}
		switch id {
		case "COMM":
			if n < int64(commBytes) {
				return pcmLayout{}, 0, fmt.Errorf("%w: COMM chunk of %d bytes", ErrCorrupt, n)
			}
			comm = make([]byte, commBytes)
			if _, err := io.ReadFull(r, comm); err != nil {
				return pcmLayout{}, 0, fmt.Errorf("%w: COMM chunk", ErrTruncated)
			}
		case "SSND":
			if n < 8 {
				return pcmLayout{}, 0, fmt.Errorf("%w: SSND chunk of %d bytes", ErrCorrupt, n)
			}
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return pcmLayout{}, 0, fmt.Errorf("%w: SSND chunk", ErrTruncated)
			}
			offset := int64(be.Uint32(b[:4]))
			if offset > n-8 {
				return pcmLayout{}, 0, fmt.Errorf("%w: SSND offset %d beyond chunk", ErrCorrupt, offset)
			}
			ssndPos, ssndLen = pos+8+offset, n-8-offset
		}
		pos += n + n&1
	}

	f := pcmLayout{
		channels:  int(be.Uint16(comm[0:])),
		bigEndian: true,
	}
	frames := int64(be.Uint32(comm[2:]))
	bits := int(be.Uint16(comm[6:]))
	rate, ok := extended80(comm[8:18])
	if !ok || rate > math.MaxInt32 || rate < 0 {
		return pcmLayout{}, 0, fmt.Errorf("%w: sample rate field", ErrCorrupt)
	}
	f.rate = int(math.Round(rate))
	if err := checkFormat(f.channels, f.rate); err != nil {
		return pcmLayout{}, 0, err
	}
	comp := "NONE"
	if aifc {
		comp = string(comm[18:22])
	}
	switch comp {
	case "NONE", "twos", "raw ", "sowt":
		if bits < 1 || bits > 32 {
			return pcmLayout{}, 0, fmt.Errorf("%w: %d-bit aiff", ErrUnsupportedFormat, bits)
		}
		f.container = (bits + 7) / 8
		f.bigEndian = comp != "sowt"
		f.unsigned8 = comp == "raw "
		if comp == "raw " && bits != 8 {
			return pcmLayout{}, 0, fmt.Errorf("%w: %d-bit raw aiff-c", ErrUnsupportedFormat, bits)
		}
	case "fl32", "FL32":
		f.container, f.float = 4, true
	case "fl64", "FL64":
		f.container, f.float = 8, true
	default:
		return pcmLayout{}, 0, fmt.Errorf("%w: aiff-c compression %q", ErrUnsupportedFormat, comp)
	}
	f.blockAlign = f.container * f.channels
	if avail := ssndLen / int64(f.blockAlign); frames > avail {
		return pcmLayout{}, 0, fmt.Errorf("%w: COMM announces %d frames, SSND holds %d", ErrTruncated, frames, avail)
	}
	if _, err := r.Seek(ssndPos, io.SeekStart); err != nil {
		return pcmLayout{}, 0, err
	}
	return f, frames, nil
}

// extended80 decodes an IEEE 754 80-bit extended float (big-endian), the
// type of the AIFF sample rate field.
func extended80(b []byte) (float64, bool) {
	exp := int(binary.BigEndian.Uint16(b[0:])&0x7fff) - 16383
	mant := binary.BigEndian.Uint64(b[2:])
	if b[0]&0x80 != 0 || exp > 64 || exp < -64 {
		return 0, false
	}
	return math.Ldexp(float64(mant), exp-63), true
}
