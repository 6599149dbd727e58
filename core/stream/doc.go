// Package stream runs a core/model model on a live stream, buffer by
// buffer (Streamer, New), as acids-ircam/cached_conv runs the reference.
// It reads the model through model.Layers, a read-only view of its layers
// and weights, and runs them with kernels of its own. V2 (NewV2) does the
// same for a RAVE v2 model (core/modelv2, read through modelv2.Layers),
// with the same layers, options and latency account.
//
// New runs the model buffer by buffer with the reference's cached
// convolutions (rave-spec.md §9.1): each convolution caches its padding's
// worth of past input and pads nothing on the right, strided ones add
// cached_conv's stride-alignment delay, transposed ones keep their
// overlap, and residual and head branches are delayed to line up. Outputs
// are the offline outputs delayed by a latency computed from the layer
// list (Latency; LatencyOf without a model), exactly after a
// warm-up. State is preallocated and a buffer allocates nothing. Layers
// with few frames per buffer (at most 32 output columns) stream their
// weights through core/internal/panel, packed once in the precision
// Options.Weights selects: WeightsFloat32 (exact, the default),
// WeightsHalf or WeightsInt8 (per-output-channel scales; the products
// round their input columns to int16 and run on AVX512-VNNI). Wider
// layers (the last decoder stages, the first encoder conv, the heads) are
// float32 GEMMs, except with WeightsInt8, where the stride-1 ones are
// bfloat16 products (sgemm.BF16Matrix, VDPBF16PS, rows read from the
// cache by offsets, no im2col); the PQMF stays float32 always.
//
// Every layer splits its work into a fixed number of parts (activation
// and cache, column preparation, product by ranges of rows or columns,
// overlap-add) run on one pool of persistent goroutines (par.go):
// the caller and the workers claim parts through an atomic counter, the
// steps of a layer are chained without returning to the caller, idle
// workers poll briefly (no clock reads) and then park. The split does not
// depend on GOMAXPROCS, so neither does the output (TestStreamThreads).
//
// Speed and error of v1 streaming (core/bench's StreamModel, `rave bench
// --preset v1 --seconds 5`), measured on the 2-core Zen 4 development machine
// between the runs of another engineer's tests: median ms per buffer over
// the runs that had the machine to themselves (in brackets: runs during
// which another process took a core) and × real time of the best; SNR of
// the output against float32 weights':
//
//	weights  MB read  2048 (42.7 ms)          4096 (85.3 ms)           8192 (170.7 ms)          SNR, random v1 / demo
//	f32      70.3     4.2–5.2 (10.1×)         6.5–7.4 (13.2×)          10.0–10.6 (17.1×)        —
//	f16      36.0     2.9–4.1 (14.9×)         4.2–5.2 (20.5×)          7.4–9.6 (23.0×)          113.5 / 75.4 dB
//	int8     18.1     1.45–1.66 [1.9–2.6]     2.4–2.6 [3.4–4.3]        4.1–4.5 [5.1–7.2]        87.1 / 46.9 dB
//	                  (29.4×)                 (35.6×)                  (42.0×)
//
// The largest int8 buffer time at 2048 was 1.8–2.8 ms in the quiet runs
// (5 ms with another process). `go test -run '^$' -bench 'Stream/v1/2048'
// -count 5 ./core/stream/` (mean per buffer, outliers included) gave f32
// 4.2–5.1 ms, f16 3.0–4.0, int8 1.6–2.9 over two runs of five. With one thread
// (GOMAXPROCS=1) int8 takes 2.7–3.0 ms at 2048: two threads give 1.6–1.9×
// (before the streaming pool, 1.2–1.4×). At 2048 samples most layers have
// one to four frames, so the time is the int8 weights' 18 MB read per
// buffer plus v1's ~106 M multiply-adds (VPDPWSSD, 32 per instruction).
// bfloat16 for the wide layers costs WeightsInt8 1 dB on a random model
// (88.1 → 87.1) and nothing on the demo (46.7 → 46.9 dB); for WeightsHalf
// it would take ~0.5 ms off at 2048 but bring the demo's SNR from 75.4 to
// 55.4 dB, so half-precision streams keep those layers in float32. "demo"
// is the embedded small model on its clip (TestStreamWeightsDemo); a
// random initialisation overstates the SNR. `small` streams 2048-sample
// buffers in 0.9–1.0 ms with float32 weights, `tiny` 512 in 0.12 ms.
// Latency (model only, host buffer excluded):
//
//	preset  padding  encoder          decoder (noise head off / on)  Process (off / on)
//	v1      centred  4 frames = 8192  18816 / 19712                  27008 (562.7 ms) / 27904 (581.3 ms)
//	v1      causal   1 frame  = 2048   1488 /  2176                   3536 (73.7 ms) /   4224 (88.0 ms)
//	small   as v1
//	tiny    centred  5 frames = 2560   4992 /  5888                   7552 (157.3 ms) /  8448 (176.0 ms)
//	tiny    causal   1 frame  = 512     464 /  1664                    976 (20.3 ms) /   2176 (45.3 ms)
//
// rave-spec.md §9.4 sums the delays without the stride alignment that
// makes the streamed latents line up with the offline ones (28,240 for
// v1 centred, 1,616 for v1 no_latency); here the analysis PQMF's delay is
// rounded up to whole latent frames by the encoder's alignment, which is
// what an exact match with the offline model costs.
//
// Options.ReferenceAlignment streams as the reference's own streaming
// exports do instead, which is what importing or exporting a .ts needs:
// cached_conv aligns strides only within a network (v1: the encoder from
// the analysis PQMF's output, the noise generator from the trunk's; v2.3.1:
// every convolution on its own), AlignBranches delays the heads' inputs
// (so a head gives its bias, not zeros, while it waits), and reverse_half
// alternates with each call's own samples. The latency is then §9.4's
// (v1 28,240 samples with the noise head, 1,616 causal; v2 26,720), and
// after the warm-up the latents are the offline encoding of the input
// delayed by EncoderSamples mod the compression ratio (v1: 256 samples,
// v2: 1,920), not of the input: a stream and an offline encoding of the
// same audio sample it at different phases. From zeroed caches it equals
// the fixture exports' encode, decode and forward outputs buffer for
// buffer, warm-up included, to ~1e-6 (core/interop's
// TestTorchScriptStreaming, with the reference's random draws replayed
// through Options.RNG, a Rand). V2.LoadState starts such a stream from the
// caches a v2 export saved instead of zeros (TestTorchScriptV2StreamingAsLoaded).
//
// RAVE v2 (V2): residual units in the encoder as in the generator, each
// identity path delayed by its branch; the strided convolutions of kernel
// 2r padded (r−1, r) get cached_conv's alignment; the output is
// tanh(x·σ(a)) of the waveform convolution. Latency (model only): centred
// 26,848 samples (608.8 ms: encoder 7 frames = 14,336, decoder 12,512;
// rave-spec.md §9.4 gives 26,720–27,376 depending on how the alignment
// chains; 26,720 is the reference's, with ReferenceAlignment), causal
// (configs/causal.gin, modelv2.Config.Causal) 1,696 samples (38.5 ms, the
// transposed convolutions' paddings). The full-size
// model reads 126 MB of float32 weights per buffer (64 MB f16, 32 MB int8),
// so streaming it is bound by memory bandwidth: `rave bench --preset v2
// --seconds 5` on the 2-core Zen 5 VM, shared with other engineers' tests
// (load average ~3), median ms per buffer (× real time), v1 of the same
// sitting in brackets; SNR against float32 weights on a random model:
//
//	weights  2048 (46.4 ms)         4096             8192             SNR
//	f32      4.32 (10.8×) [2.75]    5.88 (15.8×)     8.69 (21.4×)     —
//	f16      2.84 (16.4×) [1.99]    4.43 (21.0×)     7.18 (25.9×)     62.7 dB
//	int8     1.74 (26.8×) [1.48]    4.51 (20.6×)     7.22 (25.7×)     37.0 dB
//
// The noise generator is not streamed yet (NewV2 refuses Options.Noise
// for a model that has one).
//
// Programmer errors (buffer lengths) panic with a "stream: " prefix;
// configurations that cannot stream return errors.
package stream
