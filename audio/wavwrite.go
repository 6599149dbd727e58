package audio

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// SampleFormat selects how WriteWAV stores samples.
type SampleFormat int

// Sample formats for WriteWAV.
const (
	// Int16 is 16-bit PCM: round(x·32768) clipped to [-32768, 32767].
	Int16 SampleFormat = iota
	// Int24 is 24-bit PCM: round(x·2^23) clipped to [-2^23, 2^23-1].
	Int24
	// Float32 is 32-bit IEEE float, stored unchanged (values may exceed ±1).
	Float32
)

// String returns the format's name.
func (f SampleFormat) String() string {
	switch f {
	case Int16:
		return "int16"
	case Int24:
		return "int24"
	case Float32:
		return "float32"
	}
	return fmt.Sprintf("SampleFormat(%d)", int(f))
}

// bytes returns the size of one sample.
func (f SampleFormat) bytes() int {
	switch f {
	case Int16:
		return 2
	case Int24:
		return 3
	case Float32:
		return 4
	}
	return 0
}

// WriteWAV writes channels (planar, equal lengths; pass [][]float32{x} for
// mono) as a WAV file at path. The file is written atomically: to a temporary
// file in the same folder, synced, then renamed over path, so readers never
// see a partial file.
func WriteWAV(path string, channels [][]float32, rate int, format SampleFormat) error {
	err := writeFileAtomic(path, func(w io.Writer) error {
		return writeWAV(w, channels, rate, format)
	})
	if err != nil {
		return fmt.Errorf("audio: write %s: %w", path, err)
	}
	return nil
}

// WriteWAVTo writes channels as a WAV stream to w; see WriteWAV. Files with
// more than two channels or 24-bit samples use WAVE_FORMAT_EXTENSIBLE; float
// files carry a fact chunk.
func WriteWAVTo(w io.Writer, channels [][]float32, rate int, format SampleFormat) error {
	if err := writeWAV(w, channels, rate, format); err != nil {
		return fmt.Errorf("audio: write wav: %w", err)
	}
	return nil
}

func writeWAV(w io.Writer, channels [][]float32, rate int, format SampleFormat) error {
	ch := len(channels)
	if ch == 0 {
		return checkFormat(ch, rate)
	}
	frames := len(channels[0])
	for c, x := range channels {
		if len(x) != frames {
			return fmt.Errorf("channel %d has %d frames, channel 0 has %d", c, len(x), frames)
		}
	}
	h, err := wavHeader(ch, rate, format, int64(frames))
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.Write(h); err != nil {
		return err
	}
	blockAlign := ch * format.bytes()
	const block = 4096 // frames interleaved per write
	buf := make([]byte, block*blockAlign)
	for start := 0; start < frames; start += block {
		n := min(block, frames-start)
		p := buf[:n*blockAlign]
		interleave(p, channels, start, n, format)
		if _, err := bw.Write(p); err != nil {
			return err
		}
	}
	if (int64(frames)*int64(blockAlign))&1 != 0 {
		if err := bw.WriteByte(0); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// interleave encodes frames [start, start+n) of channels into p.
func interleave(p []byte, channels [][]float32, start, n int, format SampleFormat) {
	bps := format.bytes()
	blockAlign := len(channels) * bps
	for c, x := range channels {
		encodeSamples(p[c*bps:], blockAlign, x[start:start+n], format)
	}
}

// wavHeader returns the header of a WAV file of the given shape (RIFF,
// fmt, fact for float samples, and the data chunk's header), or an error
// for a shape WAV cannot hold.
func wavHeader(ch, rate int, format SampleFormat, frames int64) ([]byte, error) {
	if err := checkFormat(ch, rate); err != nil {
		return nil, err
	}
	bps := format.bytes()
	if bps == 0 {
		return nil, fmt.Errorf("unknown sample format %d", int(format))
	}
	blockAlign := ch * bps
	dataLen := frames * int64(blockAlign)

	tag := wavFormatPCM
	if format == Float32 {
		tag = wavFormatFloat
	}
	extensible := ch > 2 || format == Int24
	fmtLen := 16
	switch {
	case extensible:
		fmtLen = 40
	case tag == wavFormatFloat:
		fmtLen = 18 // cbSize = 0
	}
	factLen := 0
	if tag == wavFormatFloat {
		factLen = 8 + 4
	}
	riffLen := 4 + 8 + int64(fmtLen) + int64(factLen) + 8 + dataLen + dataLen&1
	if riffLen > math.MaxUint32 {
		return nil, fmt.Errorf("%d bytes of samples exceed the 4 GiB wav limit", dataLen)
	}

	le := binary.LittleEndian
	h := make([]byte, 0, 80)
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, uint32(riffLen))
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, uint32(fmtLen))
	if extensible {
		h = le.AppendUint16(h, wavFormatExtensible)
	} else {
		h = le.AppendUint16(h, uint16(tag))
	}
	h = le.AppendUint16(h, uint16(ch))
	h = le.AppendUint32(h, uint32(rate))
	h = le.AppendUint32(h, uint32(rate*blockAlign))
	h = le.AppendUint16(h, uint16(blockAlign))
	h = le.AppendUint16(h, uint16(8*bps))
	switch {
	case extensible:
		h = le.AppendUint16(h, 22)            // cbSize
		h = le.AppendUint16(h, uint16(8*bps)) // valid bits per sample
		h = le.AppendUint32(h, 0)             // channel mask: unspecified
		h = le.AppendUint16(h, uint16(tag))   // sub-format GUID: tag + fixed tail
		h = append(h, wavGUIDSuffix...)
	case fmtLen == 18:
		h = le.AppendUint16(h, 0)
	}
	if factLen > 0 {
		h = append(h, "fact"...)
		h = le.AppendUint32(h, 4)
		h = le.AppendUint32(h, uint32(frames))
	}
	h = append(h, "data"...)
	h = le.AppendUint32(h, uint32(dataLen))
	return h, nil
}

// encodeSamples writes x into p with the given stride (bytes between frames).
func encodeSamples(p []byte, stride int, x []float32, format SampleFormat) {
	switch format {
	case Int16:
		for i, v := range x {
			s := uint16(quantize(v, 1<<15))
			p[i*stride] = byte(s)
			p[i*stride+1] = byte(s >> 8)
		}
	case Int24:
		for i, v := range x {
			s := uint32(quantize(v, 1<<23))
			o := i * stride
			p[o], p[o+1], p[o+2] = byte(s), byte(s>>8), byte(s>>16)
		}
	case Float32:
		for i, v := range x {
			binary.LittleEndian.PutUint32(p[i*stride:], math.Float32bits(v))
		}
	}
}

// quantize returns round(x·scale) clipped to [-scale, scale-1], rounding
// halves away from zero; NaN maps to 0.
func quantize(x float32, scale int32) int32 {
	v := float64(x) * float64(scale)
	switch {
	case v >= float64(scale-1):
		return scale - 1
	case v <= -float64(scale):
		return -scale
	case v != v:
		return 0
	}
	return int32(math.Round(v))
}
