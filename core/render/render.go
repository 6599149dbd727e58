package render

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/audio/compare"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/npy"
)

// Options configures the file-level encode, decode and render functions.
type Options struct {
	// Fidelity, when in (0, 1), keeps the PCA dimensions needed to explain
	// that share of the latent variance (the reference's rule: the index
	// argmax(fidelity > f) rounded up to a power of two).
	Fidelity float64
	// Dims, when positive, keeps exactly that many PCA dimensions.
	Dims int
	// Deterministic uses posterior means, no noise synthesiser, and zeros
	// for dropped dimensions; otherwise they are sampled as the reference
	// does at inference, from Seed.
	Deterministic bool
	Seed          uint64
	// Raw skips the latent PCA (posterior means in the encoder's own axes).
	Raw bool
	// MatchLoudness scales the output so its short-term loudness follows
	// the input's (timbre transfer).
	MatchLoudness bool
	// ChunkFrames is the number of latent frames the file functions encode
	// or decode at a time (0: 128, 5.5 s at 48 kHz with 2048 samples per
	// frame; a signal of at most two chunks is one); see chunked.go. It
	// changes neither the output (beyond float32 rounding) nor the random
	// draws.
	ChunkFrames int
	// Progress, if not nil, reports the progress of the file functions.
	Progress *Progress
}

// dims returns the number of PCA dimensions the options keep for m (0:
// all of them).
func (o Options) dims(m *model.Model) (int, error) {
	D := m.Config.LatentSize
	switch {
	case o.Dims > 0:
		if o.Dims > D {
			return 0, fmt.Errorf("render: --dims %d exceeds the model's %d latent dimensions", o.Dims, D)
		}
		return o.Dims, nil
	case o.Fidelity > 0:
		if o.Fidelity >= 1 {
			return 0, fmt.Errorf("render: fidelity %g must be below 1", o.Fidelity)
		}
		if !m.LatentAnalysis.Done {
			return 0, errors.New("render: this model has no latent analysis yet, so --fidelity has no meaning (run `rave analyze`, or use --dims)")
		}
		_, k := m.LatentPCA().DimsForFidelity(o.Fidelity)
		return k, nil
	}
	return 0, nil
}

// LoadAudio decodes a file to mono at the model's sample rate and returns
// it with the file's own rate and length.
func LoadAudio(path string, rate int) (x []float32, srcRate, srcLen int, err error) {
	buf, err := audio.Decode(path)
	if err != nil {
		return nil, 0, 0, err
	}
	mono := buf.Mono()
	x, err = audio.Resample(mono, buf.SampleRate, rate)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("render: resample %s: %w", path, err)
	}
	return x, buf.SampleRate, len(mono), nil
}

// EncodeReport describes an EncodeFile run.
type EncodeReport struct {
	// Dims and Frames are the shape of the latents written.
	Dims, Frames int
}

// EncodeFile encodes an audio file to latents (dims × frames) and writes
// them as .npy to out, atomically. It reads the input and writes the
// latents a chunk at a time (see chunked.go), so its memory does not grow
// with the input's length.
func EncodeFile(m *model.Model, in, out string, o Options) (EncodeReport, error) {
	k, err := o.dims(m)
	if err != nil {
		return EncodeReport{}, err
	}
	src, err := openInput(in, m.Config.SR)
	if err != nil {
		return EncodeReport{}, err
	}
	defer src.Close()
	r := m.Config.CompressionRatio()
	p := newPlan(m, m.ChunkContext(), src.n, (src.n+r-1)/r, o.ChunkFrames)
	cd := newCodec(m, o, k)
	dims := m.Config.EncoderLatent()
	if k > 0 {
		dims = k
	}
	err = core.WriteFileAtomic(out, func(f *os.File) error {
		w, err := npy.NewColumnWriter(f, dims, p.frames)
		if err != nil {
			return err
		}
		return encodeChunks(p, cd, src, o, "encode", w.Write)
	})
	if err != nil {
		o.Progress.abandon()
		return EncodeReport{}, err
	}
	o.Progress.finish()
	return EncodeReport{Dims: dims, Frames: p.frames}, nil
}

