// Package modelv2 is RAVE v2 (acids-ircam/RAVE tag v2.3.1, configs/v2.gin)
// on the core engine: configuration and presets, the PQMF-wrapped
// variational EncoderV2, GeneratorV2 with amplitude modulation and the
// optional noise generator of configs/noise.gin, the multi-period +
// multi-scale discriminator, the losses exactly as v2.3.1's
// RAVE.training_step computes them, the β warm-up and learning-rate
// schedules, and loading of the reference's state dict by tensor name.
//
// # Architecture (rave-spec.md §3.2, §3.3, §4.3, §5.2)
//
//	x (B,1,T) ─PQMF─▶ (B,16,T/16) ─Encoder─▶ (B,2L,T/2048) ─Posterior─▶ mean, std = softplus(scale)+1e-4
//	z = ε·std + mean ─Generator─▶ tanh(x·σ(a) [+ noise]) (B,16,T/16) ─PQMF⁻¹─▶ ŷ (B,1,T)
//	x, ŷ ─Discriminator─▶ 5 period + 3 scale ConvNets × 5 feature maps (last = score)
//
// Every convolution of encoder and generator is weight-normed
// (weight_g, weight_v, norm over every dim but 0) and has no bias; each
// Conv1d zero-pads as cached_conv's get_padding does, ignoring the stride
// ((r−1, r) for the kernel-2r down-sampling convolutions). The
// discriminator's convolutions have biases and are weight-normed except the
// last of each ConvNet. Parameters are named by their reference state-dict
// keys (encoder.encoder.net.5.weight_v, decoder.net.3.aligned.branches.0.
// net.1.weight_g, discriminator.discriminators.0.layers.2.net.4.bias, …),
// so LoadStateDict maps a reference state dict by name and refuses
// missing, unexpected or mis-shaped tensors by name.
//
// # Losses and schedules (rave-spec.md §6.2–§6.6, the fixture README)
//
// GeneratorStep and DiscriminatorStep reproduce one batch of
// RAVE.training_step: multiband and full-band spectral distances
// (AudioDistanceV1, against the raw input for the full band), the
// receptive-field crop of the multiband pair (ValidSignalCrop, with
// Python's precedence), the KL term without ½ weighted by β and added only
// when non-zero, and in stage 2 a frozen encoder, relative-L1 feature
// matching over maps 1…n (FeatureMatching) and the hinge losses
// (HingeLosses). v2.3.1 multiplies the feature-matching and adversarial
// weights in twice, so feature matching counts 20·20 = 400; this package
// does the same. BetaWarmup (1e-6 → 0.05, log-linear over 20 000 batches)
// and LinearLR (generator 1e-3 → 1e-4 over stage 1) are pure functions;
// Config.Beta, Config.GeneratorLR, Config.WarmedUp and
// Config.DiscriminatorBatch apply the configured values.
//
// # Parity
//
// The tests check the model against the rave-v2-small fixture
// (../shared/fixtures/rave-v2-small: v2.gin with capacity 8 and latent 16,
// the "v2-small" preset) and skip when it is absent. Forward values,
// discriminator outputs, loss terms and the well-conditioned gradients
// (the probe, the discriminator's, and the network's backward driven by the
// reference's loss gradient) match the reference's float64 run to about
// 1e-6 relative; see parity_test.go for why the end-to-end gradients of
// the spectral loss can only match loosely.
//
// # Inference
//
// Without a tape, Encode, Decode, Analysis, Synthesis, Encoder.Forward and
// Generator.Forward run the kernels of fast.go instead of the generic
// core ops: effective weights (and their transforms) cached per slab until
// the parameters change (a pass on a tape, Init, LoadStateDict and
// ParamsChanged invalidate them), the LeakyReLU before a convolution fused
// into its im2col copy, long layers multiplied in cache-sized blocks,
// Winograd F(4, 3) for the kernel-3 convolutions of 128 channels or more,
// Winograd F(2, 2) for the strided down-sampling and the transposed
// up-sampling convolutions (two taps per stride phase), the residual 1×1
// convolutions added straight into the trunk, the PQMF as polyphase
// convolutions, recycled buffers. Outputs equal the tape path's to about
// 1e-6 relative (TestFastMatchesTape). Encode+decode of 10 s with the
// full-size model, batch 1, 2 threads, on the 2-core Zen 5 VM shared with
// other engineers' tests: 206.7 ms at best (`rave bench --preset v2
// --seconds 10 --no-stream`; v1 took 255.9 ms in the same sitting), 232–239
// ms in other sittings, against PyTorch 1.13's 287 ms on a 2-core AVX-512
// machine; one second takes 48.6 ms at best (BenchmarkV2EncodeDecode), the
// generic core ops 78 ms. The caches hold the effective weights and their
// Winograd transforms (about 500 MB for the full-size model, beside its
// 250 MB of parameter and gradient slabs).
//
// Config.Causal is configs/causal.gin: every convolution of the PQMF, the
// encoder and the generator padded on the left only, so that the model
// streams with little latency (core/stream's V2 streams either kind with
// cached convolutions; Layers is the read-only view it reads).
//
// # Conventions
//
// As in core: a nil *core.Tape means inference; programmer errors (bad
// shapes) panic with messages prefixed "modelv2: "; configuration and file
// problems return errors. Period sub-discriminators hold folded signals as
// (B·p, C, T/p) (PeriodFold); Discriminator.ReferenceLayout converts a
// feature map to the reference's (B, C, T/p, p).
package modelv2
