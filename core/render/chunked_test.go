package render

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/audio/compare"
	"github.com/ravestation/rave/core/compress"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/npy"
	"github.com/ravestation/rave/core/rvz"
)

// chunkTol bounds the difference between a chunked render and one pass
// over the whole signal: float32 rounding of GEMMs and Winograd tiles
// blocked differently (measured: up to 1.1e-7 on these clips, whose
// outputs reach about 0.5), while halving either context costs 1.5e-4 or
// more.
const chunkTol = 1e-5

// wholeChunk is a chunk size that makes one chunk of any test signal: the
// model codec's single pass.
const wholeChunk = 1 << 20

// testInput writes seconds of notes plus a little noise at rate Hz and
// returns the path.
func testInput(t *testing.T, dir string, rate int, seconds float64) string {
	t.Helper()
	x := notes(rate, seconds)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range x {
		x[i] += float32(0.05 * rng.NormFloat64())
	}
	path := filepath.Join(dir, fmt.Sprintf("in-%d.wav", rate))
	if err := audio.WriteWAV(path, [][]float32{x}, rate, audio.Float32); err != nil {
		t.Fatal(err)
	}
	return path
}

// readRVZ reads the .rvz file at path.
func readRVZ(t *testing.T, path string) rvz.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := rvz.ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readMono(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := audio.Decode(path)
	if err != nil {
		t.Fatal(err)
	}
	return b.Mono()
}

func maxAbsDiff(t *testing.T, got, want []float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	var d float64
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-float64(want[i])))
	}
	return d
}

// wholeCodec returns the codec options File used before it was chunked:
// one random stream over the whole signal.
func wholeCodec(m *model.Model, o Options) (model.CodecOptions, error) {
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

// wholeFile is the reference: the whole-signal render File did before it
// was chunked (load, encode, decode, match loudness, resample, crop).
func wholeFile(t *testing.T, m *model.Model, in string, o Options) []float32 {
	t.Helper()
	x, srcRate, srcLen, err := LoadAudio(in, m.Config.SR)
	if err != nil {
		t.Fatal(err)
	}
	c, err := wholeCodec(m, o)
	if err != nil {
		t.Fatal(err)
	}
	z, err := m.EncodeAudioWith(x, c)
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.DecodeLatentsWith(z, len(x), c)
	if err != nil {
		t.Fatal(err)
	}
	if o.MatchLoudness {
		MatchLoudness(y, x, m.Config.SR/50)
	}
	y, err = audio.Resample(y, m.Config.SR, srcRate)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, srcLen)
	copy(out, y)
	return out
}

// TestFileChunkedMatchesWhole renders a clip whole and in chunks of one to
// three latent frames (tens of chunks), deterministically: the outputs
// agree with the whole-signal render to float32 rounding, and one chunk
// is that render exactly. So does the report. With margins smaller than
// the receptive field the chunked output departs from it: the test has
// teeth.
func TestFileChunkedMatchesWhole(t *testing.T) {
	m := tinyModel(t)
	dir := t.TempDir()
	for _, rate := range []int{48000, 44100} {
		in := testInput(t, dir, rate, 0.9) // 85 latent frames of tiny
		for _, ml := range []bool{false, true} {
			o := Options{Deterministic: true, MatchLoudness: ml}
			want := wholeFile(t, m, in, o)
			x, _, _, err := LoadAudio(in, m.Config.SR)
			if err != nil {
				t.Fatal(err)
			}
			for _, chunk := range []int{wholeChunk, 1, 2, 3, 7} {
				name := fmt.Sprintf("%d Hz, match loudness %v, chunks of %d", rate, ml, chunk)
				out := filepath.Join(dir, "out.wav")
				o.ChunkFrames = chunk
				rep, err := File(m, in, out, o)
				if err != nil {
					t.Fatal(err)
				}
				got := readMono(t, out)
				d := maxAbsDiff(t, got, want)
				if d > chunkTol || (chunk == wholeChunk && d != 0) {
					t.Errorf("%s: output differs from the whole-signal render by %g", name, d)
				}
				if rep.Dims != m.Config.LatentSize || rep.Samples != len(want) || rep.InRate != rate {
					t.Errorf("%s: report %+v", name, rep)
				}
				// The report measures the model-rate output against x.
				if chunk == wholeChunk {
					y := wholeModelRate(t, m, x, o)
					if wd := SpectralDistance(m, x, y); rep.Distance != wd {
						t.Errorf("%s: distance %v, want %v", name, rep.Distance, wd)
					}
					wm, err := compare.Compare(x, y, m.Config.SR)
					if err != nil {
						t.Fatal(err)
					}
					if rep.Match == nil || rep.Match.Frames != wm.Frames || math.Abs(rep.Match.LevelErrorDB-wm.LevelErrorDB) > 1e-4 {
						t.Errorf("%s: match %+v, want %+v", name, rep.Match, wm)
					}
				}
			}
		}
	}

	t.Run("margins too small", func(t *testing.T) {
		in := testInput(t, dir, 48000, 0.9)
		o := Options{Deterministic: true, ChunkFrames: 2}
		want := wholeFile(t, m, in, o)
		full := m.ChunkContext()
		for _, ctx := range []model.ChunkContext{
			{EncoderLeft: full.EncoderLeft, EncoderRight: full.EncoderRight, DecoderLeft: full.DecoderLeft / 2, DecoderRight: full.DecoderRight / 2, Align: full.Align},
			{EncoderLeft: full.EncoderLeft / 2, EncoderRight: full.EncoderRight / 2, DecoderLeft: full.DecoderLeft, DecoderRight: full.DecoderRight, Align: full.Align},
		} {
			out := filepath.Join(dir, "small.wav")
			if _, err := renderFile(m, in, out, o, ctx); err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(t, readMono(t, out), want); d <= chunkTol {
				t.Errorf("context %+v: output within %g of the whole render, want a visible error", ctx, d)
			}
		}
	})
}