// encodeChunks encodes the signal of src chunk by chunk as p plans it,
// handing each chunk's latents (dims × frames) to emit in order, and
// reports progress under label (the caller finishes the report).
func encodeChunks(p plan, cd *codec, src *input, o Options, label string, emit func(z [][]float32) error) error {
	x := &samples{src: src.Read, n: src.n}
	o.Progress.begin(label, int64(src.n), cd.m.Config.SR)
	for f0 := 0; f0 < p.frames; f0 += p.chunk {
		f1 := min(p.frames, f0+p.chunk)
		z, err := encodeChunk(p, cd, x, f0, f1)
		if err != nil {
			return err
		}
		if err := emit(z); err != nil {
			return err
		}
		na, _ := p.encodeSpan(f1, f1+1)
		x.drop(na * p.r)
		o.Progress.update(int64(min(f1*p.r, p.n)))
	}
	return nil
}

// encodeChunk returns the latents of frames [f0, f1), reading the input
// as far as their context needs (the caller drops what it no longer
// needs).
func encodeChunk(p plan, cd *codec, x *samples, f0, f1 int) ([][]float32, error) {
	a, b := p.encodeSpan(f0, f1)
	hi := min(b*p.r, p.n)
	if err := x.fill(hi); err != nil {
		return nil, err
	}
	z, err := cd.encode(x.span(a*p.r, hi), a, b-a)
	if err != nil {
		return nil, err
	}
	for d := range z {
		z[d] = z[d][f0-a : f1-a]
	}
	return z, nil
}

// DecodeFile decodes latents from a .npy file (dims × frames; fewer dims
// than the model's are completed as the options say) to a WAV file at the
// model's sample rate. It reads the latents and writes the audio a chunk
// at a time (see chunked.go).
func DecodeFile(m *model.Model, in, out string, o Options) error {
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	zr, err := npy.NewColumnReader(f, fi.Size())
	if err != nil {
		return fmt.Errorf("render: %s: %w", in, err)
	}
	if zr.Rows() == 0 || zr.Cols() == 0 {
		return fmt.Errorf("render: %s holds no latent frames", in)
	}
	if zr.Rows() > m.Config.LatentSize {
		return fmt.Errorf("render: %s has %d latent dimensions, the model %d (is it (dims, frames)? transpose it)", in, zr.Rows(), m.Config.LatentSize)
	}
	k, err := o.dims(m)
	if err != nil {
		return err
	}
	dims := zr.Rows()
	if k > 0 && k < dims {
		dims = k
	}
	rows := make([][]float32, zr.Rows())
	read := func(a, b int) ([][]float32, error) {
		for d := range rows {
			rows[d] = make([]float32, b-a)
		}
		return rows[:dims], zr.ReadCols(rows, a)
	}
	r := m.Config.CompressionRatio()
	return decodeToWAV(m, newCodec(m, o, 0), read, zr.Cols(), zr.Cols()*r, out, o, "decode")
}

// decodeToWAV decodes latents chunk by chunk to n samples (at most
// frames·ratio) of a WAV file at the model's rate; read returns the
// latents of frames [a, b).
func decodeToWAV(m *model.Model, cd *codec, read func(a, b int) ([][]float32, error), frames, n int, out string, o Options, label string) error {
	sink, err := newWAVSink(out, m.Config.SR, m.Config.SR, n, n)
	if err != nil {
		return err
	}
	if err := decodeChunks(m, cd, read, frames, n, o, label, sink.write); err != nil {
		sink.abort()
		return err
	}
	if err := sink.close(); err != nil {
		o.Progress.abandon()
		return err
	}
	o.Progress.finish()
	return nil
}

