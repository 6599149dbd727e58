// Package rvz reads and writes RAVE Station's compressed audio files
// (.rvz): the quantised latent-PCA coordinates of a signal, encoded by a
// RAVE model, with the hash of the model that decodes them.
//
// # Layout (version 1, little-endian)
//
//	offset  size  field
//	0       4     magic "RAVZ"
//	4       2     format version (1)
//	6       1     bits per code (1–16)
//	7       1     flags: bit 0 set = decode with the missing PCA dimensions
//	              at zero (deterministic), clear = N(0,1) noise (reference)
//	8       32    model hash (SHA-256, model.(*Model).Hash)
//	40      4     sample rate (Hz)
//	44      4     compression ratio (audio samples per latent frame)
//	48      8     original length (samples)
//	56      4     latent frames = ⌈length / ratio⌉
//	60      2     dims k (kept PCA dimensions)
//	62      2     reserved (0)
//	64      4     CRC-32 (IEEE) of bytes 0–63
//	68      8·k   quantiser per dim: offset, step (float32 each)
//	68+8k   ⌈frames·k·bits/8⌉  codes, frame-major (frame 0: dims 0…k−1,
//	              then frame 1, …), bits each, packed MSB first, the last
//	              byte zero-padded
//	end−4   4     CRC-32 (IEEE) of every preceding byte
//
// A latent value is offset + step·code. The header has its own checksum so
// that a damaged size field is reported as corruption rather than as a
// truncated file.
//
// # Errors
//
// Read never panics: a file that is not an .rvz file or is damaged gives an
// error wrapping ErrCorrupt, a short one ErrTruncated, one written by a
// newer format ErrVersion (naming its version); CheckModel gives
// ErrModelMismatch naming both hashes. Check them with errors.Is.
package rvz

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

const (
	// Magic opens every .rvz file.
	Magic = "RAVZ"
	// Version is the format version this package writes and reads.
	Version = 1
	// HeaderSize is the size of the fixed header, its checksum included.
	HeaderSize = 68
	// MaxBits is the largest code width.
	MaxBits = 16
	// MaxPayload bounds the quantiser and codes of a file (1 GiB), so a
	// damaged header cannot make Read allocate without limit.
	MaxPayload = 1 << 30

	flagZeroFill = 1
)

// Sentinel errors, wrapped with details.
var (
	ErrCorrupt       = errors.New("rvz: corrupt file")
	ErrTruncated     = errors.New("rvz: truncated file")
	ErrVersion       = errors.New("rvz: unsupported format version")
	ErrModelMismatch = errors.New("rvz: file was made with another model")
)

// File is the content of an .rvz file.
type File struct {
	// ModelHash identifies the model that encoded (and must decode) the
	// latents.
	ModelHash [32]byte
	// SampleRate is the model's (and the signal's) sample rate in Hz.
	SampleRate int
	// Ratio is the number of audio samples per latent frame.
	Ratio int
	// Length is the number of samples of the original signal.
	Length int64
	// Bits is the width of every code (1–16).
	Bits int
	// ZeroFill says the missing PCA dimensions are decoded as zeros
	// instead of N(0,1) noise.
	ZeroFill bool
	// Offset and Step are the quantiser of each kept dimension: a value is
	// Offset[d] + Step[d]·code.
	Offset, Step []float32
	// Codes holds Frames()·Dims() codes, frame-major.
	Codes []uint16
}

// Dims returns the number of kept PCA dimensions.
func (f *File) Dims() int { return len(f.Offset) }

// Frames returns the number of latent frames, ⌈Length/Ratio⌉.
func (f *File) Frames() int {
	if f.Ratio <= 0 || f.Length <= 0 {
		return 0
	}
	return int((f.Length + int64(f.Ratio) - 1) / int64(f.Ratio))
}

// Latents returns the dequantised latents, dims × frames.
func (f *File) Latents() [][]float32 {
	k, n := f.Dims(), f.Frames()
	out := make([][]float32, k)
	for d := range k {
		row := make([]float32, n)
		for t := range row {
			row[t] = f.Offset[d] + f.Step[d]*float32(f.Codes[t*k+d])
		}
		out[d] = row
	}
	return out
}

// Size returns the number of bytes Write produces.
func (f *File) Size() int {
	return HeaderSize + 8*f.Dims() + codeBytes(f.Frames(), f.Dims(), f.Bits) + 4
}

// HeaderBytes returns the bytes of a file that are not latent codes: the
// header, the quantiser and the final checksum.
func (f *File) HeaderBytes() int { return f.Size() - codeBytes(f.Frames(), f.Dims(), f.Bits) }

func codeBytes(frames, dims, bits int) int {
	return (frames*dims*bits + 7) / 8
}

