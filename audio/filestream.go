package audio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// FileStream reads an audio file as a mono Stream (the mixdown of
// Buffer.Mono, sample for sample), a block at a time, so a file of any
// length costs a few hundred kilobytes. WAV (RIFF and RF64) and AIFF
// files are read once; FLAC, MP3 and Ogg Vorbis are decoded twice: once
// when the stream is opened, to learn their length (which their headers
// may not state, or state wrongly) and find every error Decode would, and
// again as they are read. The length is known from the start (Frames).
type FileStream struct {
	name   string
	format Format
	file   *os.File
	r      *bufio.Reader
	layout pcmLayout
	rate   int
	ch     int
	frames int64
	pos    int64
	raw    []byte
	planar [][]float32
	dec    blockDecoder // compressed formats: the second pass
	blk    [][]float32  // its current block, from boff on
	boff   int
	view   [][]float32
	err    error
}

// OpenStream opens the audio file at path for reading as a mono stream.
// Errors are those of Decode for the same file ("audio: decode NAME: …",
// wrapping ErrUnsupportedFormat, ErrCorrupt, ErrTruncated or ErrEmpty),
// except that problems inside the samples of a streamed file (a
// truncation found late, a non-finite float) surface from Read.
func OpenStream(path string) (*FileStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: decode %s: %w", path, err)
	}
	s, err := openStream(f, path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audio: decode %s: %w", path, err)
	}
	return s, nil
}

func openStream(f *os.File, name string) (*FileStream, error) {
	format, skip, err := sniff(f)
	if err != nil {
		return nil, err
	}
	s := &FileStream{name: name, format: format}
	if format != FormatWAV && format != FormatAIFF {
		if err := s.openCompressed(f, skip); err != nil {
			return nil, err
		}
		return s, nil
	}
	start, err := f.Seek(skip, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	sr := &offsetReader{r: f, base: start}
	var l pcmLayout
	var frames int64
	if format == FormatWAV {
		l, frames, err = openWAV(sr)
	} else {
		l, frames, err = openAIFF(sr)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}
	if frames == 0 {
		return nil, fmt.Errorf("%s: %w", format, ErrEmpty)
	}
	s.file, s.layout, s.rate, s.ch, s.frames = f, l, l.rate, l.channels, frames
	s.r = bufio.NewReaderSize(f, pcmBlockBytes)
	return s, nil
}

// openCompressed opens a FLAC, MP3 or Ogg Vorbis file whose audio data
// starts skip bytes after f's offset: a first pass counts its frames (and
// tells a mono MP3, whose decoder makes two equal channels, as Decode
// does), a second decoder is left at the start for Read.
func (s *FileStream) openCompressed(f *os.File, skip int64) error {
	start, err := f.Seek(skip, io.SeekCurrent)
	if err != nil {
		return err
	}
	var frames int64
	same := true
	err = guardErr(s.format, func() error {
		d, err := newBlockDecoder(s.format, &offsetReader{r: f, base: start})
		if err != nil {
			return err
		}
		s.ch, s.rate = d.shape()
		for {
			blk, err := d.next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			frames += int64(len(blk[0]))
			same = same && len(blk) == 2 && slices.Equal(blk[0], blk[1])
		}
	})
	if err == nil && frames == 0 {
		err = ErrEmpty
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.format, err)
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	err = guardErr(s.format, func() (err error) {
		s.dec, err = newBlockDecoder(s.format, &offsetReader{r: f, base: start})
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", s.format, err)
	}
	if s.format == FormatMP3 && same {
		s.ch = 1
	}
	s.file, s.frames = f, frames
	return nil
}

// readCompressed is Read for the compressed formats.
func (s *FileStream) readCompressed(dst []float32, want int) (int, error) {
	n := 0
	for n < want {
		if len(s.blk) == 0 || s.boff == len(s.blk[0]) {
			var blk [][]float32
			err := guardErr(s.format, func() (err error) {
				blk, err = s.dec.next()
				return err
			})
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = fmt.Errorf("%w: data ends after %d of %d frames (did the file change while it was read?)", ErrTruncated, s.pos, s.frames)
				}
				s.err = fmt.Errorf("audio: decode %s: %s: %w", s.name, s.format, err)
				return n, s.err
			}
			s.blk, s.boff = blk, 0
		}
		k := min(want-n, len(s.blk[0])-s.boff)
		s.view = s.view[:0]
		for _, c := range s.blk[:s.ch] {
			s.view = append(s.view, c[s.boff:s.boff+k])
		}
		mixDown(dst[n:n+k], s.view, k)
		s.boff += k
		n += k
		s.pos += int64(k)
	}
	return n, s.eof(n, len(dst))
}

// SampleRate returns the file's sample rate in Hz.
func (s *FileStream) SampleRate() int { return s.rate }

// Channels returns the file's channel count (the stream is their mix).
func (s *FileStream) Channels() int { return s.ch }

// Frames returns the file's length in sample frames.
func (s *FileStream) Frames() int64 { return s.frames }

// Format returns the file's format.
func (s *FileStream) Format() Format { return s.format }

// Read fills dst with the next mono samples; see Stream.
func (s *FileStream) Read(dst []float32) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	want := int(min(int64(len(dst)), s.frames-s.pos))
	if s.dec != nil {
		return s.readCompressed(dst, want)
	}
	ba := s.layout.blockAlign
	blockFrames := max(1, pcmBlockBytes/ba)
	if s.raw == nil {
		s.raw = make([]byte, blockFrames*ba)
		s.planar = make([][]float32, s.ch)
		for c := range s.planar {
			s.planar[c] = make([]float32, blockFrames)
		}
	}
	n := 0
	for n < want {
		nf := min(blockFrames, want-n)
		p := s.raw[:nf*ba]
		if got, err := io.ReadFull(s.r, p); err != nil {
			s.err = fmt.Errorf("audio: decode %s: %s: %w: data ends after %d of %d frames (%v)",
				s.name, s.format, ErrTruncated, s.pos+int64(got/ba), s.frames, err)
			return n, s.err
		}
		if err := s.layout.convert(s.planar, 0, p); err != nil {
			s.err = fmt.Errorf("audio: decode %s: %s: %w (counting from frame %d)", s.name, s.format, err, s.pos)
			return n, s.err
		}
		mixDown(dst[n:n+nf], s.planar, nf)
		n += nf
		s.pos += int64(nf)
	}
	return n, s.eof(n, len(dst))
}

// eof returns io.EOF for a short read (the end), nil otherwise.
func (s *FileStream) eof(n, want int) error {
	if n < want {
		s.err = io.EOF
		return io.EOF
	}
	return nil
}

// mixDown writes the first n frames of planar into dst as Buffer.Mono
// does: the channels summed in order, then scaled by 1/channels.
func mixDown(dst []float32, planar [][]float32, n int) {
	if len(planar) == 1 {
		copy(dst[:n], planar[0][:n])
		return
	}
	clear(dst[:n])
	for _, ch := range planar {
		for i, v := range ch[:n] {
			dst[i] += v
		}
	}
	scale := 1 / float32(len(planar))
	for i := range dst[:n] {
		dst[i] *= scale
	}
}

// Close releases the file; later reads fail.
func (s *FileStream) Close() error {
	if s.err == nil || errors.Is(s.err, io.EOF) {
		s.err = fmt.Errorf("audio: read %s: stream closed", s.name)
	}
	s.dec, s.blk = nil, nil
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}
