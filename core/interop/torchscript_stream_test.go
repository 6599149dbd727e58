package interop_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/stream"
)

// replay is a stream.Rand that hands out recorded draws in order: the
// reference export's torch.randn values (normal) and torch.rand_like
// values (uniform), laid out in the order a streamer asks for them
// (stream.Rand). It counts the draws asked for beyond the recording.
type replay struct {
	normal, uniform []float32
	over            int
}

// NormFloat64 returns the next recorded normal draw.
func (r *replay) NormFloat64() float64 { return float64(r.next(&r.normal)) }

// Float32 returns the next recorded uniform draw.
func (r *replay) Float32() float32 { return r.next(&r.uniform) }

// next removes and returns the first of the recorded draws *q, or
// returns 0 and counts a draw beyond the recording when none is left.
func (r *replay) next(q *[]float32) float32 {
	if len(*q) == 0 {
		r.over++
		return 0
	}
	v := (*q)[0]
	*q = (*q)[1:]
	return v
}

// check fails t when the streamer asked for more draws than recorded or
// left some unused.
func (r *replay) check(t *testing.T) {
	t.Helper()
	if r.over > 0 || len(r.normal) > 0 || len(r.uniform) > 0 {
		t.Errorf("draws: %d asked beyond the recording, %d normal and %d uniform left unused", r.over, len(r.normal), len(r.uniform))
	}
}

// frameMajor appends to dst, for frames f0 ≤ f < f1, the values of
// channels [c0, c1) of x (1, C, F), frame by frame: the order a streamer
// draws a chunk's values in, of a reference draw laid out (1, C, F).
func frameMajor(dst []float32, x *core.Tensor, c0, c1, f0, f1 int) []float32 {
	F := x.Dim(2)
	for f := f0; f < f1; f++ {
		for c := c0; c < c1; c++ {
			dst = append(dst, x.Data()[c*F+f])
		}
	}
	return dst
}

// chunkDraws lays out the normal draws of a streamer that encodes (eps,
// nil to skip) and then fills the dropped dimensions (pad, nil to skip)
// chunk by chunk of the given number of frames: the order of
// stream.Rand.
func chunkDraws(eps, pad *core.Tensor, frames, chunk int) []float32 {
	var out []float32
	for f0 := 0; f0 < frames; f0 += chunk {
		f1 := min(frames, f0+chunk)
		if eps != nil {
			out = frameMajor(out, eps, 0, eps.Dim(1), f0, f1)
		}
		if pad != nil {
			out = frameMajor(out, pad, 0, pad.Dim(1), f0, f1)
		}
	}
	return out
}

// framesTensor returns latent frames ([frame][dim]) as a (1, dims, frames)
// tensor, the layout of the reference's latents.
func framesTensor(z [][]float32) *core.Tensor {
	F, D := len(z), len(z[0])
	out := core.Zeros(1, D, F)
	for f, fr := range z {
		for d, v := range fr {
			out.Data()[d*F+f] = v
		}
	}
	return out
}

// tensorFrames returns the frames ([frame][dim]) of z (1, dims, frames).
func tensorFrames(z *core.Tensor) [][]float32 {
	D, F := z.Dim(1), z.Dim(2)
	out := make([][]float32, F)
	for f := range out {
		out[f] = make([]float32, D)
		for d := range D {
			out[f][d] = z.Data()[d*F+f]
		}
	}
	return out
}

// concatFrames returns the draws xs (each (1, C, F_i)) joined along the
// frames: the draws of consecutive calls as one call's.
func concatFrames(xs ...*core.Tensor) *core.Tensor {
	return (*core.Tape)(nil).Concat(2, xs...)
}

// tsRatio is the compression ratio of both fixture models.
const tsRatio = 2048

// tsBuffers are the buffer lengths (samples) the streaming tests feed the
// streamers with: nn~'s usual 2048 (one latent frame), 8192, the 12288 of
// the v2 fixture's chunked forward, and the whole signal in one call, as
// the fixture outputs were made.
var tsBuffers = []int{2048, 8192, 12288, 49152}

