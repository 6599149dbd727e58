package audio

import (
	"errors"
	"fmt"
	"io"
	"iter"
)

// Stream yields mono float32 blocks at a fixed sample rate.
//
// Read fills dst and returns the number of samples written. It returns
// n < len(dst) only at the end of the stream, and then also io.EOF (or
// another error). The valid patterns are:
//
//   - n == len(dst), err == nil: more may follow;
//   - n < len(dst), err == io.EOF: the stream ended after n samples; later
//     calls return 0, io.EOF;
//   - n < len(dst), err != nil: the stream failed after n valid samples.
//
// A Read with len(dst) == 0 returns 0, nil until the end, when it may return
// io.EOF. The caller owns dst; a Stream never keeps it.
type Stream interface {
	Read(dst []float32) (n int, err error)
	SampleRate() int
}

// sliceStream is a Stream over a slice.
type sliceStream struct {
	x    []float32
	rate int
}

// NewSliceStream returns a Stream that reads x (not copied) at the given rate.
func NewSliceStream(x []float32, rate int) Stream {
	return &sliceStream{x: x, rate: rate}
}

func (s *sliceStream) Read(dst []float32) (int, error) {
	n := copy(dst, s.x)
	s.x = s.x[n:]
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

func (s *sliceStream) SampleRate() int { return s.rate }

// ReadAll reads s until io.EOF and returns everything it yielded. Any other
// error is returned with the samples read before it.
func ReadAll(s Stream) ([]float32, error) {
	var out []float32
	buf := make([]float32, 16384)
	for {
		n, err := s.Read(buf)
		if n > len(buf) || n < 0 {
			return out, fmt.Errorf("audio: stream read returned %d for a %d-sample buffer", n, len(buf))
		}
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if n < len(buf) {
			return out, fmt.Errorf("audio: stream read returned %d of %d samples without an error", n, len(buf))
		}
	}
}

// Blocks returns an iterator over consecutive blocks of exactly size samples
// from s. The last block is shorter when the stream length is not a multiple
// of size (it is never empty). The yielded slice is reused: it is valid only
// until the next iteration. A read error other than io.EOF is yielded once,
// with the samples read before it (possibly none), and ends the sequence.
// Blocks panics if size < 1.
func Blocks(s Stream, size int) iter.Seq2[[]float32, error] {
	if size < 1 {
		panic(fmt.Sprintf("audio: blocks: size %d < 1", size))
	}
	return func(yield func([]float32, error) bool) {
		buf := make([]float32, size)
		for {
			n, err := s.Read(buf)
			if errors.Is(err, io.EOF) {
				if n > 0 {
					yield(buf[:n], nil)
				}
				return
			}
			if err != nil {
				yield(buf[:n], err)
				return
			}
			if !yield(buf[:n], nil) {
				return
			}
		}
	}
}

// Reblock returns a Stream over s that calls s.Read with exactly size samples
// at a time (and so sees block-aligned reads, as a streaming model expects),
// whatever sizes its own callers ask for.
func Reblock(s Stream, size int) Stream {
	if size < 1 {
		panic(fmt.Sprintf("audio: reblock: size %d < 1", size))
	}
	return &reblock{src: s, buf: make([]float32, 0, size), size: size}
}

type reblock struct {
	src  Stream
	buf  []float32 // pending samples from the last block, buf[off:]
	off  int
	size int
	err  error // sticky error from src, reported once buf is drained
}

func (r *reblock) Read(dst []float32) (int, error) {
	n := 0
	for n < len(dst) {
		if r.off == len(r.buf) {
			if r.err != nil {
				return n, r.err
			}
			m, err := r.src.Read(r.buf[:r.size])
			r.buf, r.off = r.buf[:m], 0
			if err != nil {
				r.err = err
			} else if m < r.size {
				r.err = io.ErrNoProgress
			}
			continue
		}
		c := copy(dst[n:], r.buf[r.off:])
		r.off += c
		n += c
	}
	return n, nil
}

func (r *reblock) SampleRate() int { return r.src.SampleRate() }