// wholeModelRate is the whole-signal render at the model's rate.
func wholeModelRate(t *testing.T, m *model.Model, x []float32, o Options) []float32 {
	t.Helper()
	c, err := wholeCodec(m, o)
	if err != nil {
		t.Fatal(err)
	}
	z, err := m.EncodeAudioWith(x, c)
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.DecodeLatentsWith(z, len(x), c)
	if err != nil {
		t.Fatal(err)
	}
	if o.MatchLoudness {
		MatchLoudness(y, x, m.Config.SR/50)
	}
	return y
}

// TestFileRandomDrawsIgnoreChunks renders with sampled latents, dropped
// dimensions filled with noise and the noise synthesiser on: the output
// does not depend on the chunk size (the draws are keyed by position) and
// does depend on the seed.
func TestFileRandomDrawsIgnoreChunks(t *testing.T) {
	m := tinyModel(t)
	dir := t.TempDir()
	in := testInput(t, dir, 48000, 0.7)
	render := func(chunk int, seed uint64) []float32 {
		out := filepath.Join(dir, "out.wav")
		if _, err := File(m, in, out, Options{Seed: seed, Dims: 5, ChunkFrames: chunk}); err != nil {
			t.Fatal(err)
		}
		return readMono(t, out)
	}
	want := render(wholeChunk, 1)
	for _, chunk := range []int{1, 2, 5} {
		if d := maxAbsDiff(t, render(chunk, 1), want); d > chunkTol {
			t.Errorf("chunks of %d: output differs from one chunk's by %g", chunk, d)
		}
	}
	if d := maxAbsDiff(t, render(wholeChunk, 2), want); d < 1e-3 {
		t.Errorf("seeds 1 and 2 give outputs within %g", d)
	}
}