// tsStreamer is what the streaming tests drive: stream.Streamer (v1) or
// stream.V2.
type tsStreamer interface {
	CompressionRatio() int
	EncodeBuffer(dst [][]float32, x []float32) [][]float32
	DecodeBuffer(dst []float32, z [][]float32) []float32
	Process(dst, x []float32) []float32
}

// tsStreamCall is one stored output of a streaming export, the method
// that made it (encode, encode_amortized, decode, forward) and the draws
// its call made: eps (torch.randn_like of the posterior, nil for decode),
// pad (torch.randn of the dimensions the export drops, nil for encode)
// and uniform (torch.rand_like of v1's noise head, nil without one).
type tsStreamCall struct {
	method, output    string
	eps, pad, uniform *core.Tensor
}

// TestTorchScriptStreaming reproduces the streaming exports' encode,
// decode and forward outputs, v1's encode_amortized means and v2's
// chunked forward (four calls of 12288 samples) — v1_small_ts_outputs and
// v2_small_ts_outputs: caches zeroed, random draws replayed — with
// core/stream fed buffer by buffer from the first sample, with
// Options.ReferenceAlignment: the streamed output of the reference's
// cached convolutions, warm-up included, not the offline model's, at
// every buffer size of tsBuffers.
func TestTorchScriptStreaming(t *testing.T) {
	for _, c := range []struct {
		set, name, outputs string
	}{
		{fixtures.V1Small, "rave_v1_small_streaming", "v1_small_ts_outputs.safetensors"},
		{"rave-v2-small", "v2_small_streaming", "v2_small_ts_outputs.safetensors"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts, err := interop.ImportTorchScript(tsFixture(t, c.set, c.name+".ts"))
			if err != nil {
				t.Fatal(err)
			}
			if !ts.Streaming {
				t.Fatalf("imported %s, want a streaming export", ts)
			}
			out := tsOutputs(t, c.set, c.outputs)
			get := func(s string) *core.Tensor { return tsTensor(t, out, c.name+"."+s) }
			opt := func(s string) *core.Tensor {
				if !out.Has(c.name + "." + s) {
					return nil
				}
				return get(s)
			}
			x := tsTensor(t, out, "input").Data()
			calls := []tsStreamCall{
				{"encode", "encode.output", get("encode.noise_reparam"), nil, nil},
				{"decode", "decode.output", nil, get("decode.noise_latent_pad"), opt("decode.noise_uniform")},
				{"forward", "forward.output", get("forward.noise_reparam"), get("forward.noise_latent_pad"), opt("forward.noise_uniform")},
			}
			if ts.Version == 1 {
				// The posterior means, without sampling: what the
				// sampling's ε would hide.
				calls = append(calls, tsStreamCall{"encode_amortized", "encode_amortized.mean", nil, nil, nil})
			}
			if ts.Version == 2 {
				// Four calls of 12288 samples, each with its own draws.
				var eps []*core.Tensor
				for i := range 4 {
					eps = append(eps, get(fmt.Sprintf("forward_chunked.noise_reparam.%d", i)))
					if p := get(fmt.Sprintf("forward_chunked.noise_latent_pad.%d", i)); p.Dim(1) != 0 {
						t.Fatalf("forward_chunked draws prior noise %v; v2_small keeps every dimension", p.Shape())
					}
				}
				calls = append(calls, tsStreamCall{"forward", "forward_chunked.output", concatFrames(eps...), nil, nil})
			}
			for _, size := range tsBuffers {
				for _, call := range calls {
					t.Run(fmt.Sprintf("%s/%d", call.output, size), func(t *testing.T) {
						tsStreamCheck(t, ts, out, c.name, call, x, size)
					})
				}
			}
		})
	}
}

