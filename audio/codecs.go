package audio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/hajimehoshi/go-mp3"
	"github.com/jfreymuth/oggvorbis"
	"github.com/mewkiz/flac"
)

// maxPrealloc caps how many frames per channel a decoder reserves up front
// from a header's length field, which may be corrupt; buffers grow beyond it.
const maxPrealloc = 1 << 20

// decodeFLAC decodes a native FLAC stream with github.com/mewkiz/flac.
func decodeFLAC(r io.Reader) (*Buffer, error) {
	s, err := flac.New(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	info := s.Info
	ch, rate := int(info.NChannels), int(info.SampleRate)
	if err := checkFormat(ch, rate); err != nil {
		return nil, err
	}
	if info.BitsPerSample < 4 || info.BitsPerSample > 32 {
		return nil, fmt.Errorf("%w: %d bits per sample", ErrCorrupt, info.BitsPerSample)
	}
	b := newBuffer(rate, ch, int(min(info.NSamples, maxPrealloc)))
	for {
		fr, err := s.ParseNext()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: stream ends inside a frame after %d frames", ErrTruncated, b.Frames())
			}
			return nil, fmt.Errorf("%w: frame at sample %d: %v", ErrCorrupt, b.Frames(), err)
		}
		if len(fr.Subframes) != ch {
			return nil, fmt.Errorf("%w: frame with %d channels in a %d-channel stream", ErrCorrupt, len(fr.Subframes), ch)
		}
		bps := uint(fr.BitsPerSample)
		if bps == 0 {
			bps = uint(info.BitsPerSample)
		}
		if bps < 4 || bps > 32 {
			return nil, fmt.Errorf("%w: frame with %d bits per sample", ErrCorrupt, bps)
		}
		n := len(fr.Subframes[0].Samples)
		if int64(b.Frames()+n)*int64(ch) > MaxSamples {
			return nil, fmt.Errorf("%w: more than %d samples", ErrTooLarge, int64(MaxSamples))
		}
		scale := 1 / float32(int64(1)<<(bps-1))
		for c, sf := range fr.Subframes {
			if len(sf.Samples) != n {
				return nil, fmt.Errorf("%w: subframes of unequal length", ErrCorrupt)
			}
			out := b.Channels[c]
			for _, v := range sf.Samples {
				out = append(out, float32(v)*scale)
			}
			b.Channels[c] = out
		}
	}
	if info.NSamples > 0 && uint64(b.Frames()) < info.NSamples {
		return nil, fmt.Errorf("%w: stream info announces %d frames, found %d", ErrTruncated, info.NSamples, b.Frames())
	}
	return b, nil
}

// decodeMP3 decodes MPEG layer III with github.com/hajimehoshi/go-mp3, which
// always produces 16-bit stereo. When both channels come out identical (a
// mono source) the buffer is reduced to one channel. The output includes the
// encoder's and decoder's delay (typically 1–2k frames of leading silence)
// and the padding of the last frame.
func decodeMP3(r io.Reader) (*Buffer, error) {
	// A plain reader (not a Seeker) stops go-mp3 pre-scanning the whole file.
	d, err := mp3.NewDecoder(bufio.NewReader(r))
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: no complete mp3 frame", ErrEmpty)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if err := checkFormat(2, d.SampleRate()); err != nil {
		return nil, err
	}
	b := newBuffer(d.SampleRate(), 2, 0)
	buf := make([]byte, 4*4608)
	for {
		n, err := io.ReadFull(d, buf)
		n -= n % 4
		if int64(b.Frames()+n/4)*2 > MaxSamples {
			return nil, fmt.Errorf("%w: more than %d samples", ErrTooLarge, int64(MaxSamples))
		}
		for i := 0; i < n; i += 4 {
			l := int16(uint16(buf[i]) | uint16(buf[i+1])<<8)
			r := int16(uint16(buf[i+2]) | uint16(buf[i+3])<<8)
			b.Channels[0] = append(b.Channels[0], float32(l)*(1.0/32768))
			b.Channels[1] = append(b.Channels[1], float32(r)*(1.0/32768))
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: after %d frames: %v", ErrCorrupt, b.Frames(), err)
		}
	}
	if slices.Equal(b.Channels[0], b.Channels[1]) {
		b.Channels = b.Channels[:1]
	}
	return b, nil
}

// decodeOgg decodes Ogg Vorbis with github.com/jfreymuth/oggvorbis. The
// decoder clamps its output to [-1, 1].
func decodeOgg(r io.Reader) (*Buffer, error) {
	// A plain reader (not a Seeker): with a Seeker the library sizes its
	// buffer from the last page's granule position, which may be corrupt.
	or, err := oggvorbis.NewReader(bufio.NewReader(r))
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: stream ends inside the vorbis headers", ErrTruncated)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	ch := or.Channels()
	if err := checkFormat(ch, or.SampleRate()); err != nil {
		return nil, err
	}
	b := newBuffer(or.SampleRate(), ch, 0)
	buf := make([]float32, 4096*ch)
	for {
		n, err := or.Read(buf)
		n -= n % ch
		if int64(b.Frames()+n/ch)*int64(ch) > MaxSamples {
			return nil, fmt.Errorf("%w: more than %d samples", ErrTooLarge, int64(MaxSamples))
		}
		if i := firstNonFinite(buf[:n]); i >= 0 {
			return nil, fmt.Errorf("%w: non-finite sample at frame %d", ErrCorrupt, b.Frames()+i/ch)
		}
		for c := range ch {
			out := b.Channels[c]
			for i := c; i < n; i += ch {
				out = append(out, buf[i])
			}
			b.Channels[c] = out
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: stream ends inside a page after %d frames", ErrTruncated, b.Frames())
		}
		if err != nil {
			return nil, fmt.Errorf("%w: after %d frames: %v", ErrCorrupt, b.Frames(), err)
		}
		if n == 0 {
			return nil, fmt.Errorf("%w: decoder made no progress", ErrCorrupt)
		}
	}
	return b, nil
}
