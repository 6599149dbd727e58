package compress

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/internal/modeltest"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/rvz"
)

// analysedModel is a tiny model with random BatchNorm statistics, a random
// orthogonal PCA and the fidelity curve modeltest.Fidelity16.
func analysedModel(t testing.TB, seed uint64) *model.Model {
	t.Helper()
	cfg, _ := model.Preset("tiny")
	rng := rand.New(rand.NewPCG(seed, seed))
	m, err := model.New(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Randomize(m.Buffers(), rng)
	copy(m.Buffer("fidelity").Data(), modeltest.Fidelity16)
	m.LatentAnalysis = model.LatentAnalysis{Done: true, Frames: 1000}
	return m
}

func TestCompressRoundTrip(t *testing.T) {
	m := analysedModel(t, 5)
	x := modeltest.Sine(25*512+77, 330, 48000)
	opts := Options{Fidelity: latent.Fidelity{F: 0.95, Fill: latent.FillZero}, Bits: 10}
	f, rep, err := Compress(m, x, 48000, opts)
	if err != nil {
		t.Fatal(err)
	}
	if f.Dims() != 8 || rep.Dims != 8 || rep.Frames != 26 || f.Bits != 10 || !f.ZeroFill {
		t.Fatalf("file has %d dims, %d frames, %d bits, zero fill %v", f.Dims(), rep.Frames, f.Bits, f.ZeroFill)
	}
	// 8 dims × 10 bits × 48000/512 frames/s = 7.5 kbit/s.
	if math.Abs(rep.LatentKbps-7.5) > 1e-9 {
		t.Errorf("latent bitrate %g kbit/s, want 7.5", rep.LatentKbps)
	}
	if want := float64(8*f.Size()) / (float64(len(x)) / 48000) / 1000; math.Abs(rep.FileKbps-want) > 1e-9 || rep.FileKbps <= rep.LatentKbps {
		t.Errorf("file bitrate %g kbit/s, want %g (above the latent %g)", rep.FileKbps, want, rep.LatentKbps)
	}
	if !(rep.Distance > 0) || math.IsInf(rep.Distance, 0) || rep.Distance != rep.Distances.FullBand {
		t.Errorf("distance %g (%+v)", rep.Distance, rep.Distances)
	}
	var buf bytes.Buffer
	if err := rvz.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	g, err := rvz.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	y, err := Decompress(m, g)
	if err != nil {
		t.Fatal(err)
	}
	if len(y) != len(x) {
		t.Fatalf("decompressed %d samples, want %d", len(y), len(x))
	}
	// Against the unquantised decode of the same dimensions: 10 bits move
	// the output by well under a percent of its peak.
	z, _ := m.EncodeAudioWith(x, model.CodecOptions{Dims: 8})
	ref, _ := m.DecodeLatentsFidelity(z, len(x), latent.Fidelity{Dims: 8, Fill: latent.FillZero}, model.CodecOptions{})
	if e := modeltest.RelDiff(y, ref); e > 1e-2 {
		t.Errorf("10-bit round trip differs from the float decode by %.3g", e)
	}
	d, _ := m.AudioDistance(x, y)
	if math.Abs(d-rep.Distance) > 1e-9*max(1, d) {
		t.Errorf("report distance %g, measured %g", rep.Distance, d)
	}

	// Another model refuses the file, naming both hashes.
	other := analysedModel(t, 6)
	if _, err := Decompress(other, g); !errors.Is(err, rvz.ErrModelMismatch) {
		t.Errorf("other model: %v, want ErrModelMismatch", err)
	}
	if _, _, err := Compress(m, x, 44100, opts); err == nil {
		t.Error("wrong sample rate accepted")
	}
	// Noise fill decodes the same twice (seeded by the file).
	f.ZeroFill = false
	y1, _ := Decompress(m, f)
	y2, _ := Decompress(m, f)
	if modeltest.RelDiff(y1, y2) != 0 || modeltest.RelDiff(y1, y) == 0 {
		t.Error("noise-filled decompression is not deterministic or equals the zero fill")
	}
}

func TestSweep(t *testing.T) {
	m := analysedModel(t, 7)
	x := modeltest.Sine(16*512, 440, 48000)
	pts, err := Sweep(m, x, 48000, []int{2, 0}, []int{0, 3, 8}, latent.FillZero)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 6 {
		t.Fatalf("%d points, want 6", len(pts))
	}
	for i, p := range pts {
		if i > 0 && p.LatentKbps < pts[i-1].LatentKbps {
			t.Errorf("points not sorted by bitrate: %g after %g", p.LatentKbps, pts[i-1].LatentKbps)
		}
		bits := p.Bits
		if bits == 0 {
			bits = 32
		}
		if want := float64(p.Dims*bits) * 48000 / 512 / 1000; math.Abs(p.LatentKbps-want) > 1e-9 {
			t.Errorf("%d dims × %d bits: %g kbit/s, want %g", p.Dims, p.Bits, p.LatentKbps, want)
		}
		if !(p.Distance >= 0) {
			t.Errorf("%d dims × %d bits: distance %g", p.Dims, p.Bits, p.Distance)
		}
	}
}
