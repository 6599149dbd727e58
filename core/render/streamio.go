package render

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/audio/compare"
	"github.com/ravestation/rave/core/model"
)

// input is an audio file read as a mono stream at the model's rate:
// audio.FileStream, then an audio.Resampler, sample for sample what
// LoadAudio returns.
type input struct {
	fs      *audio.FileStream
	rs      *audio.Resampler
	srcRate int
	srcLen  int
	n       int // samples at the model's rate
	raw     []float32
	out     []float32 // resampled samples not yet read, from off on
	off     int
	done    bool
}

// inputBlock is the number of source samples read at a time.
const inputBlock = 1 << 16

// openInput opens an audio file for reading at rate Hz.
func openInput(path string, rate int) (*input, error) {
	fs, err := audio.OpenStream(path)
	if err != nil {
		return nil, err
	}
	rs, err := audio.NewResampler(fs.SampleRate(), rate, fs.Frames())
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("render: resample %s: %w", path, err)
	}
	return &input{fs: fs, rs: rs, srcRate: fs.SampleRate(), srcLen: int(fs.Frames()), n: int(rs.OutLen()), raw: make([]float32, inputBlock)}, nil
}

// Read fills dst with the next samples; it returns fewer only at the end,
// with io.EOF.
func (in *input) Read(dst []float32) (int, error) {
	n := 0
	for n < len(dst) {
		if in.off == len(in.out) {
			if in.done {
				return n, io.EOF
			}
			in.out, in.off = in.out[:0], 0
			k, err := in.fs.Read(in.raw)
			eof := errors.Is(err, io.EOF)
			if err != nil && !eof {
				return n, err
			}
			in.out = in.rs.Push(in.out, in.raw[:k])
			in.done = eof
			continue
		}
		c := copy(dst[n:], in.out[in.off:])
		in.off += c
		n += c
	}
	return n, nil
}

func (in *input) Close() error { return in.fs.Close() }

// wavSink writes a mono float WAV file of exactly want samples at rate
// Hz from a signal of n samples at the model's rate: resampled, then
// cropped or zero-extended, as File did with whole signals.
type wavSink struct {
	w       *audio.WAVWriter
	rs      *audio.Resampler
	want    int64
	written int64
	buf     []float32
}

func newWAVSink(path string, from, to, n, want int) (*wavSink, error) {
	rs, err := audio.NewResampler(from, to, int64(n))
	if err != nil {
		return nil, err
	}
	w, err := audio.CreateWAV(path, 1, to, audio.Float32)
	if err != nil {
		return nil, err
	}
	return &wavSink{w: w, rs: rs, want: int64(want)}, nil
}

// write takes the next samples at the model's rate.
func (s *wavSink) write(y []float32) error {
	s.buf = s.rs.Push(s.buf[:0], y)
	k := min(int64(len(s.buf)), s.want-s.written)
	if k <= 0 {
		return nil
	}
	s.written += k
	return s.w.Write([][]float32{s.buf[:k]})
}

// close zero-extends the file to its length and puts it in place.
func (s *wavSink) close() error {
	for s.written < s.want {
		k := min(s.want-s.written, 1<<16)
		if err := s.w.Write([][]float32{make([]float32, k)}); err != nil {
			s.w.Abort()
			return err
		}
		s.written += k
	}
	return s.w.Close()
}

func (s *wavSink) abort() { s.w.Abort() }

// loudnessMatcher is MatchLoudness for a signal that arrives in pieces:
// the gain of a frame is known once its samples are in, and a sample
// needs the gains of the two frames around it, so samples leave about
// half a frame after they arrive, scaled exactly as MatchLoudness scales
// them.
type loudnessMatcher struct {
	frame, n, frames int
	gains            []float64 // gains of frames gbase, gbase+1, …
	gbase            int
	y, ref           []float32 // pending samples from base on
	base             int
	ey, er           float64 // sums of the frame being measured
	measured         int     // samples measured into finished frames or the sums
}

func newLoudnessMatcher(frame, n int) *loudnessMatcher {
	return &loudnessMatcher{frame: frame, n: n, frames: (n + frame - 1) / frame}
}

// push takes the next output samples y and reference samples ref (equal
// lengths) and appends the scaled output samples that are ready to dst.
func (l *loudnessMatcher) push(dst, y, ref []float32) []float32 {
	l.y = append(l.y, y...)
	l.ref = append(l.ref, ref...)
	for ; l.measured < l.base+len(l.y); l.measured++ {
		i := l.measured - l.base
		l.ey += float64(l.y[i]) * float64(l.y[i])
		l.er += float64(l.ref[i]) * float64(l.ref[i])
		if end := l.measured + 1; end%l.frame == 0 || end == l.n {
			g := 1.0
			if l.ey > 1e-12 {
				g = math.Sqrt(l.er / l.ey)
			}
			l.gains = append(l.gains, min(max(g, 0.1), 10))
			l.ey, l.er = 0, 0
		}
	}
	known := l.gbase + len(l.gains) // frames with a gain
	i := l.base
	for ; i < l.base+len(l.y); i++ {
		pos := (float64(i)+0.5)/float64(l.frame) - 0.5
		f0 := int(math.Floor(pos))
		if min(max(f0+1, 0), l.frames-1) >= known {
			break
		}
		w := pos - float64(f0)
		g0 := l.gains[min(max(f0, 0), l.frames-1)-l.gbase]
		g1 := l.gains[min(max(f0+1, 0), l.frames-1)-l.gbase]
		dst = append(dst, l.y[i-l.base]*float32(g0*(1-w)+g1*w))
	}
	k := i - l.base
	l.y = append(l.y[:0], l.y[k:]...)
	l.ref = append(l.ref[:0], l.ref[k:]...)
	l.base = i
	// The next sample needs frames from ⌊(i+0.5)/frame − 0.5⌋ on.
	if keep := max(int(math.Floor((float64(i)+0.5)/float64(l.frame)-0.5)), 0); keep > l.gbase {
		drop := min(keep-l.gbase, len(l.gains))
		l.gains = append(l.gains[:0], l.gains[drop:]...)
		l.gbase += drop
	}
	return dst
}

