// Package tsexport writes a RAVE v1 model (core/model) as a TorchScript
// archive that PyTorch's torch.jit.load opens, for nn~ (Max/MSP, Pure
// Data), the RAVE VST and any libtorch host: the archive layout, the
// pickled module tree and the TorchScript source are written here (the
// container by core/interop/torchscript.Write).
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
// Errors are prefixed "tsexport: ".
package tsexport
