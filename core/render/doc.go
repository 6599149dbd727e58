// Package render turns audio and latents into other audio and files with a
// trained RAVE model: reconstruction and timbre transfer (File), latents
// to and from .npy files (EncodeFile, DecodeFile), .rvz compression and its
// bitrate sweep (CompressFile, DecompressFile, CompressSweep), generation
// from a latent prior, offline (Generate) or block by block (Generator),
// and prior-coded .rvzp streams (CompressWithPrior, DecompressWithPrior and
// their file forms). It also measures what it renders: the multiscale
// spectral distance of training (SpectralDistance), pitch and level
// (audio/compare), and can match the output's loudness to the input's
// (MatchLoudness).
//
// Render reads the model it is given, already loaded: it never resolves a
// session or a file name to a model or prior (sessions.OpenModel and
// sessions.OpenPrior do that, and this package does not import sessions).
// It uses the model through core/model's public codec: EncodeAudioWith and
// DecodeLatentsWith (or a stream.Streamer, for live generation), its
// latent analysis (Model.LatentPCA) to keep the PCA dimensions a fidelity
// needs, and its Hash to tie compressed files to the model that wrote
// them. Input audio of any format and rate is decoded, mixed to mono and
// resampled to the model's rate (LoadAudio); outputs are float WAV files.
//
// # Long files
//
// File, EncodeFile, DecodeFile, CompressFile, DecompressFile and
// GenerateFile stream: they read the input a block at a time
// (audio.FileStream and audio.Resampler, every format), encode and decode
// chunks of 128 latent frames with the context their receptive field
// needs (model.ChunkContext) and write the output as it comes
// (audio.WAVWriter, npy.ColumnWriter, atomically). Their memory does not
// grow with the input's length, their output is a single pass's up to
// float32 rounding, and random draws are keyed by position so that they
// do not depend on the chunking (chunked.go). A Progress in the options
// draws a progress bar on a terminal. File measures a long render on
// about five minutes of excerpts (Report.Measured), and CompressFile
// its round trip the same way; CompressFile and DecompressFile hold the
// latents whole (a few percent of the audio).
package render