// decodeChunks decodes latents chunk by chunk to n samples (at most
// frames·ratio) at the model's rate, handing them to emit in order; read
// returns the latents of frames [a, b). The caller finishes the progress
// report when it succeeds.
func decodeChunks(m *model.Model, cd *codec, read func(a, b int) ([][]float32, error), frames, n int, o Options, label string, emit func(y []float32) error) error {
	r := m.Config.CompressionRatio()
	p := newPlan(m, m.ChunkContext(), n, frames, o.ChunkFrames)
	o.Progress.begin(label, int64(n), m.Config.SR)
	for f0 := 0; f0 < p.frames && f0*r < n; f0 += p.chunk {
		f1 := min(p.frames, f0+p.chunk)
		a, b := p.decodeSpan(f0, f1)
		z, err := read(a, b)
		var y []float32
		if err == nil {
			y, err = cd.decode(z, a)
		}
		if err == nil {
			err = emit(y[(f0-a)*r : min(f1*r, n)-a*r])
		}
		if err != nil {
			o.Progress.abandon()
			return err
		}
		o.Progress.update(int64(min(f1*r, n)))
	}
	return nil
}

// Report describes a File run.
type Report struct {
	InRate, ModelRate int
	Samples           int
	Seconds           float64
	Dims              int
	// Elapsed is the time the render took, its measurement (Distance,
	// Match) left out.
	Elapsed time.Duration
	// Distance is the full-band multiscale spectral distance (rave-spec
	// §6.1) between input and output at the model's rate; lower is closer.
	Distance float64
	// Match compares pitch and level of output and input (nil for a clip
	// shorter than one pitch-analysis window, about 73 ms).
	Match *compare.Report
	// Measured is the length in seconds of the excerpts Distance and Match
	// were measured on: the whole signal up to about 5 minutes, then
	// about 5 minutes of evenly spread 5.5 s blocks (see stats).
	Measured float64
}

// File encodes and decodes an audio file through the model and
// writes the result at the input's sample rate and length: reconstruction
// for audio like the training data, timbre transfer for any other sound.
// It reads, renders and writes a chunk at a time (see chunked.go), so its
// memory does not grow with the input's length; the output is that of a single
// pass over the whole signal up to float32 rounding. The report measures
// at most about five minutes of it (Report.Measured).
func File(m *model.Model, in, out string, o Options) (Report, error) {
	return renderFile(m, in, out, o, m.ChunkContext())
}

// renderFile is File with a given chunk context (tests shrink it).
func renderFile(m *model.Model, in, out string, o Options, ctx model.ChunkContext) (rep Report, err error) {
	start := time.Now()
	k, err := o.dims(m)
	if err != nil {
		return Report{}, err
	}
	src, err := openInput(in, m.Config.SR)
	if err != nil {
		return Report{}, err
	}
	defer src.Close()
	c := m.Config
	r := c.CompressionRatio()
	p := newPlan(m, ctx, src.n, (src.n+r-1)/r, o.ChunkFrames)
	cd := newCodec(m, o, k)
	st, err := newStats(m, src.n)
	if err != nil {
		return Report{}, err
	}
	sink, err := newWAVSink(out, c.SR, src.srcRate, src.n, src.srcLen)
	if err != nil {
		return Report{}, err
	}
	defer func() {
		if err != nil {
			sink.abort()
			o.Progress.abandon()
		}
	}()
	var match *loudnessMatcher
	if o.MatchLoudness {
		match = newLoudnessMatcher(c.SR/50, src.n)
	}
	x := &samples{src: src.Read, n: src.n}
	var z latents
	dims := 0
	// emit passes the rendered samples on: loudness matching (which holds
	// back about half a frame), the measurements, the file.
	var ybuf []float32
	rendered, emitted := 0, 0
	emit := func(y []float32) error {
		lo := rendered
		rendered += len(y)
		if match != nil {
			ybuf = match.push(ybuf[:0], y, x.span(lo, rendered))
			y = ybuf
		}
		st.add(x.span(emitted, emitted+len(y)), y)
		emitted += len(y)
		return sink.write(y)
	}
	o.Progress.begin("render", int64(src.n), c.SR)
	for f0 := 0; f0 < p.frames; f0 += p.chunk {
		f1 := min(p.frames, f0+p.chunk)
		a, b := p.decodeSpan(f0, f1)
		for z.end() < b {
			e0 := z.end()
			zc, err := encodeChunk(p, cd, x, e0, min(p.frames, e0+p.chunk))
			if err != nil {
				return Report{}, err
			}
			z.push(zc)
			dims = len(zc)
		}
		y, err := cd.decode(z.span(a, b), a)
		if err != nil {
			return Report{}, err
		}
		if err := emit(y[(f0-a)*r : min(f1*r, p.n)-a*r]); err != nil {
			return Report{}, err
		}
		o.Progress.update(int64(min(f1*r, p.n)))
		na, _ := p.decodeSpan(f1, f1+1)
		z.drop(na)
		ea, _ := p.encodeSpan(z.end(), z.end()+1)
		x.drop(min(emitted, ea*r))
	}
	if err := sink.close(); err != nil {
		return Report{}, err
	}
	o.Progress.finish()
	dist, cmp, measured, err := st.finish()
	if err != nil {
		return Report{}, err
	}
	return Report{InRate: src.srcRate, ModelRate: c.SR, Samples: src.srcLen, Seconds: float64(src.srcLen) / float64(src.srcRate),
		Dims: dims, Elapsed: time.Since(start) - st.took, Distance: dist, Match: cmp,
		Measured: float64(measured) / float64(c.SR)}, nil
}

