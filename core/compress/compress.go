package compress

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/rvz"
)

// Options control Compress. The zero value keeps every latent
// dimension at 8 bits, decoded with the reference's noise fill (moot when
// every dimension is kept).
type Options struct {
	// Fidelity selects the kept PCA dimensions and, recorded in the file,
	// what replaces the others when decompressing.
	Fidelity latent.Fidelity
	// Bits is the code width, 1–16 (0: 8).
	Bits int
	// NoDistance skips the round trip that measures the distance (the
	// report's Distance fields are then zero).
	NoDistance bool
}

// Report describes a compressed signal.
type Report struct {
	// Seconds is the signal's duration.
	Seconds float64 `json:"seconds"`
	// Frames, Dims and Bits are the latent frames, kept dimensions and
	// code width.
	Frames int `json:"frames"`
	Dims   int `json:"dims"`
	Bits   int `json:"bits"`
	// LatentKbps is the bitrate of the codes alone, dims × bits × frame
	// rate, in kbit/s (header excluded).
	LatentKbps float64 `json:"latent_kbps"`
	// FileKbps is the file's size over the duration, in kbit/s (header,
	// quantiser and checksums included).
	FileKbps float64 `json:"file_kbps"`
	// FileBytes and HeaderBytes are the file's size and its share that is
	// not codes.
	FileBytes   int `json:"file_bytes"`
	HeaderBytes int `json:"header_bytes"`
	// PCMKbps is the bitrate of the input as 16-bit mono PCM, for scale.
	PCMKbps float64 `json:"pcm_kbps"`
	// Distance is the full-band multiscale spectral distance (the v1
	// distance, rave-spec.md §6.1) between the input and its
	// decompression; Distances has every term of the model's Distance.
	// Files compressed a chunk at a time (render.CompressFile) measure
	// long signals on excerpts spread over them: Measured says how much.
	Distance  float64         `json:"distance"`
	Distances model.Distances `json:"distances"`
	// Measured is the seconds of signal the distance was measured on (the
	// whole signal unless it is long, render.CompressFile).
	Measured float64 `json:"measured_seconds"`
}

// Compress encodes x (mono, at rate Hz, which must be the model's rate)
// into an .rvz file: deterministic posterior means rotated into the latent
// PCA space, the first k dimensions kept (o.Fidelity) and quantised with
// o.Bits bits (rvz.Quantize). Unless o.NoDistance, the report measures the
// round trip with Decompress.
func Compress(m *model.Model, x []float32, rate int, o Options) (rvz.File, Report, error) {
	c := m.Config
	if rate != c.SR {
		return rvz.File{}, Report{}, fmt.Errorf("compress: audio at %d Hz, the model runs at %d Hz (resample first)", rate, c.SR)
	}
	if len(x) == 0 {
		return rvz.File{}, Report{}, model.ErrEmpty
	}
	bits, err := CheckBits(o.Bits)
	if err != nil {
		return rvz.File{}, Report{}, err
	}
	k, err := m.KeptDims(o.Fidelity)
	if err != nil {
		return rvz.File{}, Report{}, err
	}
	z, err := m.EncodeAudioWith(x, model.CodecOptions{Dims: k})
	if err != nil {
		return rvz.File{}, Report{}, err
	}
	f := quantizedFile(m, m.Hash(), z, len(x), bits, o.Fidelity.Fill)
	rep := Describe(m, f)
	if !o.NoDistance {
		y, err := decompress(m, f, model.CodecOptions{})
		if err != nil {
			return rvz.File{}, Report{}, err
		}
		rep.Distance, rep.Distances = m.AudioDistance(x, y)
		rep.Measured = rep.Seconds
	}
	return f, rep, nil
}

// CheckBits returns the code width bits asks for (0: 8), or an error for
// one outside 1–rvz.MaxBits.
func CheckBits(bits int) (int, error) {
	if bits == 0 {
		bits = 8
	}
	if bits < 1 || bits > rvz.MaxBits {
		return 0, fmt.Errorf("compress: %d bits per value (1–%d)", bits, rvz.MaxBits)
	}
	return bits, nil
}

// Quantized returns the .rvz file of the PCA-space latents z (kept
// dimensions × frames) of n samples encoded with m, as Compress makes it:
// bits per value (CheckBits) and the dropped dimensions to be filled as
// fill says.
func Quantized(m *model.Model, z [][]float32, n, bits int, fill latent.Fill) (rvz.File, error) {
	bits, err := CheckBits(bits)
	if err != nil {
		return rvz.File{}, err
	}
	return quantizedFile(m, m.Hash(), z, n, bits, fill), nil
}

// quantizedFile builds the .rvz file of PCA-space latents z.
func quantizedFile(m *model.Model, hash [32]byte, z [][]float32, n, bits int, fill latent.Fill) rvz.File {
	off, step, codes := rvz.Quantize(z, bits)
	return rvz.File{
		ModelHash: hash, SampleRate: m.Config.SR, Ratio: m.Config.CompressionRatio(), Length: int64(n),
		Bits: bits, ZeroFill: fill == latent.FillZero, Offset: off, Step: step, Codes: codes,
	}
}

// Describe returns the report of f, made with m, without the distance.
func Describe(m *model.Model, f rvz.File) Report {
	sr := float64(m.Config.SR)
	sec := float64(f.Length) / sr
	frameRate := sr / float64(f.Ratio)
	return Report{
		Seconds: sec, Frames: f.Frames(), Dims: f.Dims(), Bits: f.Bits,
		LatentKbps:  float64(f.Dims()*f.Bits) * frameRate / 1000,
		FileKbps:    float64(8*f.Size()) / sec / 1000,
		FileBytes:   f.Size(),
		HeaderBytes: f.HeaderBytes(),
		PCMKbps:     16 * sr / 1000,
	}
}