// TestEncodeDecodeFileChunked checks EncodeFile and DecodeFile against the
// whole-signal codec, deterministically, and their random draws against
// the chunk size.
func TestEncodeDecodeFileChunked(t *testing.T) {
	m := tinyModel(t)
	dir := t.TempDir()
	in := testInput(t, dir, 44100, 0.8)
	x, _, _, err := LoadAudio(in, m.Config.SR)
	if err != nil {
		t.Fatal(err)
	}
	zWant, err := m.EncodeAudioWith(x, model.CodecOptions{Dims: 6})
	if err != nil {
		t.Fatal(err)
	}
	yWant, err := m.DecodeLatentsWith(zWant, 0, model.CodecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	zPath := filepath.Join(dir, "z.npy")
	var zOne [][]float32
	for _, chunk := range []int{wholeChunk, 1, 3} {
		o := Options{Deterministic: true, Dims: 6, ChunkFrames: chunk}
		rep, err := EncodeFile(m, in, zPath, o)
		if err != nil {
			t.Fatal(err)
		}
		z, err := npy.ReadFile(zPath)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Dims != 6 || rep.Frames != len(zWant[0]) || len(z) != 6 {
			t.Fatalf("chunks of %d: report %+v, %d rows; want 6 × %d", chunk, rep, len(z), len(zWant[0]))
		}
		var d float64
		for i := range z {
			d = max(d, maxAbsDiff(t, z[i], zWant[i]))
		}
		if d > chunkTol || (chunk == wholeChunk && d != 0) {
			t.Errorf("EncodeFile, chunks of %d: latents differ from the whole signal's by %g", chunk, d)
		}
		out := filepath.Join(dir, "y.wav")
		if err := DecodeFile(m, zPath, out, o); err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(t, readMono(t, out), yWant); d > chunkTol {
			t.Errorf("DecodeFile, chunks of %d: audio differs from the whole signal's by %g", chunk, d)
		}

		// Sampled latents, noise-filled dimensions and the noise head.
		o.Deterministic = false
		if _, err := EncodeFile(m, in, zPath, o); err != nil {
			t.Fatal(err)
		}
		z, err = npy.ReadFile(zPath)
		if err != nil {
			t.Fatal(err)
		}
		if zOne == nil {
			zOne = z
		}
		d = 0
		for i := range z {
			d = max(d, maxAbsDiff(t, z[i], zOne[i]))
		}
		if d > chunkTol {
			t.Errorf("sampled EncodeFile, chunks of %d: latents differ from one chunk's by %g", chunk, d)
		}
	}
}

// TestLoudnessMatcher feeds MatchLoudness's input in pieces: the output is
// MatchLoudness's, bit for bit.
func TestLoudnessMatcher(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, 959, 960, 5000} {
		y, ref := make([]float32, n), make([]float32, n)
		for i := range y {
			y[i] = float32(rng.NormFloat64())
			ref[i] = float32(rng.NormFloat64() * float64(1+i%700) / 300)
		}
		want := append([]float32(nil), y...)
		MatchLoudness(want, ref, 480)
		for _, piece := range []int{1, 100, 481, n} {
			l := newLoudnessMatcher(480, n)
			var got []float32
			for at := 0; at < n; at += piece {
				end := min(n, at+piece)
				got = l.push(got, y[at:end], ref[at:end])
			}
			if len(got) != n {
				t.Fatalf("n %d, pieces of %d: %d samples out", n, piece, len(got))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("n %d, pieces of %d: sample %d = %v, want %v", n, piece, i, got[i], want[i])
				}
			}
		}
	}
}

// TestProgress checks the two forms of the report: a bar on a terminal
// (drawn once the render has run a second), one final line elsewhere for
// a signal of a minute or more, nothing for a short one.
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf)
	p.begin("render", 48000*30, 48000)
	p.update(48000 * 10)
	p.finish()
	if buf.Len() != 0 {
		t.Errorf("a 30 s render wrote %q to a log", buf.String())
	}
	p.begin("encode", 48000*7200, 48000)
	p.update(48000 * 3600)
	p.finish()
	if got := buf.String(); !strings.HasPrefix(got, "encode: 2:00:00 of audio in ") || strings.Count(got, "\n") != 1 {
		t.Errorf("a 2-hour render wrote %q to a log", got)
	}

	buf.Reset()
	p.tty = true
	p.begin("render", 48000*7200, 48000)
	p.update(48000 * 60)
	if buf.Len() != 0 {
		t.Errorf("the bar was drawn within the first second: %q", buf.String())
	}
	p.start = time.Now().Add(-2 * time.Second)
	p.update(48000 * 3600)
	p.finish()
	got := buf.String()
	if !strings.HasPrefix(got, "\rrender [===============               ]  50%  1:00:00 of 2:00:00") ||
		!strings.Contains(got, "\rrender [==============================] 100%  2:00:00 of 2:00:00") || !strings.HasSuffix(got, "\n") {
		t.Errorf("terminal output %q", got)
	}
	var nilP *Progress
	nilP.begin("x", 1, 1)
	nilP.update(1)
	nilP.finish()
}

// TestStatsExcerpts measures a long signal (in small blocks, for speed):
// measureBlocks evenly spread blocks are measured, and the distance is
// their length-weighted mean.
func TestStatsExcerpts(t *testing.T) {
	m := tinyModel(t)
	const size = 4096
	n := 200*size + 1000 // the last block takes the 1000 left over
	rng := rand.New(rand.NewPCG(5, 5))
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		y[i] = x[i] * float32(1+0.5*math.Sin(float64(i)/5000))
	}
	c, err := compare.NewComparer(m.Config.SR)
	if err != nil {
		t.Fatal(err)
	}
	s := newStatsBlocks(m, n, size, c)
	for at := 0; at < n; at += 3001 {
		end := min(n, at+3001)
		s.add(x[at:end], y[at:end])
	}
	dist, match, measured, err := s.finish()
	if err != nil {
		t.Fatal(err)
	}
	// 200 blocks, every ⌈200/110⌉ = 2nd from block 1: 1, 3, …, 199 (the
	// last, which takes the 1000 samples left over).
	var sum float64
	var k, want int
	for b := 1; b < 200; b += 2 {
		lo, hi := b*size, (b+1)*size
		if b == 199 {
			hi = n
		}
		sum += SpectralDistance(m, x[lo:hi], y[lo:hi]) * float64(hi-lo)
		k++
		want += hi - lo
	}
	if k != 100 || measured != want {
		t.Errorf("measured %d samples in %d blocks, want %d", measured, k, want)
	}
	if want := sum / float64(want); math.Abs(dist-want) > 1e-9*want {
		t.Errorf("distance %v, want %v", dist, want)
	}
	if match == nil || match.Frames == 0 {
		t.Errorf("comparison %+v", match)
	}
}

