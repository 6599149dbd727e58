// Package tsexport writes a RAVE v1 model (core/model) or a RAVE v2 model
// (core/modelv2, WriteV2) as a TorchScript archive that PyTorch's
// torch.jit.load opens, for nn~ (Max/MSP, Pure Data), the RAVE VST and
// any libtorch host: the archive layout, the pickled module tree and the
// TorchScript source are written here (the container by
// core/interop/torchscript.Write).
//
// # The contract
//
// The export follows the reference v1 exporter's (export_rave.py)
// interface: a top module __torch__.TraceModel with the methods encode
// (audio (B, 1, T) → PCA latents (B, k, T/ratio), sampled from the
// posterior), encode_amortized (the posterior mean and standard deviation
// in PCA space), decode (latents (B, k, F) → audio (B, 1, F·ratio); the
// dropped dimensions k … latent_size are filled with torch.randn, the
// noise synthesiser draws torch.rand) and forward (decode ∘ encode), and
// the buffers nn~ reads: encode_params [1, 1, k, ratio], decode_params
// [k, ratio, 1, 1], forward_params [1, 1, 1, 1] (in channels, in ratio,
// out channels, out ratio), latent_pca, latent_mean, latent_size,
// sampling_rate and max_batch_size, and the attribute
// cropped_latent_size = k. The module tree has the reference's module
// paths and classes (pqmf, encoder.net.<i>, decoder.net.<i>,
// decoder.synth.branches.<i>), so core/interop.ImportTorchScript reads an
// export back into the same model; the weights are the effective ones
// (weight norm folded in).
//
// The source is ours: every module's forward is written with aten
// operators (conv1d, conv_transpose1d, leaky_relu, batch_norm, …) to
// compute what core/model computes. The random draws come in a fixed
// order, so that a caller who seeds torch can replay them: encode draws
// randn_like(mean) (B, latent_size, F); decode draws randn (B,
// latent_size − k, F), then the noise synthesiser rand (B, Fn, bands,
// target) with Fn its frames.
//
// The attribute deterministic (False) makes encode return the posterior
// mean, decode fill the dropped dimensions with zeros and skip the noise
// synthesiser; scripts set it with module.deterministic = True.
//
// # Streaming
//
// With Options.Streaming every convolution is cached, as nn~ needs to run
// a model buffer by buffer: each keeps the input samples its next outputs
// need in a buffer (one per batch item, up to max_batch_size) that every
// call updates in place, pads nothing on the right, and strided ones wait
// for whole strides (cached_conv's alignment); transposed convolutions
// keep their overlap; the identity of every residual block and the three
// heads of the decoder are delayed to line up. Successive calls on
// consecutive buffers then return what one call on the whole signal
// returns, delayed by the latency the export declares in its attributes
// encode_latency, decode_latency and forward_latency (in samples; the
// caches start at zero, so the first few buffers are a warm-up). Buffers
// must be multiples of the compression ratio, and with a noise
// synthesiser decode's buffers must hold whole noise frames (bands ×
// Π noise ratios samples: 1024 for every preset). The streaming export
// has no encode_amortized. An offline export declares latencies of 0.
//
// # RAVE v2
//
// WriteV2 and WriteFileV2 follow the contract of v2.3.1's
// scripts/export.py (nn_tilde's Module): a top module
// __torch__.VariationalScriptedRAVE with encode, decode and forward and
// their *_params buffers as above, the buffers latent_pca, latent_mean and
// fidelity, the attributes sr and sampling_rate, full_latent_size,
// latent_size (the k kept dimensions), input_mode and output_mode
// ("pqmf"), n_channels, target_channels, stereo_mode, is_using_adain and
// _has_prior, and the methods get_methods and get_attributes that nn~
// calls. The module tree has the reference's paths and classes (pqmf,
// encoder.encoder.net.<i> of rave.blocks.EncoderV2 with its residual
// dilated units, decoder.net.<i> of rave.blocks.GeneratorV2, and
// decoder.waveform_module and decoder.noise_module with a noise
// generator), so core/interop.ImportTorchScript reads an export back into
// the same model. The generator's output is tanh(x·σ(a) + noise) with
// amplitude modulation (x, a the halves of the waveform convolution's
// channels), tanh(x + noise) without. The draws are the v1 export's, in
// the reference's order: encode draws randn_like(mean), decode randn for
// the dropped dimensions, then the noise generator rand (B, Fn, bands,
// target). The attributes deterministic, streaming and the latencies are
// as for v1; the streaming export needs an even number of band samples
// per latent frame, decode's buffers whole noise frames, and every
// buffer a multiple of the compression ratio (2048 for v2.gin: one
// latent frame). A causal model (configs/causal.gin) is refused.
//
// Errors are prefixed "tsexport: ".
package tsexport
