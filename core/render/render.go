package render

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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

func (o Options) codec(m *model.Model) (model.CodecOptions, error) {
	k, err := o.dims(m)
	if err != nil {
		return model.CodecOptions{}, err
	}
	c := model.CodecOptions{Raw: o.Raw, Dims: k}
	if !o.Deterministic {
		c.Sample, c.Noise = true, m.Config.UseNoise
		c.RNG = rand.New(rand.NewPCG(o.Seed, 0x52415645))
	}
	return c, nil
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

// EncodeFile encodes an audio file to latents (dims × frames) and writes
// them as .npy to out.
func EncodeFile(m *model.Model, in, out string, o Options) ([][]float32, error) {
	x, _, _, err := LoadAudio(in, m.Config.SR)
	if err != nil {
		return nil, err
	}
	c, err := o.codec(m)
	if err != nil {
		return nil, err
	}
	c.Noise = false
	z, err := m.EncodeAudioWith(x, c)
	if err != nil {
		return nil, err
	}
	if err := npy.WriteFile(out, z); err != nil {
		return nil, err
	}
	return z, nil
}

// DecodeFile decodes latents from a .npy file (dims × frames; fewer dims
// than the model's are completed as the options say) to a WAV file at the
// model's sample rate.
func DecodeFile(m *model.Model, in, out string, o Options) error {
	z, err := npy.ReadFile(in)
	if err != nil {
		return err
	}
	if len(z) == 0 || len(z[0]) == 0 {
		return fmt.Errorf("render: %s holds no latent frames", in)
	}
	if len(z) > m.Config.LatentSize {
		return fmt.Errorf("render: %s has %d latent dimensions, the model %d (is it (dims, frames)? transpose it)", in, len(z), m.Config.LatentSize)
	}
	c, err := o.codec(m)
	if err != nil {
		return err
	}
	if c.Dims > 0 && c.Dims < len(z) {
		z = z[:c.Dims]
	}
	c.Dims = 0
	y, err := m.DecodeLatentsWith(z, 0, c)
	if err != nil {
		return err
	}
	return audio.WriteWAV(out, [][]float32{y}, m.Config.SR, audio.Float32)
}

// Report describes a File run.
type Report struct {
	InRate, ModelRate int
	Samples           int
	Seconds           float64
	Dims              int
	Elapsed           time.Duration
	// Distance is the full-band multiscale spectral distance (rave-spec
	// §6.1) between input and output at the model's rate; lower is closer.
	Distance float64
	// Match compares pitch and level of output and input (nil for a clip
	// shorter than one pitch-analysis window, about 73 ms).
	Match *compare.Report
}

// File encodes and decodes an audio file through the model and
// writes the result at the input's sample rate and length: reconstruction
// for audio like the training data, timbre transfer for any other sound.
func File(m *model.Model, in, out string, o Options) (Report, error) {
	start := time.Now()
	x, srcRate, srcLen, err := LoadAudio(in, m.Config.SR)
	if err != nil {
		return Report{}, err
	}
	c, err := o.codec(m)
	if err != nil {
		return Report{}, err
	}
	z, err := m.EncodeAudioWith(x, c)
	if err != nil {
		return Report{}, err
	}
	y, err := m.DecodeLatentsWith(z, len(x), c)
	if err != nil {
		return Report{}, err
	}
	if o.MatchLoudness {
		MatchLoudness(y, x, m.Config.SR/50)
	}
	elapsed := time.Since(start)
	dist := SpectralDistance(m, x, y)
	var match *compare.Report
	switch r, err := compare.Compare(x, y, m.Config.SR); {
	case err == nil:
		match = &r
	case !errors.Is(err, compare.ErrTooShort):
		return Report{}, err
	}
	y, err = audio.Resample(y, m.Config.SR, srcRate)
	if err != nil {
		return Report{}, err
	}
	switch {
	case len(y) > srcLen:
		y = y[:srcLen]
	case len(y) < srcLen:
		y = append(y, make([]float32, srcLen-len(y))...)
	}
	if err := audio.WriteWAV(out, [][]float32{y}, srcRate, audio.Float32); err != nil {
		return Report{}, err
	}
	return Report{InRate: srcRate, ModelRate: m.Config.SR, Samples: srcLen, Seconds: float64(srcLen) / float64(srcRate),
		Dims: len(z), Elapsed: elapsed, Distance: dist, Match: match}, nil
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
		return d.MultiBand
	}
	return d.FullBand
}
