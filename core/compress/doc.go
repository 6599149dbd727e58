// Package compress turns audio into .rvz files through a model and back
// (Compress, Decompress): the signal's deterministic latents rotated into
// the model's PCA space, the first dimensions kept (latent.Fidelity) and
// quantised (core/rvz), the file tied to the model by model.Model.Hash.
// Decompress refuses another model's files; the dimensions dropped are
// decoded as zeros or as noise seeded by the file, so decompressing twice
// gives the same signal. Sweep tabulates bitrate against the round trip's
// multiscale spectral distance.
//
// Errors are prefixed "compress: ".
package compress
