package audio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// pcmLayout describes interleaved uncompressed sample data, as found in WAV
// and AIFF files.
type pcmLayout struct {
	tag        int // container-specific format tag (WAV wFormatTag)
	channels   int
	rate       int
	blockAlign int  // bytes per frame
	container  int  // bytes per sample: blockAlign / channels
	float      bool // IEEE float (container 4 or 8) rather than integer PCM
	bigEndian  bool
	unsigned8  bool // 8-bit samples are unsigned, centred on 128 (WAV)
}

// pcmBlockBytes is roughly how much sample data readPCM reads at a time.
const pcmBlockBytes = 256 << 10

// readPCM reads frames frames laid out as f from r into a new Buffer.
func readPCM(r io.Reader, f pcmLayout, frames int64) (*Buffer, error) {
	if frames*int64(f.channels) > MaxSamples {
		return nil, fmt.Errorf("%w: %d frames × %d channels", ErrTooLarge, frames, f.channels)
	}
	b := &Buffer{SampleRate: f.rate, Channels: make([][]float32, f.channels)}
	for c := range b.Channels {
		b.Channels[c] = make([]float32, frames)
	}
	blockFrames := max(1, pcmBlockBytes/f.blockAlign)
	buf := make([]byte, blockFrames*f.blockAlign)
	for done := int64(0); done < frames; {
		nf := int(min(int64(blockFrames), frames-done))
		p := buf[:nf*f.blockAlign]
		if n, err := io.ReadFull(r, p); err != nil {
			return nil, fmt.Errorf("%w: data ends after %d of %d frames (%v)",
				ErrTruncated, done+int64(n/f.blockAlign), frames, err)
		}
		if err := f.convert(b.Channels, int(done), p); err != nil {
			return nil, err
		}
		done += int64(nf)
	}
	return b, nil
}

// convert decodes the interleaved frames in p into dst[c][at:at+len(p)/blockAlign].
// Integer samples are left-justified in their container, so scaling by the
// container width is right whatever the valid bit count.
func (f pcmLayout) convert(dst [][]float32, at int, p []byte) error {
	ba := f.blockAlign
	nf := len(p) / ba
	var u16 func([]byte) uint16 = binary.LittleEndian.Uint16
	var u32 func([]byte) uint32 = binary.LittleEndian.Uint32
	var u64 func([]byte) uint64 = binary.LittleEndian.Uint64
	if f.bigEndian {
		u16, u32, u64 = binary.BigEndian.Uint16, binary.BigEndian.Uint32, binary.BigEndian.Uint64
	}
	for c := range f.channels {
		out := dst[c][at : at+nf]
		off := c * f.container
		switch {
		case !f.float && f.container == 1 && f.unsigned8:
			for i := range out {
				out[i] = (float32(p[off+i*ba]) - 128) * (1.0 / 128)
			}
		case !f.float && f.container == 1:
			for i := range out {
				out[i] = float32(int8(p[off+i*ba])) * (1.0 / 128)
			}
		case !f.float && f.container == 2 && !f.bigEndian:
			// The common case, kept free of indirect calls.
			for i := range out {
				o := off + i*ba
				v := int16(uint16(p[o]) | uint16(p[o+1])<<8)
				out[i] = float32(v) * (1.0 / 32768)
			}
		case !f.float && f.container == 2:
			for i := range out {
				out[i] = float32(int16(u16(p[off+i*ba:]))) * (1.0 / 32768)
			}
		case !f.float && f.container == 3:
			lo, hi := 0, 2
			if f.bigEndian {
				lo, hi = 2, 0
			}
			for i := range out {
				o := off + i*ba
				v := int32(uint32(p[o+lo])<<8|uint32(p[o+1])<<16|uint32(p[o+hi])<<24) >> 8
				out[i] = float32(v) * (1.0 / (1 << 23))
			}
		case !f.float && f.container == 4:
			for i := range out {
				v := int32(u32(p[off+i*ba:]))
				out[i] = float32(float64(v) * (1.0 / (1 << 31)))
			}
		case f.float && f.container == 4:
			for i := range out {
				out[i] = math.Float32frombits(u32(p[off+i*ba:]))
			}
		case f.float && f.container == 8:
			for i := range out {
				out[i] = float32(math.Float64frombits(u64(p[off+i*ba:])))
			}
		default:
			panic(fmt.Sprintf("audio: pcm layout with %d-byte containers (float %v)", f.container, f.float))
		}
		if f.float {
			if i := firstNonFinite(out); i >= 0 {
				return fmt.Errorf("%w: non-finite sample at frame %d", ErrCorrupt, at+i)
			}
		}
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or ±Inf in x, or -1.
func firstNonFinite(x []float32) int {
	for i, v := range x {
		if v-v != 0 { // NaN or ±Inf
			return i
		}
	}
	return -1
}
