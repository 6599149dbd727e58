package model

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/rvz"
)

// analysedModel is a tiny model with a random orthogonal PCA and a
// fidelity curve that reaches 0.5, 0.8, 0.9, 0.95, 0.99 at 1, 2, 4, 6 and
// 10 dimensions.
func analysedModel(t testing.TB, seed uint64) *Model {
	t.Helper()
	m := streamModel(t, "tiny", false, seed)
	fid := m.Buffer(bufFidelity).Data()
	curve := []float32{0.5, 0.8, 0.85, 0.9, 0.93, 0.95, 0.96, 0.97, 0.98, 0.99, 0.993, 0.995, 0.997, 0.998, 0.999, 1}
	copy(fid, curve)
	m.LatentAnalysis = LatentAnalysis{Done: true, Frames: 1000}
	return m
}

func TestKeptDims(t *testing.T) {
	m := analysedModel(t, 1)
	for _, c := range []struct {
		fid  Fidelity
		want int
	}{
		{Fidelity{}, 16},
		{Fidelity{Dims: 3}, 3},
		{Fidelity{F: 0.95, Rule: RuleExact}, 6},    // fidelity[5] = 0.95 ≥ 0.95
		{Fidelity{F: 0.95}, 8},                     // argmax(> 0.95) = 6 → 8
		{Fidelity{F: 0.9, Rule: RuleExact}, 4},     // fidelity[3] = 0.9
		{Fidelity{F: 0.9}, 4},                      // argmax(> 0.9) = 4 → 4
		{Fidelity{F: 0.6}, 1},                      // argmax(> 0.6) = 1 → 1
		{Fidelity{F: 0.4, Rule: RuleExact}, 1},     // already 0.5
		{Fidelity{F: 0.4}, 1},                      // r = max(0, 1) = 1
		{Fidelity{F: 0.9995, Rule: RuleExact}, 16}, // only the last reaches it
		{Fidelity{F: 0.9985}, 16},                  // argmax = 14 → 16
	} {
		got, err := m.KeptDims(c.fid)
		if err != nil || got != c.want {
			t.Errorf("KeptDims(%+v) = %d, %v; want %d", c.fid, got, err, c.want)
		}
	}
	for _, bad := range []Fidelity{{Dims: 17}, {Dims: -1}, {F: 1.5}, {F: -0.1}} {
		if _, err := m.KeptDims(bad); err == nil {
			t.Errorf("KeptDims(%+v) accepted", bad)
		}
	}
	fresh := streamModel(t, "tiny", false, 2)
	if _, err := fresh.KeptDims(Fidelity{F: 0.9}); !errors.Is(err, ErrNoAnalysis) {
		t.Errorf("without analysis: %v, want ErrNoAnalysis", err)
	}
}

// TestDecodeFidelity checks the offline fidelity decode: dropped
// dimensions are zeros (equal to decoding explicit zeros) or noise (needs
// an RNG, differs from zeros).
func TestDecodeFidelity(t *testing.T) {
	m := analysedModel(t, 3)
	x := sine(20*512, 220, 48000)
	z, err := m.EncodeAudio(x)
	if err != nil {
		t.Fatal(err)
	}
	k := 4
	zeroed := make([][]float32, len(z))
	for d := range z {
		zeroed[d] = make([]float32, len(z[d]))
		if d < k {
			copy(zeroed[d], z[d])
		}
	}
	want, _ := m.DecodeLatents(zeroed, len(x))
	got, err := m.DecodeLatentsFidelity(z, len(x), Fidelity{Dims: k, Fill: latent.FillZero}, CodecOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e := relDiff(got, want); e > 1e-6 {
		t.Errorf("zero fill differs from decoding zeros by %.3g", e)
	}
	if _, err := m.DecodeLatentsFidelity(z, len(x), Fidelity{Dims: k}, CodecOptions{}); err == nil {
		t.Error("noise fill without an RNG accepted")
	}
	noisy, err := m.DecodeLatentsFidelity(z, len(x), Fidelity{Dims: k}, CodecOptions{RNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	if relDiff(noisy, want) < 1e-3 {
		t.Error("noise fill gives the zero fill's output")
	}
}

func TestHash(t *testing.T) {
	m := analysedModel(t, 4)
	h := m.Hash()
	if m.Hash() != h {
		t.Fatal("Hash is not stable")
	}
	m.Step = 1234
	m.syncCounters()
	m.AddDiscriminator(rand.New(rand.NewPCG(1, 1)))
	m.Config.Preset = "renamed"
	if m.Hash() != h {
		t.Error("Hash depends on the step, the discriminator or the preset name")
	}
	m.Dec.Data()[10] += 1e-6
	if m.Hash() == h {
		t.Error("Hash ignores a decoder weight")
	}
	m.Dec.Data()[10] -= 1e-6
	m.Buffer(bufLatentPCA).Data()[3] += 1e-6
	if m.Hash() == h {
		t.Error("Hash ignores the latent PCA")
	}
}

func TestCompressRoundTrip(t *testing.T) {
	m := analysedModel(t, 5)
	x := sine(25*512+77, 330, 48000)
	opts := CompressOptions{Fidelity: Fidelity{F: 0.95, Fill: latent.FillZero}, Bits: 10}
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
	z, _ := m.EncodeAudioWith(x, CodecOptions{Dims: 8})
	ref, _ := m.DecodeLatentsFidelity(z, len(x), Fidelity{Dims: 8, Fill: latent.FillZero}, CodecOptions{})
	if e := relDiff(y, ref); e > 1e-2 {
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
	if relDiff(y1, y2) != 0 || relDiff(y1, y) == 0 {
		t.Error("noise-filled decompression is not deterministic or equals the zero fill")
	}
}

func TestCompressSweep(t *testing.T) {
	m := analysedModel(t, 7)
	x := sine(16*512, 440, 48000)
	pts, err := CompressSweep(m, x, 48000, []int{2, 0}, []int{0, 3, 8}, latent.FillZero)
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
