package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/modeltest"
)

// sine and relDiff are core/internal/modeltest's test signal and
// relative difference.
var (
	sine    = modeltest.Sine
	relDiff = modeltest.RelDiff
)

// TestCodecChunking checks that chunked encoding and decoding (margins
// covering the receptive field) equal a single pass, and that lengths are
// padded and cropped as documented.
func TestCodecChunking(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := New(cfg, rand.New(rand.NewPCG(4, 4)))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.CompressionRatio()
	n := 37*r + 123 // not a multiple of the ratio
	x := sine(n, 220, float64(cfg.SR))
	whole, err := m.EncodeAudioWith(x, CodecOptions{ChunkFrames: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != cfg.LatentSize || len(whole[0]) != 38 {
		t.Fatalf("latents %d × %d, want %d × 38", len(whole), len(whole[0]), cfg.LatentSize)
	}
	chunked, err := m.EncodeAudioWith(x, CodecOptions{ChunkFrames: 5})
	if err != nil {
		t.Fatal(err)
	}
	for d := range whole {
		if e := relDiff(chunked[d], whole[d]); e > 1e-5 {
			t.Fatalf("dimension %d: chunked encoding differs by %.3g", d, e)
		}
	}
	y1, err := m.DecodeLatentsWith(whole, n, CodecOptions{ChunkFrames: 1000})
	if err != nil {
		t.Fatal(err)
	}
	y2, err := m.DecodeLatentsWith(whole, n, CodecOptions{ChunkFrames: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(y1) != n || len(y2) != n {
		t.Fatalf("decoded %d and %d samples, want %d", len(y1), len(y2), n)
	}
	if e := relDiff(y2, y1); e > 1e-5 {
		t.Errorf("chunked decoding differs by %.3g", e)
	}
	// Short inputs (less than one frame) work too.
	short, err := m.EncodeAudio(x[:100])
	if err != nil || len(short[0]) != 1 {
		t.Fatalf("short input: %v, %d frames", err, len(short[0]))
	}
	if y, err := m.DecodeLatents(short, 100); err != nil || len(y) != 100 {
		t.Fatalf("short decode: %v, %d samples", err, len(y))
	}
}

// TestCodecPCA sets a random orthogonal latent PCA and mean: encoding into
// PCA space then decoding must equal the raw path, and keeping fewer
// dimensions must still decode.
func TestCodecPCA(t *testing.T) {
	cfg, _ := Preset("tiny")
	rng := rand.New(rand.NewPCG(5, 5))
	m, err := New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	D := cfg.LatentSize
	setRandomPCA(m, rng)
	x := sine(12*cfg.CompressionRatio(), 330, float64(cfg.SR))
	zp, err := m.EncodeAudio(x)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := m.EncodeAudioWith(x, CodecOptions{Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	yp, _ := m.DecodeLatents(zp, len(x))
	yr, _ := m.DecodeLatentsWith(zr, len(x), CodecOptions{Raw: true})
	if e := relDiff(yp, yr); e > 1e-4 {
		t.Errorf("PCA round trip changes the decoding by %.3g", e)
	}
	zk, err := m.EncodeAudioWith(x, CodecOptions{Dims: D / 2})
	if err != nil || len(zk) != D/2 {
		t.Fatalf("Dims %d: %v, %d dims", D/2, err, len(zk))
	}
	if _, err := m.DecodeLatentsWith(zk, len(x), CodecOptions{RNG: rng, Noise: true}); err != nil {
		t.Fatal(err)
	}
}

// setRandomPCA fills latent_pca with a random orthogonal matrix (Gram–
// Schmidt) and latent_mean with small values.
func setRandomPCA(m *Model, rng *rand.Rand) {
	modeltest.RandomPCA(m.Buffer(bufLatentPCA).Data(), m.Buffer(bufLatentMean).Data(), rng)
}

// TestAnalyzeLatents builds latents with a known covariance (two strong
// directions) and checks the PCA buffers and fidelity.
func TestAnalyzeLatents(t *testing.T) {
	cfg, _ := Preset("tiny")
	m, err := New(cfg, rand.New(rand.NewPCG(6, 6)))
	if err != nil {
		t.Fatal(err)
	}
	D, n := cfg.LatentSize, 4000
	rng := rand.New(rand.NewPCG(7, 7))
	z := make([][]float32, D)
	for d := range z {
		z[d] = make([]float32, n)
	}
	for f := range n {
		a, b := 3*rng.NormFloat64(), 2*rng.NormFloat64()
		for d := range D {
			z[d][f] = float32(0.01*rng.NormFloat64() + 1.5)
		}
		z[0][f] += float32(a / math.Sqrt2)
		z[1][f] += float32(a / math.Sqrt2)
		z[2][f] += float32(b)
	}
	if err := m.AnalyzeLatents(z, 10, "test"); err != nil {
		t.Fatal(err)
	}
	pca := m.Buffer(bufLatentPCA).Data()
	// Axis signs follow scikit-learn's svd_flip (latent.Fit), so compare
	// magnitudes; the two entries of the first axis must agree in sign.
	abs := func(v float32) float64 { return math.Abs(float64(v)) }
	if abs(pca[0])-1/math.Sqrt2 > 0.02 || 1/math.Sqrt2-abs(pca[0]) > 0.02 || math.Abs(float64(pca[0]-pca[1])) > 0.02 || math.Abs(abs(pca[D+2])-1) > 0.02 {
		t.Errorf("principal axes %v / %v", pca[:3], pca[D:D+3])
	}
	if got := m.FidelityDims(0.95); got != 2 {
		t.Errorf("FidelityDims(0.95) = %d, want 2", got)
	}
	if mu := m.Buffer(bufLatentMean).Data(); math.Abs(float64(mu[5])-1.5) > 0.01 {
		t.Errorf("latent_mean[5] = %g, want 1.5", mu[5])
	}
}

// TestNoiseHeadOddFrames decodes an odd number of latent frames with the
// noise head on for the tiny preset, whose decoder frames (32 sub-band
// samples) are shorter than a noise frame (64): both paths must give the
// decoder's length.
func TestNoiseHeadOddFrames(t *testing.T) {
	cfg, err := Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, frames := range []int{1, 3, 5} {
		z := core.Randn(rand.New(rand.NewPCG(2, 2)), 1, cfg.LatentSize, frames)
		want := frames * cfg.Ratio()
		if y := m.DecodeBands(nil, z, true, rand.New(rand.NewPCG(3, 3))); y.Dim(-1) != want {
			t.Errorf("%d frames: inference output %v, want %d samples per band", frames, y.Shape(), want)
		}
		tp := core.NewTape()
		if y := m.DecodeBands(tp, z.Clone().SetRequiresGrad(true), true, rand.New(rand.NewPCG(3, 3))); y.Dim(-1) != want {
			t.Errorf("%d frames: training output %v, want %d samples per band", frames, y.Shape(), want)
		}
	}
}
