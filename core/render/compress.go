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
	// ChunkFrames is the number of latent frames encoded or decoded at a
	// time (Options.ChunkFrames).
	ChunkFrames int
	// Progress, if not nil, reports the progress of the encoding and of
	// the round trip that measures it.
	Progress *Progress
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
// atomically: compress.Compress's file, up to float32 rounding. It reads
// the input a chunk at a time (see chunked.go) and holds only the latents
// whole, so its memory does not grow with the input's length beyond them
// (a few percent of the audio's). The report has the bitrate and the
// spectral distance of the round trip, decoded a chunk at a time beside a
// second read of the input and measured as File measures (excerpts of
// long signals, Report.Measured).
func CompressFile(m *model.Model, in, out string, o CompressOptions) (compress.Report, error) {
	fid := o.fidelity()
	bits, err := compress.CheckBits(o.Bits)
	if err != nil {
		return compress.Report{}, err
	}
	k, err := m.KeptDims(fid)
	if err != nil {
		return compress.Report{}, err
	}
	src, err := openInput(in, m.Config.SR)
	if err != nil {
		return compress.Report{}, err
	}
	defer src.Close()
	r := m.Config.CompressionRatio()
	ro := Options{Deterministic: true, ChunkFrames: o.ChunkFrames, Progress: o.Progress}
	p := newPlan(m, m.ChunkContext(), src.n, (src.n+r-1)/r, o.ChunkFrames)
	var z [][]float32
	err = encodeChunks(p, newCodec(m, ro, k), src, ro, "compress", func(zc [][]float32) error {
		if z == nil {
			z = make([][]float32, len(zc))
		}
		for d := range zc {
			z[d] = append(z[d], zc[d]...)
		}
		return nil
	})
	if err != nil {
		o.Progress.abandon()
		return compress.Report{}, err
	}
	f, err := compress.Quantized(m, z, src.n, bits, fid.Fill)
	if err != nil {
		o.Progress.abandon()
		return compress.Report{}, err
	}
	z = nil // the codes hold what is needed; the round trip reads them
	var buf bytes.Buffer
	if err := rvz.Write(&buf, f); err != nil {
		o.Progress.abandon()
		return compress.Report{}, err
	}
	if err := core.WriteFileAtomic(out, func(w *os.File) error {
		_, err := w.Write(buf.Bytes())
		return err
	}); err != nil {
		o.Progress.abandon()
		return compress.Report{}, err
	}
	o.Progress.finish()
	rep := compress.Describe(m, f)
	if err := measureRoundTrip(m, f, in, ro, &rep); err != nil {
		return rep, fmt.Errorf("render: %s was written; measuring its round trip: %w", out, err)
	}
	o.Progress.finish()
	return rep, nil
}

// measureRoundTrip decodes f a chunk at a time, as DecompressFile does,
// beside a second read of its input, and puts the distance between the
// two in rep.
func measureRoundTrip(m *model.Model, f rvz.File, in string, o Options, rep *compress.Report) error {
	z, err := rvzLatents(m, f)
	if err != nil {
		return err
	}
	src, err := openInput(in, m.Config.SR)
	if err != nil {
		return err
	}
	defer src.Close()
	if src.n != int(f.Length) {
		return fmt.Errorf("%s changed while it was compressed (%d samples, then %d)", in, f.Length, src.n)
	}
	st, err := newStats(m, src.n)
	if err != nil {
		return err
	}
	x := &samples{src: src.Read, n: src.n}
	emitted := 0
	read := framesOf(z)
	emit := func(y []float32) error {
		end := emitted + len(y)
		if err := x.fill(end); err != nil {
			return err
		}
		st.add(x.span(emitted, end), y)
		x.drop(end)
		emitted = end
		return nil
	}
	if err := decodeChunks(m, newCodec(m, o, 0), read, f.Frames(), src.n, o, "measure", emit); err != nil {
		return err
	}
	dist, _, measured, err := st.finish()
	if err != nil {
		return err
	}
	rep.Distance, rep.Distances = dist, st.distances()
	rep.Measured = float64(measured) / float64(m.Config.SR)
	return nil
}

// DecompressFile decodes a .rvz file with the model that wrote it (a
// different model is refused naming both hashes) to a WAV file at the
// model's rate and the original length: compress.Decompress's audio up to
// float32 rounding, decoded and written a chunk at a time (see
// chunked.go), so only the latents are held whole. A non-nil progress
// reports how far it has come.
func DecompressFile(m *model.Model, in, out string, progress *Progress) error {
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
	read := framesOf(z)
	o := Options{Deterministic: true, Progress: progress}
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

// framesOf returns a reader of frames [a, b) of latents z (dims × frames)
// for decodeChunks, aliasing z.
func framesOf(z [][]float32) func(a, b int) ([][]float32, error) {
	return func(a, b int) ([][]float32, error) {
		rows := make([][]float32, len(z))
		for d, row := range z {
			rows[d] = row[a:b]
		}
		return rows, nil
	}
}