// stats measures a render against its input as it is produced: the
// spectral distance (SpectralDistance) block by block and the pitch and
// level comparison (compare.Comparer). A signal of up to wholeBlock
// samples is one block, measured as a whole as before; a longer one is
// cut into blocks of distanceBlock samples, the last one taking the
// remainder, and the distance is the mean of the blocks' distances
// weighted by their lengths. Measuring costs about a third of a second
// per second of audio on the development machine, more than the render
// itself, so on a signal of more than measureBlocks blocks (about 5
// minutes at 48 kHz) only measureBlocks blocks evenly spread over it are
// measured, distance and comparison alike (Report.Measured says how
// much).
type stats struct {
	m        *model.Model
	n        int // length of the signal
	size     int // samples per block
	blocks   int // blocks of the signal
	stride   int // every stride-th block is measured
	pos      int // samples seen
	x, y     []float32
	sum      float64         // Σ distance·length over the measured blocks
	terms    model.Distances // Σ term·length of each scalar term
	measured int             // samples measured
	gap      bool            // a block was skipped since the comparer's last samples
	cmp      *compare.Comparer
	took     time.Duration
}

// Measurement blocks. SpectralDistance needs about 1 kB per sample, most
// of it the PQMF's im2col buffers rounded up to powers of two, so long
// signals are measured on blocks of 2^17 samples (2.7 s at 48 kHz), at
// most 110 of them (5.0 minutes at 48 kHz).
const (
	wholeBlock    = 1 << 20
	distanceBlock = 1 << 17
	measureBlocks = 110
)

func newStats(m *model.Model, n int) (*stats, error) {
	c, err := compare.NewComparer(m.Config.SR)
	if err != nil {
		return nil, err
	}
	size := distanceBlock
	if n <= wholeBlock {
		size = n
	}
	return newStatsBlocks(m, n, size, c), nil
}

func newStatsBlocks(m *model.Model, n, size int, c *compare.Comparer) *stats {
	blocks := max(1, n/size)
	return &stats{m: m, n: n, size: size, blocks: blocks, stride: (blocks + measureBlocks - 1) / measureBlocks, cmp: c}
}

// block returns the block of sample i and where it ends.
func (s *stats) block(i int) (int, int) {
	b := min(i/s.size, s.blocks-1)
	if b == s.blocks-1 {
		return b, s.n
	}
	return b, (b + 1) * s.size
}

// add takes the next samples of the input and of the render.
func (s *stats) add(x, y []float32) {
	t := time.Now()
	defer func() { s.took += time.Since(t) }()
	for len(x) > 0 {
		b, end := s.block(s.pos)
		k := min(len(x), end-s.pos)
		if b%s.stride == s.stride/2 {
			if s.gap {
				s.cmp.Break()
				s.gap = false
			}
			s.cmp.Add(x[:k], y[:k])
			s.x = append(s.x, x[:k]...)
			s.y = append(s.y, y[:k]...)
			if s.pos+k == end {
				s.measure()
			}
		} else {
			s.gap = true
		}
		s.pos += k
		x, y = x[k:], y[k:]
	}
}

// measure adds the distance of the block held.
func (s *stats) measure() {
	n := len(s.x)
	dist, d := spectralDistances(s.m, s.x, s.y)
	w := float64(n)
	s.sum += dist * w
	s.terms.MultiBand += d.MultiBand * w
	s.terms.FullBand += d.FullBand * w
	s.terms.Loudness += d.Loudness * w
	s.measured += n
	s.x, s.y = s.x[:0], s.y[:0]
}

// finish returns the distance, the comparison (nil for a signal shorter
// than one pitch window) and the number of samples measured.
func (s *stats) finish() (float64, *compare.Report, int, error) {
	t := time.Now()
	defer func() { s.took += time.Since(t) }()
	if len(s.x) > 0 {
		s.measure() // a signal that ended early
	}
	var match *compare.Report
	switch r, err := s.cmp.Report(); {
	case err == nil:
		match = &r
	case !errors.Is(err, compare.ErrTooShort):
		return 0, nil, 0, err
	}
	return s.sum / float64(max(s.measured, 1)), match, s.measured, nil
}

// distances returns the scalar terms of the model's distance averaged over
// the measured blocks (per-scale terms left out).
func (s *stats) distances() model.Distances {
	w := float64(max(s.measured, 1))
	return model.Distances{MultiBand: s.terms.MultiBand / w, FullBand: s.terms.FullBand / w, Loudness: s.terms.Loudness / w}
}
