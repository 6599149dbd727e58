package render

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/compress"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/prior"
	"github.com/ravestation/rave/core/stream"
)

// Salts of the random streams drawn from GenerateOptions.Seed.
const (
	saltSample = 0x67656e2d73616d70
	saltDecode = 0x67656e2d6465636f
)

// GenerateOptions configures Generate.
type GenerateOptions struct {
	// Temperature divides the prior's logits before sampling: 1 samples
	// the learnt distribution (the usual choice), lower is more
	// conservative, 0 always takes the most probable class.
	Temperature float64
	// Seed fixes the sampled latents and the decoder's noise.
	Seed uint64
	// Prompt, if set, is an audio file to continue: it is encoded with the
	// model and fed to the prior before sampling starts.
	Prompt string
	// IncludePrompt puts the prompt's reconstruction before the
	// continuation in the output; otherwise only the new audio is returned
	// (decoded with the prompt as context, so it joins smoothly).
	IncludePrompt bool
	// Dims is the number of PCA dimensions sampled; 0 or the prior's own k
	// (any other value is an error: the prior models exactly k).
	Dims int
	// Deterministic fills the dimensions beyond k with zeros and leaves
	// the noise synthesiser off; otherwise they are N(0, 1) noise and the
	// noise head is on, as the reference decodes.
	Deterministic bool
	// Streaming decodes with the model's streaming decoder, frame block by
	// frame block, as a Generator does, instead of the whole-signal
	// decoder: the same frames, the same audio up to float32 rounding
	// except in the first tens of milliseconds (the streaming decoder's
	// warm-up) and at the very end (which the whole-signal decoder pads
	// with zeros and the streaming one continues with further frames).
	Streaming bool
	// StreamWeights is the storage of the streaming decoder's weights
	// (Streaming and Generator only): float32 (the zero value, exact),
	// half or int8, faster for a small error (see stream.Options).
	StreamWeights stream.WeightPrecision
}

// GenerateReport describes a Generate run. Real-time factors are
// processing time over the duration of the audio produced: below 1 is
// faster than real time.
type GenerateReport struct {
	// Frames is the number of sampled latent frames; PromptFrames the
	// frames of the prompt.
	Frames, PromptFrames int
	// Dims is k, the sampled PCA dimensions; ModelDims the model's latent
	// size.
	Dims, ModelDims int
	// SampleRate is the model's rate; Samples and Seconds the output's
	// length.
	SampleRate int
	Samples    int
	Seconds    float64
	// Sampling, Decoding and Elapsed are wall times (Elapsed includes
	// encoding the prompt).
	Sampling, Decoding, Elapsed time.Duration
	// SamplingRTF, DecodingRTF and RTF are the real-time factors of the
	// prior's sampling, of the decoder, and of both together, per second
	// of generated audio.
	SamplingRTF, DecodingRTF, RTF float64
}

// FasterThanRealTime reports whether sampling and decoding together took
// less time than the audio lasts.
func (r GenerateReport) FasterThanRealTime() bool { return r.RTF > 0 && r.RTF < 1 }

