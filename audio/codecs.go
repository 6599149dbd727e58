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

// blockDecoder decodes a compressed stream (FLAC, MP3, Ogg Vorbis) a block
// at a time, so that Decode can gather the whole signal and FileStream can
// read one of any length in constant memory with the same samples.
type blockDecoder interface {
	// shape returns the channel count and the sample rate.
	shape() (channels, rate int)
	// next returns the next block of samples, one slice per channel, all
	// of the same length (at least 1); they stay valid until the next
	// call. At the end of the stream it returns io.EOF; other errors wrap
	// ErrCorrupt, ErrTruncated or ErrTooLarge.
	next() ([][]float32, error)
}

// newBlockDecoder returns the decoder of format f (FLAC, MP3 or Ogg
// Vorbis) reading r from the start of its audio data.
func newBlockDecoder(f Format, r io.Reader) (blockDecoder, error) {
	switch f {
	case FormatFLAC:
		return newFLACBlocks(r)
	case FormatMP3:
		return newMP3Blocks(r)
	case FormatOggVorbis:
		return newOggBlocks(r)
	}
	return nil, fmt.Errorf("%w: %s is not a compressed format", ErrUnsupportedFormat, f)
}

// decodeBlocks gathers every block of d into a Buffer, reserving room for
// hint frames per channel (at most maxPrealloc).
func decodeBlocks(d blockDecoder, hint int) (*Buffer, error) {
	ch, rate := d.shape()
	b := newBuffer(rate, ch, min(hint, maxPrealloc))
	for {
		blk, err := d.next()
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		for c, s := range blk {
			b.Channels[c] = append(b.Channels[c], s...)
		}
	}
}

// checkLength refuses a stream that would pass MaxSamples once n more
// frames of ch channels follow the frames already decoded.
func checkLength(frames int64, n, ch int) error {
	if (frames+int64(n))*int64(ch) > MaxSamples {
		return fmt.Errorf("%w: more than %d samples", ErrTooLarge, int64(MaxSamples))
	}
	return nil
}

// planarBlock returns blk resized to ch channels of n samples each.
func planarBlock(blk [][]float32, ch, n int) [][]float32 {
	if len(blk) != ch {
		blk = make([][]float32, ch)
	}
	for c := range blk {
		blk[c] = slices.Grow(blk[c][:0], n)[:n]
	}
	return blk
}

// decodeFLAC decodes a native FLAC stream with github.com/mewkiz/flac.
func decodeFLAC(r io.Reader) (*Buffer, error) {
	d, err := newFLACBlocks(r)
	if err != nil {
		return nil, err
	}
	return decodeBlocks(d, int(min(d.s.Info.NSamples, maxPrealloc)))
}

// flacBlocks decodes FLAC a frame at a time.
type flacBlocks struct {
	s      *flac.Stream
	ch     int
	frames int64
	blk    [][]float32
}

func newFLACBlocks(r io.Reader) (*flacBlocks, error) {
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
	return &flacBlocks{s: s, ch: ch}, nil
}

func (d *flacBlocks) shape() (int, int) { return d.ch, int(d.s.Info.SampleRate) }

func (d *flacBlocks) next() ([][]float32, error) {
	fr, err := d.s.ParseNext()
	if errors.Is(err, io.EOF) {
		if n := d.s.Info.NSamples; n > 0 && uint64(d.frames) < n {
			return nil, fmt.Errorf("%w: stream info announces %d frames, found %d", ErrTruncated, n, d.frames)
		}
		return nil, io.EOF
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: stream ends inside a frame after %d frames", ErrTruncated, d.frames)
		}
		return nil, fmt.Errorf("%w: frame at sample %d: %v", ErrCorrupt, d.frames, err)
	}
	if len(fr.Subframes) != d.ch {
		return nil, fmt.Errorf("%w: frame with %d channels in a %d-channel stream", ErrCorrupt, len(fr.Subframes), d.ch)
	}
	bps := uint(fr.BitsPerSample)
	if bps == 0 {
		bps = uint(d.s.Info.BitsPerSample)
	}
	if bps < 4 || bps > 32 {
		return nil, fmt.Errorf("%w: frame with %d bits per sample", ErrCorrupt, bps)
	}
	n := len(fr.Subframes[0].Samples)
	if err := checkLength(d.frames, n, d.ch); err != nil {
		return nil, err
	}
	if n == 0 {
		return d.next()
	}
	scale := 1 / float32(int64(1)<<(bps-1))
	d.blk = planarBlock(d.blk, d.ch, n)
	for c, sf := range fr.Subframes {
		if len(sf.Samples) != n {
			return nil, fmt.Errorf("%w: subframes of unequal length", ErrCorrupt)
		}
		out := d.blk[c]
		for i, v := range sf.Samples {
			out[i] = float32(v) * scale
		}
	}
	d.frames += int64(n)
	return d.blk, nil
}