// TestDecompressFileChunked decompresses a clip long enough for three
// chunks: the audio is compress.Decompress's, with zeros or seeded noise
// in the dropped dimensions.
func TestDecompressFileChunked(t *testing.T) {
	m := tinyModel(t)
	dir := t.TempDir()
	in := testInput(t, dir, 48000, 6) // 563 frames of tiny
	for _, noiseFill := range []bool{false, true} {
		rvzPath, out := filepath.Join(dir, "c.rvz"), filepath.Join(dir, "d.wav")
		if _, err := CompressFile(m, in, rvzPath, CompressOptions{Dims: 4, NoiseFill: noiseFill}); err != nil {
			t.Fatal(err)
		}
		if err := DecompressFile(m, rvzPath, out, nil); err != nil {
			t.Fatal(err)
		}
		f := readRVZ(t, rvzPath)
		want, err := compress.Decompress(m, f)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(t, readMono(t, out), want); d > chunkTol {
			t.Errorf("noise fill %v: decompressed audio differs from compress.Decompress's by %g", noiseFill, d)
		}
	}
}

// TestCompressFileChunked compresses a clip in chunks of every size: the
// file is compress.Compress's on the whole signal (codes within one step
// of float32 rounding, same quantiser up to rounding) and the report's
// distance is that of the whole round trip.
func TestCompressFileChunked(t *testing.T) {
	m := tinyModel(t)
	dir := t.TempDir()
	in := testInput(t, dir, 48000, 2) // 188 frames of tiny
	x, _, _, err := LoadAudio(in, m.Config.SR)
	if err != nil {
		t.Fatal(err)
	}
	wantF, wantRep, err := compress.Compress(m, x, m.Config.SR, compress.Options{Fidelity: CompressOptions{Dims: 3}.fidelity(), Bits: 6})
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{wholeChunk, 1, 5, 64} {
		out := filepath.Join(dir, "c.rvz")
		rep, err := CompressFile(m, in, out, CompressOptions{Dims: 3, Bits: 6, ChunkFrames: chunk})
		if err != nil {
			t.Fatal(err)
		}
		f := readRVZ(t, out)
		if f.Frames() != wantF.Frames() || f.Dims() != wantF.Dims() || f.Length != wantF.Length || f.Bits != 6 {
			t.Fatalf("chunks of %d: %d frames × %d dims of %d samples at %d bits, want %d × %d of %d",
				chunk, f.Frames(), f.Dims(), f.Length, f.Bits, wantF.Frames(), wantF.Dims(), wantF.Length)
		}
		for d := range f.Offset {
			if math.Abs(float64(f.Offset[d]-wantF.Offset[d])) > 1e-4 || math.Abs(float64(f.Step[d]-wantF.Step[d])) > 1e-4 {
				t.Errorf("chunks of %d: dim %d quantiser %v + k·%v, want %v + k·%v", chunk, d, f.Offset[d], f.Step[d], wantF.Offset[d], wantF.Step[d])
			}
		}
		off := 0
		for i, c := range f.Codes {
			if diff := int(c) - int(wantF.Codes[i]); diff > 1 || diff < -1 {
				t.Fatalf("chunks of %d: code %d is %d, want %d", chunk, i, c, wantF.Codes[i])
			} else if diff != 0 {
				off++
			}
		}
		if off > len(f.Codes)/100 {
			t.Errorf("chunks of %d: %d of %d codes off by one", chunk, off, len(f.Codes))
		}
		if math.Abs(rep.Distance-wantRep.Distance) > 1e-3*wantRep.Distance || rep.Measured != wantRep.Seconds || rep.FileBytes != wantRep.FileBytes {
			t.Errorf("chunks of %d: distance %v over %v s, %d bytes; want %v over %v s, %d bytes", chunk, rep.Distance, rep.Measured, rep.FileBytes, wantRep.Distance, wantRep.Seconds, wantRep.FileBytes)
		}
		if math.Abs(rep.Distances.Loudness-wantRep.Distances.Loudness) > 1e-3*math.Abs(wantRep.Distances.Loudness)+1e-6 {
			t.Errorf("chunks of %d: loudness term %v, want %v", chunk, rep.Distances.Loudness, wantRep.Distances.Loudness)
		}
	}
}
