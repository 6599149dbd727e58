package render

import (
	"bytes"
	"fmt"
	"os"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/compress"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/rvz"
)

// CompressOptions configures CompressFile.
type CompressOptions struct {
	// Fidelity and Dims choose the kept PCA dimensions (Dims wins; neither:
	// all dimensions).
	Fidelity float64
	Dims     int
	// Bits is the code width (1–16, default 8).
	Bits int
	// NoiseFill decodes the dropped dimensions as N(0,1) noise (the
	// reference's behaviour) instead of zeros.
	NoiseFill bool
}

func (o CompressOptions) fidelity() latent.Fidelity {
	f := latent.Fidelity{Dims: o.Dims, F: o.Fidelity, Fill: latent.FillZero}
	if o.NoiseFill {
		f.Fill = latent.FillNoise
	}
	return f
}

// CompressFile encodes an audio file (resampled to the model's rate, mixed
// to mono) into quantised PCA latents and writes them as a .rvz file
// atomically. The report has the bitrate and the spectral distance of the
// round trip.
func CompressFile(m *model.Model, in, out string, o CompressOptions) (compress.Report, error) {
	x, _, _, err := LoadAudio(in, m.Config.SR)
	if err != nil {
		return compress.Report{}, err
	}
	f, rep, err := compress.Compress(m, x, m.Config.SR, compress.Options{Fidelity: o.fidelity(), Bits: o.Bits})
	if err != nil {
		return rep, err
	}
	var buf bytes.Buffer
	if err := rvz.Write(&buf, f); err != nil {
		return rep, err
	}
	err = core.WriteFileAtomic(out, func(w *os.File) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
	return rep, err
}

// DecompressFile decodes a .rvz file with the model that wrote it (a
// different model is refused naming both hashes) to a WAV file at the
// model's rate and the original length: compress.Decompress's audio up to
// float32 rounding, decoded and written a chunk at a time (see
// chunked.go), so only the latents are held whole.
func DecompressFile(m *model.Model, in, out string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	f, err := rvz.ReadBytes(b)
	if err != nil {
		return fmt.Errorf("render: %s: %w", in, err)
	}
	if err := rvz.CheckModel(f, m.Hash()); err != nil {
		return fmt.Errorf("render: %s: %w", in, err)
	}
	z, err := rvzLatents(m, f)
	if err != nil {
		return err
	}
	read := func(a, b int) ([][]float32, error) {
		rows := make([][]float32, len(z))
		for d, row := range z {
			rows[d] = row[a:b]
		}
		return rows, nil
	}
	o := Options{Deterministic: true}
	return decodeToWAV(m, newCodec(m, o, 0), read, f.Frames(), int(f.Length), out, o, "decompress")
}

// CompressSweep measures bitrate against spectral distance for an audio
// file over every combination of kept dimensions and code widths.
func CompressSweep(m *model.Model, in string, dims, bits []int) ([]compress.SweepPoint, error) {
	x, _, _, err := LoadAudio(in, m.Config.SR)
	if err != nil {
		return nil, err
	}
	return compress.Sweep(m, x, m.Config.SR, dims, bits, latent.FillZero)
}