// decodeMP3 decodes MPEG layer III with github.com/hajimehoshi/go-mp3, which
// always produces 16-bit stereo. When both channels come out identical (a
// mono source) the buffer is reduced to one channel. The output includes the
// encoder's and decoder's delay (typically 1–2k frames of leading silence)
// and the padding of the last frame.
func decodeMP3(r io.Reader) (*Buffer, error) {
	d, err := newMP3Blocks(r)
	if err != nil {
		return nil, err
	}
	b, err := decodeBlocks(d, 0)
	if err != nil {
		return nil, err
	}
	if slices.Equal(b.Channels[0], b.Channels[1]) {
		b.Channels = b.Channels[:1]
	}
	return b, nil
}

// mp3Blocks decodes MP3 a few frames at a time, always as two channels.
type mp3Blocks struct {
	d      *mp3.Decoder
	raw    []byte
	frames int64
	blk    [][]float32
	done   bool
}

func newMP3Blocks(r io.Reader) (*mp3Blocks, error) {
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
	return &mp3Blocks{d: d, raw: make([]byte, 4*4608)}, nil
}

func (d *mp3Blocks) shape() (int, int) { return 2, d.d.SampleRate() }

func (d *mp3Blocks) next() ([][]float32, error) {
	for !d.done {
		n, err := io.ReadFull(d.d, d.raw)
		n -= n % 4
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			d.done = true
		case err != nil:
			return nil, fmt.Errorf("%w: after %d frames: %v", ErrCorrupt, d.frames, err)
		}
		if n == 0 {
			continue
		}
		if err := checkLength(d.frames, n/4, 2); err != nil {
			return nil, err
		}
		d.blk = planarBlock(d.blk, 2, n/4)
		l, r := d.blk[0], d.blk[1]
		for i := 0; i < n; i += 4 {
			l[i/4] = float32(int16(uint16(d.raw[i])|uint16(d.raw[i+1])<<8)) * (1.0 / 32768)
			r[i/4] = float32(int16(uint16(d.raw[i+2])|uint16(d.raw[i+3])<<8)) * (1.0 / 32768)
		}
		d.frames += int64(n / 4)
		return d.blk, nil
	}
	return nil, io.EOF
}

// decodeOgg decodes Ogg Vorbis with github.com/jfreymuth/oggvorbis. The
// decoder clamps its output to [-1, 1].
func decodeOgg(r io.Reader) (*Buffer, error) {
	d, err := newOggBlocks(r)
	if err != nil {
		return nil, err
	}
	return decodeBlocks(d, 0)
}

// oggBlocks decodes Ogg Vorbis 4096 frames at a time.
type oggBlocks struct {
	or     *oggvorbis.Reader
	ch     int
	buf    []float32
	frames int64
	blk    [][]float32
	done   bool
}

func newOggBlocks(r io.Reader) (*oggBlocks, error) {
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
	return &oggBlocks{or: or, ch: ch, buf: make([]float32, 4096*ch)}, nil
}

func (d *oggBlocks) shape() (int, int) { return d.ch, d.or.SampleRate() }

func (d *oggBlocks) next() ([][]float32, error) {
	for !d.done {
		n, err := d.or.Read(d.buf)
		n -= n % d.ch
		if err := checkLength(d.frames, n/d.ch, d.ch); err != nil {
			return nil, err
		}
		if i := firstNonFinite(d.buf[:n]); i >= 0 {
			return nil, fmt.Errorf("%w: non-finite sample at frame %d", ErrCorrupt, d.frames+int64(i/d.ch))
		}
		switch {
		case errors.Is(err, io.EOF):
			d.done = true
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%w: stream ends inside a page after %d frames", ErrTruncated, d.frames+int64(n/d.ch))
		case err != nil:
			return nil, fmt.Errorf("%w: after %d frames: %v", ErrCorrupt, d.frames+int64(n/d.ch), err)
		case n == 0:
			return nil, fmt.Errorf("%w: decoder made no progress", ErrCorrupt)
		}
		if n == 0 {
			continue
		}
		k := n / d.ch
		d.blk = planarBlock(d.blk, d.ch, k)
		for c := range d.ch {
			out := d.blk[c]
			for i := range k {
				out[i] = d.buf[i*d.ch+c]
			}
		}
		d.frames += int64(k)
		return d.blk, nil
	}
	return nil, io.EOF
}