// Validate reports the first inconsistency in f.
func (f *File) Validate() error {
	k := f.Dims()
	switch {
	case f.SampleRate <= 0 || f.SampleRate > math.MaxUint32:
		return fmt.Errorf("sample rate %d", f.SampleRate)
	case f.Ratio <= 0 || f.Ratio > math.MaxUint32:
		return fmt.Errorf("compression ratio %d", f.Ratio)
	case f.Length <= 0:
		return fmt.Errorf("length %d", f.Length)
	case f.Frames() > math.MaxUint32:
		return fmt.Errorf("%d frames", f.Frames())
	case f.Bits < 1 || f.Bits > MaxBits:
		return fmt.Errorf("%d bits per code (1–%d)", f.Bits, MaxBits)
	case k < 1 || k > math.MaxUint16:
		return fmt.Errorf("%d dimensions", k)
	case len(f.Step) != k:
		return fmt.Errorf("%d offsets and %d steps", k, len(f.Step))
	case len(f.Codes) != f.Frames()*k:
		return fmt.Errorf("%d codes for %d frames × %d dims", len(f.Codes), f.Frames(), k)
	case 8*k+codeBytes(f.Frames(), k, f.Bits) > MaxPayload:
		return fmt.Errorf("payload of %d bytes exceeds %d", 8*k+codeBytes(f.Frames(), k, f.Bits), MaxPayload)
	}
	for d := range k {
		o, s := float64(f.Offset[d]), float64(f.Step[d])
		if math.IsNaN(o) || math.IsInf(o, 0) || math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
			return fmt.Errorf("dimension %d: quantiser offset %g step %g", d, o, s)
		}
	}
	limit := uint16(1<<f.Bits - 1)
	for i, c := range f.Codes {
		if c > limit {
			return fmt.Errorf("code %d is %d, more than %d bits", i, c, f.Bits)
		}
	}
	return nil
}

// Write encodes f to w.
func Write(w io.Writer, f File) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("rvz: write: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(f.Size())
	var h [HeaderSize]byte
	copy(h[0:4], Magic)
	binary.LittleEndian.PutUint16(h[4:], Version)
	h[6] = byte(f.Bits)
	if f.ZeroFill {
		h[7] = flagZeroFill
	}
	copy(h[8:40], f.ModelHash[:])
	binary.LittleEndian.PutUint32(h[40:], uint32(f.SampleRate))
	binary.LittleEndian.PutUint32(h[44:], uint32(f.Ratio))
	binary.LittleEndian.PutUint64(h[48:], uint64(f.Length))
	binary.LittleEndian.PutUint32(h[56:], uint32(f.Frames()))
	binary.LittleEndian.PutUint16(h[60:], uint16(f.Dims()))
	binary.LittleEndian.PutUint32(h[64:], crc32.ChecksumIEEE(h[:64]))
	buf.Write(h[:])
	var b4 [4]byte
	for d := range f.Dims() {
		binary.LittleEndian.PutUint32(b4[:], math.Float32bits(f.Offset[d]))
		buf.Write(b4[:])
		binary.LittleEndian.PutUint32(b4[:], math.Float32bits(f.Step[d]))
		buf.Write(b4[:])
	}
	buf.Write(packCodes(f.Codes, f.Bits))
	binary.LittleEndian.PutUint32(b4[:], crc32.ChecksumIEEE(buf.Bytes()))
	buf.Write(b4[:])
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("rvz: write: %w", err)
	}
	return nil
}

