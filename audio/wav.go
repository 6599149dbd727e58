package audio

import (
	"encoding/binary"
	"fmt"
	"io"
)

// WAV format tags (the wFormatTag field of the fmt chunk).
const (
	wavFormatPCM        = 0x0001
	wavFormatFloat      = 0x0003
	wavFormatExtensible = 0xfffe
)

// wavGUIDSuffix is the fixed tail of the KSDATAFORMAT_SUBTYPE GUIDs used by
// WAVE_FORMAT_EXTENSIBLE; the first two bytes hold the format tag.
const wavGUIDSuffix = "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

// decodeWAV parses a RIFF/WAVE (or RF64) stream starting at offset 0 of r.
//
// Reference: Microsoft "Multimedia Programming Interface and Data
// Specifications 1.0" (RIFF/WAVE), "WAVE_FORMAT_EXTENSIBLE" (mmreg.h,
// ksmedia.h), EBU Tech 3306 (RF64).
func decodeWAV(r io.ReadSeeker) (*Buffer, error) {
	f, frames, err := openWAV(r)
	if err != nil {
		return nil, err
	}
	return readPCM(r, f, frames)
}

// openWAV parses the header of a RIFF/WAVE (or RF64) stream starting at
// offset 0 of r and leaves r at the first sample frame; it returns the
// sample layout and the number of frames.
func openWAV(r io.ReadSeeker) (pcmLayout, int64, error) {
	size, err := streamSize(r)
	if err != nil {
		return pcmLayout{}, 0, err
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return pcmLayout{}, 0, fmt.Errorf("%w: riff header", ErrTruncated)
	}
	rf64 := string(hdr[:4]) == "RF64"
	riffLen := int64(binary.LittleEndian.Uint32(hdr[4:]))
	pos := int64(12)

	var (
		fmtChunk    []byte
		dataPos     int64 = -1
		dataLen     int64
		ds64DataLen int64 = -1
		chunk       [8]byte
		dataToEOF   bool
	)
	for fmtChunk == nil || dataPos < 0 {
		if size-pos < 8 {
			switch {
			case fmtChunk == nil && dataPos < 0 && size-pos == 0:
				return pcmLayout{}, 0, fmt.Errorf("%w: no fmt or data chunk", ErrCorrupt)
			case fmtChunk == nil:
				return pcmLayout{}, 0, fmt.Errorf("%w: no fmt chunk", ErrCorrupt)
			default:
				return pcmLayout{}, 0, fmt.Errorf("%w: no data chunk", ErrCorrupt)
			}
		}
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return pcmLayout{}, 0, err
		}
		if _, err := io.ReadFull(r, chunk[:]); err != nil {
			return pcmLayout{}, 0, fmt.Errorf("%w: chunk header at byte %d", ErrTruncated, pos)
		}
		id := string(chunk[:4])
		n := int64(binary.LittleEndian.Uint32(chunk[4:]))
		pos += 8
		left := size - pos
		switch id {
		case "fmt ":
			if n < 16 {
				return pcmLayout{}, 0, fmt.Errorf("%w: fmt chunk of %d bytes", ErrCorrupt, n)
			}
			if n > left {
				return pcmLayout{}, 0, fmt.Errorf("%w: fmt chunk needs %d bytes, %d left", ErrTruncated, n, left)
			}
			fmtChunk = make([]byte, min(n, 40))
			if _, err := io.ReadFull(r, fmtChunk); err != nil {
				return pcmLayout{}, 0, fmt.Errorf("%w: fmt chunk", ErrTruncated)
			}
		case "ds64":
			if rf64 && n >= 16 && n <= left {
				var b [16]byte
				if _, err := io.ReadFull(r, b[:]); err != nil {
					return pcmLayout{}, 0, fmt.Errorf("%w: ds64 chunk", ErrTruncated)
				}
				ds64DataLen = int64(binary.LittleEndian.Uint64(b[8:]))
			}
		case "data":
			dataPos = pos
			switch {
			case rf64 && n == 0xffffffff && ds64DataLen >= 0:
				n = ds64DataLen
			case streamedWAV(n, riffLen, left, size):
				// Streamed WAV: the writer never patched the size. Read to EOF.
				n, dataToEOF = left, true
			}
			if n > left || n < 0 {
				return pcmLayout{}, 0, fmt.Errorf("%w: data chunk announces %d bytes, %d present", ErrTruncated, n, left)
			}
			dataLen = n
		}
		if dataToEOF {
			break
		}
		if id != "data" && n > left {
			return pcmLayout{}, 0, fmt.Errorf("%w: %q chunk announces %d bytes, %d left", ErrTruncated, id, n, left)
		}
		pos += n + n&1 // chunks are padded to an even size
	}

	if fmtChunk == nil {
		return pcmLayout{}, 0, fmt.Errorf("%w: no fmt chunk before the data", ErrCorrupt)
	}
	f, err := parseWAVFormat(fmtChunk)
	if err != nil {
		return pcmLayout{}, 0, err
	}
	if dataPos < 0 {
		return pcmLayout{}, 0, fmt.Errorf("%w: no data chunk", ErrCorrupt)
	}
	if _, err := r.Seek(dataPos, io.SeekStart); err != nil {
		return pcmLayout{}, 0, err
	}
	return f, dataLen / int64(f.blockAlign), nil
}