// Generate samples seconds of new audio: the prior draws k-dimensional
// PCA latents frame by frame (continuing opts.Prompt if set), the other
// dimensions are completed (noise, or zeros if Deterministic), and the
// model decodes them. It returns mono audio at the model's sample rate.
// The same model, prior and options give the same audio.
func Generate(m *model.Model, p *prior.Prior, seconds float64, opts GenerateOptions) ([]float32, GenerateReport, error) {
	start := time.Now()
	c := m.Config
	k := p.Config().Dims
	var rep GenerateReport
	switch {
	case !(seconds > 0) || math.IsInf(seconds, 0):
		return nil, rep, fmt.Errorf("render: generate: %v seconds", seconds)
	case opts.Dims != 0 && opts.Dims != k:
		return nil, rep, fmt.Errorf("render: generate: the prior models %d dimensions, %d were asked", k, opts.Dims)
	case k > c.LatentSize:
		return nil, rep, fmt.Errorf("render: generate: the prior models %d dimensions, the model has only %d (is it this model's prior?)", k, c.LatentSize)
	case opts.Temperature < 0 || math.IsNaN(opts.Temperature):
		return nil, rep, fmt.Errorf("render: generate: temperature %v", opts.Temperature)
	}
	r := c.CompressionRatio()
	n := int(math.Round(seconds * float64(c.SR)))
	frames := (n + r - 1) / r
	if opts.Streaming {
		return generateStreaming(m, p, n, opts, start)
	}
	var prompt [][]float32
	if opts.Prompt != "" {
		x, _, _, err := LoadAudio(opts.Prompt, c.SR)
		if err != nil {
			return nil, rep, err
		}
		if prompt, err = m.EncodeAudioWith(x, model.CodecOptions{Dims: k}); err != nil {
			return nil, rep, fmt.Errorf("render: generate: prompt %s: %w", opts.Prompt, err)
		}
	}
	P := 0
	var pt *core.Tensor
	if len(prompt) > 0 {
		P = len(prompt[0])
		pt = core.Zeros(1, k, P)
		for d, row := range prompt {
			copy(pt.Data()[d*P:(d+1)*P], row)
		}
	}
	t0 := time.Now()
	zt, _, err := p.Generate(rand.New(rand.NewPCG(opts.Seed, saltSample)), prior.GenerateOptions{Frames: frames, Temperature: opts.Temperature, Prompt: pt})
	if err != nil {
		return nil, rep, err
	}
	rep.Sampling = time.Since(t0)
	z := make([][]float32, k)
	zd := zt.Data()
	for d := range k {
		z[d] = make([]float32, 0, P+frames)
		if P > 0 {
			z[d] = append(z[d], prompt[d]...)
		}
		z[d] = append(z[d], zd[d*frames:(d+1)*frames]...)
	}
	co := model.CodecOptions{}
	if !opts.Deterministic {
		co.RNG = rand.New(rand.NewPCG(opts.Seed, saltDecode))
		co.Noise = useNoise(c)
	}
	t1 := time.Now()
	y, err := m.DecodeLatentsWith(z, (P+frames)*r, co)
	if err != nil {
		return nil, rep, err
	}
	rep.Decoding = time.Since(t1)
	if opts.IncludePrompt {
		y = y[:P*r+n]
	} else {
		y = y[P*r : P*r+n]
	}
	rep.Frames, rep.PromptFrames = frames, P
	rep.finish(c, k, n, len(y), start)
	return y, rep, nil
}

// finish fills the report's sizes and rates for n new samples of the
// output's total.
func (rep *GenerateReport) finish(c model.Config, k, n, total int, start time.Time) {
	rep.Elapsed = time.Since(start)
	rep.Dims, rep.ModelDims = k, c.LatentSize
	rep.SampleRate, rep.Samples = c.SR, total
	rep.Seconds = float64(total) / float64(c.SR)
	gen := float64(n) / float64(c.SR)
	rep.SamplingRTF = rep.Sampling.Seconds() / gen
	rep.DecodingRTF = rep.Decoding.Seconds() / gen
	rep.RTF = rep.SamplingRTF + rep.DecodingRTF
}

// generateStreaming is Generate with a Generator.
func generateStreaming(m *model.Model, p *prior.Prior, n int, opts GenerateOptions, start time.Time) ([]float32, GenerateReport, error) {
	var rep GenerateReport
	g, err := NewGenerator(m, p, opts)
	if err != nil {
		return nil, rep, err
	}
	P := g.PromptFrames()
	total := n
	if opts.IncludePrompt {
		total += P * m.Config.CompressionRatio()
	}
	y := make([]float32, total)
	g.Read(y)
	rep.Sampling, rep.Decoding = g.Sampling, g.Decoding
	rep.Frames, rep.PromptFrames = g.Frames(), P
	rep.finish(m.Config, p.Config().Dims, n, total, start)
	return y, rep, nil
}

// Prior-coded stream layout (little-endian): magic "RVZP", version
// uint16, flags uint16, model hash [32]byte, prior hash [32]byte, sample
// rate uint32, samples per frame uint32, length in samples uint64, frames
// uint32, dims uint16, classes uint16, payload length uint32, payload, and
// the CRC-32 (IEEE) of everything before it.
const (
	priorMagic   = "RVZP"
	priorVersion = 1
	priorHeader  = 4 + 2 + 2 + 32 + 32 + 4 + 4 + 8 + 4 + 2 + 2 + 4
)

// ErrPriorMismatch is returned when a prior-coded stream is decoded with
// another model or prior than it was made with.
var ErrPriorMismatch = errors.New("render: the stream was made with another model or prior")