// Decompress decodes an .rvz file made by Compress with model m: the
// dequantised dimensions, the others filled as the file says (zeros, or
// N(0,1) noise from a generator seeded by the file's hash and length, so
// decompressing twice gives the same signal), no noise head. It returns an
// error wrapping rvz.ErrModelMismatch if the file was made with another
// model.
func Decompress(m *model.Model, f rvz.File) ([]float32, error) {
	return DecompressWith(m, f, model.CodecOptions{})
}

// DecompressWith is Decompress with decoding options: o.RNG replaces the
// seeded generator, o.Noise adds the noise head (needs o.RNG); o.Raw and
// o.Dims are not allowed.
func DecompressWith(m *model.Model, f rvz.File, o model.CodecOptions) ([]float32, error) {
	if err := rvz.CheckModel(f, m.Hash()); err != nil {
		return nil, err
	}
	return decompress(m, f, o)
}

func decompress(m *model.Model, f rvz.File, o model.CodecOptions) ([]float32, error) {
	c := m.Config
	if o.Raw || o.Dims != 0 {
		return nil, errors.New("compress: decompress: Raw and Dims do not apply")
	}
	switch {
	case f.SampleRate != c.SR, f.Ratio != c.CompressionRatio(), f.Dims() > c.LatentSize:
		return nil, fmt.Errorf("%w: the file has %d Hz, %d samples per frame, %d dims; the model %d Hz, %d, %d",
			rvz.ErrModelMismatch, f.SampleRate, f.Ratio, f.Dims(), c.SR, c.CompressionRatio(), c.LatentSize)
	case f.Length > math.MaxInt32:
		return nil, fmt.Errorf("compress: decompress: %d samples is too long", f.Length)
	}
	fill := latent.FillNoise
	if f.ZeroFill {
		fill = latent.FillZero
	}
	if o.RNG == nil {
		o.RNG = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(f.ModelHash[:8]), uint64(f.Length)))
	}
	return m.DecodeLatentsFidelity(f.Latents(), int(f.Length), latent.Fidelity{Dims: f.Dims(), Fill: fill}, o)
}

// SweepPoint is one (dims, bits) setting of Sweep.
type SweepPoint struct {
	// Dims and Bits are the kept dimensions and the code width (0:
	// unquantised float32 latents, 32 bits per value).
	Dims int `json:"dims"`
	Bits int `json:"bits"`
	// LatentKbps and FileKbps are the bitrates of Report (for
	// Bits 0: 32 bits per value, header as a quantised file's).
	LatentKbps float64 `json:"latent_kbps"`
	FileKbps   float64 `json:"file_kbps"`
	// Distance and Distances are those of Report.
	Distance  float64         `json:"distance"`
	Distances model.Distances `json:"distances"`
}

// Sweep compresses x with every combination of dims (0: all) and
// bits (0: unquantised) and returns the bitrate-vs-distance table, sorted by
// latent bitrate. fill says how the dropped dimensions are decoded. The
// signal is encoded once.
func Sweep(m *model.Model, x []float32, rate int, dims, bits []int, fill latent.Fill) ([]SweepPoint, error) {
	c := m.Config
	if rate != c.SR {
		return nil, fmt.Errorf("compress: audio at %d Hz, the model runs at %d Hz (resample first)", rate, c.SR)
	}
	if len(x) == 0 {
		return nil, model.ErrEmpty
	}
	kmax := 0
	ks := make([]int, len(dims))
	for i, d := range dims {
		k, err := m.KeptDims(latent.Fidelity{Dims: d})
		if err != nil {
			return nil, err
		}
		ks[i], kmax = k, max(kmax, k)
	}
	for _, b := range bits {
		if b < 0 || b > rvz.MaxBits {
			return nil, fmt.Errorf("compress: %d bits per value (0–%d)", b, rvz.MaxBits)
		}
	}
	z, err := m.EncodeAudioWith(x, model.CodecOptions{Dims: kmax})
	if err != nil {
		return nil, err
	}
	hash := m.Hash()
	var out []SweepPoint
	for _, k := range ks {
		for _, b := range bits {
			qb := b
			if b == 0 {
				qb = rvz.MaxBits // only for the header size
			}
			f := quantizedFile(m, hash, z[:k], len(x), qb, fill)
			rep := Describe(m, f)
			p := SweepPoint{Dims: k, Bits: b, LatentKbps: rep.LatentKbps, FileKbps: rep.FileKbps}
			zq := f.Latents()
			if b == 0 {
				zq = z[:k]
				p.LatentKbps = rep.LatentKbps * 32 / float64(qb)
				p.FileKbps = float64(8*(f.HeaderBytes()+4*k*f.Frames())) / rep.Seconds / 1000
			}
			fillRNG := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(hash[:8]), uint64(len(x))))
			y, err := m.DecodeLatentsFidelity(zq, len(x), latent.Fidelity{Dims: k, Fill: fill}, model.CodecOptions{RNG: fillRNG})
			if err != nil {
				return nil, err
			}
			p.Distance, p.Distances = m.AudioDistance(x, y)
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b SweepPoint) int {
		switch {
		case a.LatentKbps < b.LatentKbps:
			return -1
		case a.LatentKbps > b.LatentKbps:
			return 1
		}
		return 0
	})
	return out, nil
}
