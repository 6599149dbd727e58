// Package model is RAVE v1 (Caillon & Esling 2021, acids-ircam/RAVE tag v1)
// on the core engine: configuration and presets, the PQMF-wrapped
// variational encoder, the generator with its waveform, loudness and noise
// heads, the multi-scale MelGAN discriminator, the v1 losses, model files,
// import of reference weights, whole-signal encode/decode and benchmarks.
//
// # Architecture (rave-spec.md §3.1, §3.3, §4.1, §4.2, §5.1)
//
//	x (B,1,T) ─PQMF analysis─▶ (B,16,T/16) ─Encoder─▶ mean, scale (B,L,T/ratio)
//	std = softplus(scale) + 1e-4, z = mean + std·ε (Reparameterize), KL as coded
//	z ─Decoder.Trunk─▶ h ─heads─▶ tanh(wave)·mod_sigmoid(loud) [+ noise] ─PQMF synthesis─▶ ŷ
//	ŷ ─Discriminator─▶ 3 scales × 7 feature maps (last = score)
//
// Every parameter and buffer is named by its reference state-dict key
// (encoder.net.3.weight, decoder.net.2.net.0.aligned.branches.0.1.weight_v,
// pqmf.forward_conv.weight, …). Weight-normed layers keep weight_g and
// weight_v exactly as torch.nn.utils.weight_norm does (norm over every
// dim but 0; g is (in,1,1) for ConvTranspose1d) and WeightNorm is
// differentiable with respect to both.
//
// # Parameters, buffers, training
//
// Model.Enc, Model.Dec and Model.Disc are separate core.ParamSets (flat
// slabs) so a trainer can freeze the encoder (stage 2) and step the
// generator and discriminator with separate Adam optimisers. Buffers
// (PQMF filters, loudness tables, BatchNorm statistics, latent PCA,
// counters) live outside the slabs. Encoder.Training selects BatchNorm
// batch statistics (training) or running statistics (eval, stage 2 and
// inference). With a core.Tape the model runs through the differentiable
// core ops; Stage1DetLoss, Distance, KL, HingeDiscriminatorLoss,
// HingeGeneratorLoss and FeatureMatchingLoss are the v1 objectives.
//
// # Inference
//
// With a nil tape the model takes a fused path (fast.go, winograd.go): the
// activation before each convolution is applied while its im2col matrix is
// formed, residual branches accumulate into the trunk, the waveform and
// loudness heads share one GEMM, the 3-tap residual convolutions of 128 or
// more channels use Winograd F(4,3) (half the multiply-adds), the PQMF
// analysis runs in polyphase form, effective weight-normed weights are
// cached until the parameters change (ParamsChanged; any recorded forward
// pass invalidates them) and intermediate buffers are recycled. Results
// agree with the tape path to float32 rounding (tested). The Winograd
// transforms are AVX-512 assembly on one undilated phase of the input at a
// time (a dilated convolution is dil undilated ones on the phases).
//
// Model.SetInferencePrecision(BFloat16) runs every convolution of the
// fused path (PQMF and heads included) as bfloat16 products summed in
// float32 (core/internal/sgemm.BF16Matrix, VDPBF16PS): twice the
// multiply-adds per instruction of float32 FMA on CPUs with AVX512_BF16.
// Weights are rounded once per cache generation; activations are rounded
// while being packed, and the GEMM reads the im2col matrix straight from a
// padded, activated, stride-phase-split copy of the input (no im2col
// buffer). On the trained demo model the decoded audio stays 49 dB above
// the difference from float32 (TestBFloat16TrainedModel). Training and
// every pass with a tape stay float32.
//
// EncodeAudio and DecodeLatents work on whole signals of any length: input
// is zero-padded to a multiple of the compression ratio, output is cropped
// back, latents are in the latent-PCA space (CodecOptions.Raw for the raw
// space), and long signals are processed in chunks whose margins cover the
// receptive field, so the result equals a single pass.
// DecodeLatentsFidelity keeps the first k PCA dimensions (Fidelity: k
// given, or from a fidelity share by the reference's power-of-two rule or
// the exact one) and fills the rest with N(0,1) noise or zeros.
//
// # Streaming (stream*.go)
//
// NewStreamer runs the model buffer by buffer with the reference's cached
// convolutions (rave-spec.md §9.1): each convolution caches its padding's
// worth of past input and pads nothing on the right, strided ones add
// cached_conv's stride-alignment delay, transposed ones keep their
// overlap, and residual and head branches are delayed to line up. Outputs
// are the offline outputs delayed by a latency computed from the layer
// list (StreamLatency; StreamLatencyOf without a model), exactly after a
// warm-up. State is preallocated and a buffer allocates nothing. Layers
// with few frames per buffer (at most 32 output columns) stream their
// weights through core/internal/panel, packed once in the precision
// StreamOptions.Weights selects: WeightsFloat32 (exact, the default),
// WeightsHalf or WeightsInt8 (per-output-channel scales; the products
// round their input columns to int16 and run on AVX512-VNNI). Wider
// layers (the last decoder stages, the first encoder conv, the heads) are
// float32 GEMMs, except with WeightsInt8, where the stride-1 ones are
// bfloat16 products (sgemm.BF16Matrix, VDPBF16PS, rows read from the
// cache by offsets, no im2col); the PQMF stays float32 always.
//
// Every layer splits its work into a fixed number of parts (activation
// and cache, column preparation, product by ranges of rows or columns,
// overlap-add) run on one pool of persistent goroutines (stream_par.go):
// the caller and the workers claim parts through an atomic counter, the
// steps of a layer are chained without returning to the caller, idle
// workers poll briefly (no clock reads) and then park. The split does not
// depend on GOMAXPROCS, so neither does the output (TestStreamThreads).
//
// Speed and error of v1 streaming (StreamBenchModel, `rave bench --preset
// v1 --seconds 5`), measured on the 2-core Zen 4 development machine
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
// -count 5 ./core/model/` (mean per buffer, outliers included) gave f32
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
// # Compression (compress.go, core/rvz)
//
// Compress writes the quantised PCA latents of a signal as an .rvz file
// (core/rvz: header, per-dimension uniform quantiser, bit-packed codes,
// CRC-32s) tied to the model by Hash; Decompress refuses another model's
// files; CompressSweep tabulates bitrate against the multiscale spectral
// distance of the round trip.
//
// # Presets (16-band PQMF, 48 kHz, noise head on, hinge loss; counts
// without / with the weight-norm gains)
//
//	preset  capacity latent ratios     samples/frame encoder    decoder                  discriminator
//	v1      64       128    4,4,4,2    2048          4,836,416  12,770,721 / 12,779,442  16,907,715 / 16,917,942 (d_capacity 16, 4 layers)
//	small   32       32     4,4,4,2    2048          1,129,952   3,084,033 /  3,088,402   4,102,947 /  4,106,526 (d_capacity 8, 3 layers)
//	tiny     8       16     4,4,2       512             22,280      55,753 /     56,282   1,027,107 /  1,028,898 (d_capacity 4, 3 layers)
//
// v1 is the paper's model (rave-spec.md §10 gives a decoder of 12,777,441:
// it assumes biases on the up-samplers and residual convolutions, which the
// tag-v1 state dict does not have). small keeps the v1 structure and
// compression with a quarter of the channels and a 32-dimensional latent;
// tiny is the fixture's channel count (capacity 8, latent 16) with one
// up-sampling stage fewer (512 samples per latent frame, 93.75 Hz) for
// quick CPU experiments. Both use a shallower discriminator (3 strided
// layers) whose widest conv is 512 (small) or 256 (tiny) channels instead
// of 1024.
//
// # Files
//
// Save writes a safetensors file: tensor names = state-dict keys, F32,
// metadata format "rave-station-model", format_version "1", the config
// JSON, step, stage and the latent analysis. Load refuses other formats and
// versions, and missing, unknown or mis-shaped tensors (naming the tensor
// and both shapes). Import reads reference state dicts (.npz, .safetensors)
// and PyTorch-Lightning checkpoints (.ckpt: zip + pickle, weights under
// state_dict, hyper-parameters under hyper_parameters, else inferred from
// the tensor shapes) and fills absent buffers with their defaults.
//
// # Conventions
//
// Tensors are (B, C, T) row-major float32. Programmer errors (wrong shapes)
// panic with a "model: " prefix; file and data problems return wrapped
// errors. Every random draw takes an explicit *rand.Rand. The core/dsp
// wiring (PQMF design, noise filter, spectral and loudness distances) is
// confined to dsp.go.
package model