// PriorHash returns the SHA-256 of a prior's configuration and weights,
// which prior-coded streams carry.
func PriorHash(p *prior.Prior) [32]byte {
	h := sha256.New()
	c := p.Config()
	for _, v := range []int{c.Dims, c.Classes, c.Residual, c.Skip, c.Layers, c.Kernel, c.Cycle} {
		h.Write(strconv.AppendInt(nil, int64(v), 10))
		h.Write([]byte{0})
	}
	core.HashFloat32s(h, p.Params().Data())
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// PriorCompressOptions configures CompressWithPrior.
type PriorCompressOptions struct {
	// Compare also compresses with the fixed quantiser of .rvz files
	// (compress.Compress) at log2(Classes) = 5 bits per value and reports its
	// bitrate and distance.
	Compare bool
}

// PriorCompressReport describes a prior-coded stream. The quantised values
// are those the prior sees: 32 equal-probability bins of N(0, 1) per
// dimension, so coding them without the prior costs exactly 5 bits each
// (FixedKbps); the prior's predictions bring it down to Kbps.
type PriorCompressReport struct {
	Seconds float64 `json:"seconds"`
	Frames  int     `json:"frames"`
	Dims    int     `json:"dims"`
	// PayloadBits is the entropy-coded latents' size; BitsPerValue its
	// mean per dimension and frame.
	PayloadBits  int     `json:"payload_bits"`
	BitsPerValue float64 `json:"bits_per_value"`
	// Kbps is the payload's bitrate; FileKbps the whole stream's.
	Kbps      float64 `json:"kbps"`
	FileKbps  float64 `json:"file_kbps"`
	FileBytes int     `json:"file_bytes"`
	// FixedKbps is the bitrate of the same values at log2(Classes) bits
	// each (k × 5 bits at the latent frame rate, as .rvz counts it);
	// Saving is 1 − Kbps/FixedKbps.
	FixedKbps float64 `json:"fixed_kbps"`
	Saving    float64 `json:"saving"`
	// Distance is the spectral distance (SpectralDistance) between the
	// input and its round trip.
	Distance float64 `json:"distance"`
	// RVZKbps and RVZDistance are the latent bitrate and distance of
	// compress.Compress at the same bits per value (with Compare).
	RVZKbps     float64 `json:"rvz_kbps,omitempty"`
	RVZDistance float64 `json:"rvz_distance,omitempty"`
	// Elapsed is the time taken (the round trip included).
	Elapsed time.Duration `json:"elapsed"`
}

// CompressWithPrior encodes x (mono, at the model's sample rate) to the
// first k PCA dimensions (posterior means), quantises them to the prior's
// classes and entropy-codes them with the prior's predicted distributions.
// The report measures the round trip with DecompressWithPrior.
func CompressWithPrior(m *model.Model, p *prior.Prior, x []float32, o PriorCompressOptions) ([]byte, PriorCompressReport, error) {
	start := time.Now()
	c := m.Config
	pc := p.Config()
	k := pc.Dims
	var rep PriorCompressReport
	if k > c.LatentSize {
		return nil, rep, fmt.Errorf("render: compress: the prior models %d dimensions, the model has only %d", k, c.LatentSize)
	}
	z, err := m.EncodeAudioWith(x, model.CodecOptions{Dims: k})
	if err != nil {
		return nil, rep, err
	}
	T := len(z[0])
	zt := core.Zeros(1, k, T)
	for d, row := range z {
		copy(zt.Data()[d*T:(d+1)*T], row)
	}
	payload, bits, err := p.EncodeLatents(zt)
	if err != nil {
		return nil, rep, err
	}
	mh, ph := m.Hash(), PriorHash(p)
	b := make([]byte, 0, priorHeader+len(payload)+4)
	b = append(b, priorMagic...)
	b = binary.LittleEndian.AppendUint16(b, priorVersion)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = append(b, mh[:]...)
	b = append(b, ph[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(c.SR))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.CompressionRatio()))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(x)))
	b = binary.LittleEndian.AppendUint32(b, uint32(T))
	b = binary.LittleEndian.AppendUint16(b, uint16(k))
	b = binary.LittleEndian.AppendUint16(b, uint16(pc.Classes))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))

	sec := float64(len(x)) / float64(c.SR)
	perValue := math.Log2(float64(pc.Classes))
	rep = PriorCompressReport{Seconds: sec, Frames: T, Dims: k, PayloadBits: bits,
		BitsPerValue: float64(bits) / float64(k*T),
		Kbps:         float64(bits) / sec / 1000, FileKbps: float64(8*len(b)) / sec / 1000, FileBytes: len(b),
		FixedKbps: float64(k) * perValue * float64(c.SR) / float64(c.CompressionRatio()) / 1000}
	rep.Saving = 1 - rep.Kbps/rep.FixedKbps
	y, err := DecompressWithPrior(m, p, b)
	if err != nil {
		return nil, rep, fmt.Errorf("render: compress: round trip: %w", err)
	}
	rep.Distance = SpectralDistance(m, x, y)
	if o.Compare {
		bitsInt := int(math.Ceil(perValue))
		f, rr, err := compress.Compress(m, x, c.SR, compress.Options{Fidelity: latent.Fidelity{Dims: k, Fill: latent.FillZero}, Bits: bitsInt, NoDistance: true})
		if err != nil {
			return nil, rep, err
		}
		rep.RVZKbps = rr.LatentKbps
		yr, err := compress.Decompress(m, f)
		if err != nil {
			return nil, rep, err
		}
		rep.RVZDistance = SpectralDistance(m, x, yr)
	}
	rep.Elapsed = time.Since(start)
	return b, rep, nil
}