// Read decodes one .rvz file from r (reading exactly its bytes when r is
// not buffered more than that).
func Read(r io.Reader) (File, error) {
	var h [HeaderSize]byte
	if n, err := io.ReadFull(r, h[:]); err != nil {
		if n > 0 && n >= 4 && string(h[:4]) != Magic {
			return File{}, notRVZ(h[:4])
		}
		return File{}, readErr(err, "header", n, HeaderSize)
	}
	if string(h[:4]) != Magic {
		return File{}, notRVZ(h[:4])
	}
	if v := binary.LittleEndian.Uint16(h[4:]); v != Version {
		return File{}, fmt.Errorf("%w: the file has format version %d, this build reads version %d (update rave)", ErrVersion, v, Version)
	}
	if got, want := crc32.ChecksumIEEE(h[:64]), binary.LittleEndian.Uint32(h[64:]); got != want {
		return File{}, fmt.Errorf("%w: header checksum %08x, stored %08x", ErrCorrupt, got, want)
	}
	f := File{
		Bits:       int(h[6]),
		ZeroFill:   h[7]&flagZeroFill != 0,
		SampleRate: int(binary.LittleEndian.Uint32(h[40:])),
		Ratio:      int(binary.LittleEndian.Uint32(h[44:])),
	}
	copy(f.ModelHash[:], h[8:40])
	length := binary.LittleEndian.Uint64(h[48:])
	frames := int(binary.LittleEndian.Uint32(h[56:]))
	k := int(binary.LittleEndian.Uint16(h[60:]))
	switch {
	case h[7]&^flagZeroFill != 0 || h[62] != 0 || h[63] != 0:
		return File{}, fmt.Errorf("%w: unknown flags %#x or reserved bytes %#x %#x set", ErrCorrupt, h[7], h[62], h[63])
	case length == 0 || length > math.MaxInt64/2:
		return File{}, fmt.Errorf("%w: length %d", ErrCorrupt, length)
	}
	f.Length = int64(length)
	if f.Ratio <= 0 || f.Frames() != frames {
		return File{}, fmt.Errorf("%w: %d frames for %d samples at %d samples per frame", ErrCorrupt, frames, length, f.Ratio)
	}
	if f.Bits < 1 || f.Bits > MaxBits || k < 1 || f.SampleRate <= 0 {
		return File{}, fmt.Errorf("%w: %d bits, %d dimensions, %d Hz", ErrCorrupt, f.Bits, k, f.SampleRate)
	}
	nCodes := codeBytes(frames, k, f.Bits)
	payload := int64(8*k) + int64(nCodes)
	if payload > MaxPayload {
		return File{}, fmt.Errorf("%w: payload of %d bytes", ErrCorrupt, payload)
	}
	// Read incrementally: memory grows with the data actually present.
	var body bytes.Buffer
	if n, err := io.CopyN(&body, r, payload+4); err != nil {
		if errors.Is(err, io.EOF) {
			return File{}, fmt.Errorf("%w: %d of %d bytes after the header", ErrTruncated, n, payload+4)
		}
		return File{}, fmt.Errorf("rvz: read: %w", err)
	}
	b := body.Bytes()
	crc := crc32.Update(crc32.ChecksumIEEE(h[:]), crc32.IEEETable, b[:payload])
	if stored := binary.LittleEndian.Uint32(b[payload:]); crc != stored {
		return File{}, fmt.Errorf("%w: checksum %08x, stored %08x", ErrCorrupt, crc, stored)
	}
	f.Offset, f.Step = make([]float32, k), make([]float32, k)
	for d := range k {
		f.Offset[d] = math.Float32frombits(binary.LittleEndian.Uint32(b[8*d:]))
		f.Step[d] = math.Float32frombits(binary.LittleEndian.Uint32(b[8*d+4:]))
	}
	codes := b[8*k : payload]
	if pad := 8*nCodes - frames*k*f.Bits; pad > 0 && codes[nCodes-1]&(1<<pad-1) != 0 {
		return File{}, fmt.Errorf("%w: padding bits set in the last code byte", ErrCorrupt)
	}
	f.Codes = unpackCodes(codes, frames*k, f.Bits)
	if err := f.Validate(); err != nil {
		return File{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return f, nil
}

// ReadBytes is Read on an in-memory file; bytes after the file are an
// error.
func ReadBytes(b []byte) (File, error) {
	f, err := Read(bytes.NewReader(b))
	if err != nil {
		return File{}, err
	}
	if want := f.Size(); want != len(b) {
		return File{}, fmt.Errorf("%w: %d bytes after the file's %d", ErrCorrupt, len(b)-want, want)
	}
	return f, nil
}

// CheckModel returns an error wrapping ErrModelMismatch unless the file was
// made with the model whose hash is given.
func CheckModel(f File, hash [32]byte) error {
	if f.ModelHash != hash {
		return fmt.Errorf("%w: the file needs model %s, this model is %s", ErrModelMismatch, ShortHash(f.ModelHash), ShortHash(hash))
	}
	return nil
}

// ShortHash returns the first 16 hex digits of a model hash.
func ShortHash(h [32]byte) string { return hex.EncodeToString(h[:8]) }

func notRVZ(magic []byte) error {
	return fmt.Errorf("%w: not an .rvz file (starts with %q, want %q)", ErrCorrupt, magic, Magic)
}

func readErr(err error, what string, n, want int) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s has %d of %d bytes", ErrTruncated, what, n, want)
	}
	return fmt.Errorf("rvz: read %s: %w", what, err)
}

// packCodes packs codes of bits each, MSB first.
func packCodes(codes []uint16, bits int) []byte {
	out := make([]byte, 0, codeBytes(len(codes), 1, bits))
	var acc uint32
	n := 0
	for _, c := range codes {
		acc = acc<<bits | uint32(c)
		n += bits
		for n >= 8 {
			n -= 8
			out = append(out, byte(acc>>n))
		}
		acc &= 1<<n - 1
	}
	if n > 0 {
		out = append(out, byte(acc<<(8-n)))
	}
	return out
}

// unpackCodes reads count codes of bits each from b (MSB first).
func unpackCodes(b []byte, count, bits int) []uint16 {
	out := make([]uint16, count)
	var acc uint32
	n, i := 0, 0
	mask := uint32(1)<<bits - 1
	for j := range out {
		for n < bits {
			acc = acc<<8 | uint32(b[i])
			i++
			n += 8
		}
		n -= bits
		out[j] = uint16(acc >> n & mask)
		acc &= 1<<n - 1
	}
	return out
}