// MatchLoudness scales y in place so that its RMS envelope, measured over
// frames of the given length, follows ref's: a per-frame gain (limited to
// ±20 dB, none where ref is silent) interpolated linearly between frame
// centres.
func MatchLoudness(y, ref []float32, frame int) {
	n := min(len(y), len(ref))
	if n == 0 || frame <= 0 {
		return
	}
	frames := (n + frame - 1) / frame
	gains := make([]float64, frames)
	for f := range frames {
		lo, hi := f*frame, min((f+1)*frame, n)
		var ey, er float64
		for i := lo; i < hi; i++ {
			ey += float64(y[i]) * float64(y[i])
			er += float64(ref[i]) * float64(ref[i])
		}
		g := 1.0
		if ey > 1e-12 {
			g = math.Sqrt(er / ey)
		}
		gains[f] = min(max(g, 0.1), 10)
	}
	for i := range n {
		pos := (float64(i)+0.5)/float64(frame) - 0.5
		f0 := int(math.Floor(pos))
		w := pos - float64(f0)
		g0 := gains[min(max(f0, 0), frames-1)]
		g1 := gains[min(max(f0+1, 0), frames-1)]
		y[i] *= float32(g0*(1-w) + g1*w)
	}
}

// SpectralDistance returns the model's full-band multiscale spectral
// distance between two signals at its sample rate (both zero-padded to a
// common multiple of the compression ratio), as training measures it:
// between their PQMF round trips. It returns NaN for signals too short for
// the 2048-point scale.
func SpectralDistance(m *model.Model, x, y []float32) float64 {
	dist, _ := spectralDistances(m, x, y)
	return dist
}

// spectralDistances is SpectralDistance with every term of the model's
// distance.
func spectralDistances(m *model.Model, x, y []float32) (float64, model.Distances) {
	r := m.Config.CompressionRatio()
	n := max(len(x), len(y), 2048*m.Config.DataSize+r)
	n = (n + r - 1) / r * r
	pad := func(v []float32) *core.Tensor {
		d := make([]float32, n)
		copy(d, v)
		return core.New(d, 1, 1, n)
	}
	xmb, ymb := m.Analysis(nil, pad(x)), m.Analysis(nil, pad(y))
	_, d := m.Distance(nil, xmb, ymb)
	if m.Config.DataSize == 1 {
		return d.MultiBand, d
	}
	return d.FullBand, d
}