// DecompressWithPrior decodes a stream made by CompressWithPrior with the
// same model and prior: the dequantised k dimensions, zeros for the others,
// no noise head (deterministic). It returns the audio at the model's rate
// and original length.
func DecompressWithPrior(m *model.Model, p *prior.Prior, data []byte) ([]float32, error) {
	if len(data) < priorHeader+4 || string(data[:4]) != priorMagic {
		return nil, errors.New("render: not a prior-coded stream (no RVZP header)")
	}
	le := binary.LittleEndian
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != le.Uint32(data[len(data)-4:]) {
		return nil, errors.New("render: prior-coded stream is corrupt (checksum mismatch)")
	}
	if v := le.Uint16(data[4:]); v != priorVersion {
		return nil, fmt.Errorf("render: prior-coded stream is version %d; this rave reads version %d", v, priorVersion)
	}
	off := 8
	var mh, ph [32]byte
	copy(mh[:], data[off:])
	copy(ph[:], data[off+32:])
	off += 64
	sr, ratio := int(le.Uint32(data[off:])), int(le.Uint32(data[off+4:]))
	length := le.Uint64(data[off+8:])
	T := int(le.Uint32(data[off+16:]))
	k, classes := int(le.Uint16(data[off+20:])), int(le.Uint16(data[off+22:]))
	plen := int(le.Uint32(data[off+24:]))
	off += 28
	c := m.Config
	pc := p.Config()
	switch {
	case mh != m.Hash():
		return nil, fmt.Errorf("%w: model hash %x…", ErrPriorMismatch, mh[:4])
	case ph != PriorHash(p):
		return nil, fmt.Errorf("%w: prior hash %x…", ErrPriorMismatch, ph[:4])
	case sr != c.SR || ratio != c.CompressionRatio() || k != pc.Dims || classes != pc.Classes:
		return nil, fmt.Errorf("%w: %d Hz, %d samples per frame, %d dims × %d classes", ErrPriorMismatch, sr, ratio, k, classes)
	case off+plen != len(body), T < 1, length == 0, length > uint64(T*ratio):
		return nil, errors.New("render: prior-coded stream is corrupt (bad lengths)")
	}
	zt, _, err := p.DecodeLatents(body[off:], T)
	if err != nil {
		return nil, err
	}
	z := make([][]float32, k)
	for d := range k {
		z[d] = zt.Data()[d*T : (d+1)*T]
	}
	return m.DecodeLatentsWith(z, int(length), model.CodecOptions{})
}

// CompressFileWithPrior compresses an audio file to out with the prior
// (see CompressWithPrior).
func CompressFileWithPrior(m *model.Model, p *prior.Prior, in, out string, o PriorCompressOptions) (PriorCompressReport, error) {
	x, _, _, err := LoadAudio(in, m.Config.SR)
	if err != nil {
		return PriorCompressReport{}, err
	}
	b, rep, err := CompressWithPrior(m, p, x, o)
	if err != nil {
		return rep, err
	}
	if err := core.WriteFileAtomic(out, func(f *os.File) error { _, err := f.Write(b); return err }); err != nil {
		return rep, fmt.Errorf("render: write %s: %w", filepath.Base(out), err)
	}
	return rep, nil
}

// DecompressFileWithPrior decodes a stream written by
// CompressFileWithPrior to a WAV file at the model's sample rate.
func DecompressFileWithPrior(m *model.Model, p *prior.Prior, in, out string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	y, err := DecompressWithPrior(m, p, b)
	if err != nil {
		return fmt.Errorf("render: %s: %w", filepath.Base(in), err)
	}
	return audio.WriteWAV(out, [][]float32{y}, m.Config.SR, audio.Float32)
}