// tsStreamCheck streams x (or, for decode, the stored latents) through
// ts's model in buffers of size samples, replaying call's draws, and
// compares the result with the stored output.
func tsStreamCheck(t *testing.T, ts *interop.TorchScriptModel, out *core.TensorFile, name string, call tsStreamCall, x []float32, size int) {
	opts := stream.Options{
		Fidelity:           latent.Fidelity{Dims: ts.LatentSize, Fill: latent.FillNoise},
		Sample:             call.method != "encode_amortized",
		Noise:              ts.V1 != nil && ts.V1.Config.UseNoise,
		MaxBuffer:          size,
		ReferenceAlignment: true,
	}
	const R = tsRatio
	frames := len(x) / R
	chunk := size / R
	pad := call.pad
	if pad != nil && pad.Dim(1) == 0 {
		pad = nil
	}
	rng := &replay{normal: chunkDraws(call.eps, pad, frames, chunk)}
	if call.uniform != nil {
		rng.uniform = call.uniform.Data()
	}
	opts.RNG = rng
	var s tsStreamer
	var err error
	if ts.V1 != nil {
		s, err = stream.New(ts.V1, opts)
	} else {
		s, err = stream.NewV2(ts.V2, opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	if r := s.CompressionRatio(); r != R {
		t.Fatalf("compression ratio %d, want %d", r, R)
	}
	var got *core.Tensor
	switch call.method {
	case "encode", "encode_amortized":
		var z [][]float32
		for i := 0; i < len(x); i += size {
			z = append(z, s.EncodeBuffer(nil, x[i:i+size])...)
		}
		got = framesTensor(z)
	case "decode":
		z := tensorFrames(tsTensor(t, out, name+".decode.input"))
		got = core.Zeros(1, 1, len(x))
		for f := 0; f < frames; f += chunk {
			s.DecodeBuffer(got.Data()[f*R:(f+chunk)*R], z[f:f+chunk])
		}
	case "forward":
		got = core.Zeros(1, 1, len(x))
		for i := 0; i < len(x); i += size {
			s.Process(got.Data()[i:i+size], x[i:i+size])
		}
	}
	rng.check(t)
	checkRel(t, out, name+"."+call.output, got)
}

// TestTorchScriptV2StreamingAsLoaded reproduces the v2 streaming
// export's forward as loaded — its caches as the exporter saved them,
// left by its own test calls (v2_small_ts_outputs' forward_as_loaded and
// saved_cache_row0.*) — with core/stream's V2 given that state
// (LoadState), the draws replayed, buffer by buffer from the first sample.
// From zeroed caches instead, the first half of the signal differs.
func TestTorchScriptV2StreamingAsLoaded(t *testing.T) {
	const name = "v2_small_streaming"
	ts, err := interop.ImportTorchScript(tsFixture(t, "rave-v2-small", name+".ts"))
	if err != nil {
		t.Fatal(err)
	}
	out := tsOutputs(t, "rave-v2-small", "v2_small_ts_outputs.safetensors")
	x := tsTensor(t, out, "input").Data()
	eps := tsTensor(t, out, name+".forward_as_loaded.noise_reparam")
	saved := func(cache string) []float32 {
		if key := name + ".saved_cache_row0." + cache; out.Has(key) {
			return tsTensor(t, out, key).Data()
		}
		return nil
	}
	run := func(t *testing.T, size int, load bool) *core.Tensor {
		rng := &replay{normal: chunkDraws(eps, nil, len(x)/tsRatio, size/tsRatio)}
		s, err := stream.NewV2(ts.V2, stream.Options{
			Fidelity:           latent.Fidelity{Dims: ts.LatentSize},
			Sample:             true,
			RNG:                rng,
			MaxBuffer:          size,
			ReferenceAlignment: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if load {
			if err := s.LoadState(saved); err != nil {
				t.Fatal(err)
			}
		}
		y := core.Zeros(1, 1, len(x))
		for i := 0; i < len(x); i += size {
			s.Process(y.Data()[i:i+size], x[i:i+size])
		}
		rng.check(t)
		return y
	}
	for _, size := range tsBuffers {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			checkRel(t, out, name+".forward_as_loaded.output", run(t, size, true))
		})
	}
	// The saved state matters: without it the start differs.
	zeroed, want := run(t, tsRatio, false).Data(), tsTensor(t, out, name+".forward_as_loaded.output").Data()
	var d, w float64
	for i := range len(x) / 2 {
		d = max(d, math.Abs(float64(zeroed[i]-want[i])))
		w = max(w, math.Abs(float64(want[i])))
	}
	if d < 0.01*w {
		t.Errorf("from zeroed caches the first half differs by only %.3g of its peak: the saved state does not show", d/w)
	}
}
