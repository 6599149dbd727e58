// Package model is RAVE v1 (Caillon & Esling 2021, acids-ircam/RAVE tag v1)
// on the core engine: configuration and presets, the PQMF-wrapped
// variational encoder, the generator with its waveform, loudness and noise
// heads, the multi-scale MelGAN discriminator, the v1 losses, model files
// and whole-signal encode/decode. Layers is a read-only view of the layers
// for code that runs them with kernels of its own (core/stream). Reading
// the reference's files is core/interop's job, streaming core/stream's,
// .rvz compression core/compress's, choosing latent dimensions
// core/latent's and timing core/bench's.
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
// dim but 0; g is (in,1,1) for ConvTranspose1d); the weight-norm op,
// PyTorch's initialisation and the posterior's math are core/internal/nn's,
// shared with core/modelv2.
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
// With a nil tape the model takes a fused path (fast.go, winograd*.go, on
// the kernels of core/internal/convinfer): the
// activation before each convolution is applied while its input is split
// into stride phases, from which the im2col rows are contiguous copies made
// in L2-sized blocks of columns, each multiplied on its own worker;
// residual branches accumulate into the trunk, the waveform and loudness
// heads share one GEMM, the 3-tap residual convolutions of 64 or more
// channels use Winograd F(4,3) (half the multiply-adds), so do the strided
// encoder convolutions once split into phases of at most 3 taps (a third
// to 40 % fewer), the up-samplers use Winograd F(2,2) on their stride
// phases (a quarter fewer), the PQMF analysis runs in polyphase form,
// effective weight-normed weights are cached until the parameters change
// (ParamsChanged; any recorded forward pass invalidates them) and
// intermediate buffers are recycled. Results agree with the tape path to
// float32 rounding (tested). The F(4,3) transforms are AVX-512 or AVX2
// assembly on one undilated phase of the input at a time (a dilated
// convolution is dil undilated ones on the phases).
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
// DecodeLatentsFidelity keeps the first k PCA dimensions (latent.Fidelity:
// k given, or from a fidelity share by the reference's power-of-two rule
// or the exact one) and fills the rest with N(0,1) noise or zeros.
//
// # Presets (16-band PQMF, 48 kHz, noise head on, hinge loss; counts
// without / with the weight-norm gains)
//
//	preset  capacity latent ratios     samples/frame encoder    decoder                  discriminator
//	v1      64       128    4,4,4,2    2048          4,836,416  12,770,721 / 12,779,442  16,907,715 / 16,917,942 (d_capacity 16, 4 layers)
//	small   32       32     4,4,4,2    2048          1,129,952   3,084,033 /  3,088,402   4,102,947 /  4,106,526 (d_capacity 8, 3 layers)
//	tiny     8       16     4,4,2       512             22,280      55,753 /     56,282   1,027,107 /  1,028,898 (d_capacity 4, 3 layers)
//	quick   32       32     4,4,2       512            301,536     798,209 /    800,274   4,102,947 /  4,106,526 (d_capacity 8, 3 layers)
//
// v1 is the paper's model (rave-spec.md §10 gives a decoder of 12,777,441:
// it assumes biases on the up-samplers and residual convolutions, which the
// tag-v1 state dict does not have). small keeps the v1 structure and
// compression with a quarter of the channels and a 32-dimensional latent;
// tiny is the fixture's channel count (capacity 8, latent 16) with one
// up-sampling stage fewer (512 samples per latent frame, 93.75 Hz) for
// quick CPU experiments. quick, the default of a new training run, has
// small's channels and latent with tiny's 512 samples per latent frame:
// a quarter of small's weights and four times its latent rate; trained
// with batches of 4, it learns a recorded instrument's pitch in a fraction
// of small's time (README, "A model in 30 minutes"). All three use
// a shallower discriminator (3 strided layers) whose widest conv is 512
// (small, quick) or 256 (tiny) channels instead of 1024.
//
// # Files
//
// Save writes a safetensors file: tensor names = state-dict keys, F32,
// metadata format "rave-station-model", format_version "1", the config
// JSON, step, stage and the latent analysis. Load refuses other formats and
// versions, and missing, unknown or mis-shaped tensors (naming the tensor
// and both shapes). Blank and FillBuffers serve core/interop, which fills
// a model by tensor name from the reference's files. Hash is the model's
// identity in .rvz files (core/compress).
//
// # Conventions
//
// Tensors are (B, C, T) row-major float32. Programmer errors (wrong shapes)
// panic with a "model: " prefix; file and data problems return wrapped
// errors. Every random draw takes an explicit *rand.Rand. The core/dsp
// wiring (PQMF design and sign/interleave ops, noise filter, spectral and
// loudness distances, A-weighting) is in dsp.go and pqmf.go.
package model