// streamedWAV reports whether a data chunk size n is a placeholder left by a
// writer that could not seek back (a pipe), rather than a real length: 0 or
// 0xFFFFFFFF (ffmpeg and others), or a size near 2 GiB such as sox's
// 0x7FFFF000 with a RIFF size that also overshoots the file. An honest 0 is
// recognised by a RIFF size that matches the file exactly.
func streamedWAV(n, riffLen, left, size int64) bool {
	const placeholder = 0x7fff0000
	switch {
	case n == 0xffffffff:
		return true
	case n == 0:
		return riffLen+8 != size
	case n > left && n >= placeholder && riffLen+8 > size && riffLen >= placeholder:
		return true
	}
	return false
}

// parseWAVFormat validates a fmt chunk (16 to 40 bytes).
func parseWAVFormat(c []byte) (pcmLayout, error) {
	le := binary.LittleEndian
	tag := int(le.Uint16(c[0:]))
	f := pcmLayout{
		tag:        tag,
		channels:   int(le.Uint16(c[2:])),
		rate:       int(le.Uint32(c[4:])),
		blockAlign: int(le.Uint16(c[12:])),
	}
	bits := int(le.Uint16(c[14:]))
	if tag == wavFormatExtensible {
		if len(c) < 40 || le.Uint16(c[16:]) < 22 {
			return f, fmt.Errorf("%w: extensible fmt chunk of %d bytes", ErrCorrupt, len(c))
		}
		guid := c[24:40]
		if string(guid[2:]) != wavGUIDSuffix {
			return f, fmt.Errorf("%w: wav extensible sub-format GUID % x", ErrUnsupportedFormat, guid)
		}
		f.tag = int(le.Uint16(guid))
	}
	if err := checkFormat(f.channels, f.rate); err != nil {
		return f, err
	}
	if f.blockAlign == 0 { // some writers leave it unset
		f.blockAlign = f.channels * ((bits + 7) / 8)
	}
	f.float = f.tag == wavFormatFloat
	f.unsigned8 = true
	if f.blockAlign%f.channels != 0 {
		return f, fmt.Errorf("%w: block align %d for %d channels", ErrCorrupt, f.blockAlign, f.channels)
	}
	f.container = f.blockAlign / f.channels
	if f.container < (bits+7)/8 {
		return f, fmt.Errorf("%w: %d-bit samples in %d-byte containers", ErrCorrupt, bits, f.container)
	}
	switch f.tag {
	case wavFormatPCM:
		if f.container < 1 || f.container > 4 || bits == 0 {
			return f, fmt.Errorf("%w: %d-bit pcm wav", ErrUnsupportedFormat, bits)
		}
	case wavFormatFloat:
		if f.container != 4 && f.container != 8 {
			return f, fmt.Errorf("%w: %d-bit float wav", ErrUnsupportedFormat, bits)
		}
	default:
		return f, fmt.Errorf("%w: wav codec 0x%04x (only pcm and ieee float)", ErrUnsupportedFormat, f.tag)
	}
	return f, nil
}
