// Package audio turns audio files into samples and back, resamples, streams,
// and stores training datasets.
//
// # Decoding
//
// Decode and DecodeReader pick the decoder from the content (magic bytes),
// not the file name: WAV (RIFF/RF64; PCM 8/16/24/32-bit, IEEE float 32/64,
// WAVE_FORMAT_EXTENSIBLE; our own parser), AIFF and uncompressed AIFF-C (our
// own), FLAC (github.com/mewkiz/flac), MP3 (github.com/hajimehoshi/go-mp3)
// and Ogg Vorbis (github.com/jfreymuth/oggvorbis). They return a Buffer of
// planar float32 samples. Integer PCM v with b bits maps to v/2^(b−1), so
// full scale is [-1, 1); float sources pass through unchanged.
//
// # Errors
//
// Functions that touch the world return errors wrapped with what they were
// doing and the file, for example "audio: decode take1.wav: wav: truncated:
// data chunk announces 96000 bytes, 4000 present". The cause can be tested
// with errors.Is against the sentinels ErrUnsupportedFormat, ErrCorrupt,
// ErrTruncated, ErrEmpty, ErrTooLarge and ErrDatasetVersion. Headers are
// checked against MaxChannels, MinSampleRate, MaxSampleRate and MaxSamples
// before anything large is allocated, and panics inside third-party decoders
// are recovered as ErrCorrupt: no input makes the package panic. Programmer
// errors (a negative block size, an out-of-range chunk index, a dst of the
// wrong length) panic with a message prefixed "audio:".
//
// # Resampling and writing
//
// Resample is a zero-delay, linear-phase Kaiser-windowed-sinc polyphase
// resampler: passband flat to 90% of the lower Nyquist frequency, ≥120 dB
// stopband from the lower Nyquist frequency on (measured in the tests: THD+N
// of a 1 kHz tone 44.1→48 kHz about −138 dB; aliases of a 48→22.05 kHz sweep
// below −130 dBFS). WriteWAV writes 16-bit, 24-bit or float WAV files
// atomically (temporary file, fsync, rename).
//
// # Streams
//
// Stream is the pull interface shared by playback and streaming inference:
// Read fills the caller's buffer completely except at the end of the stream.
// NewSliceStream, ReadAll, Blocks and Reblock build on it.
//
// Long files go through without being held: OpenStream reads a file as a
// mono Stream block by block (FLAC, MP3 and Ogg Vorbis are decoded twice:
// once when opened, to learn their length), Resampler is Resample for a signal pushed
// in pieces (the same output, sample for sample), and WAVWriter writes a
// WAV file block by block, patching its header and renaming it into place
// on Close (the bytes WriteWAV writes).
//
// # Datasets
//
// BuildDataset turns files and folders into a session's dataset.bin (a fixed
// header, then [N][chunkLen]int16 chunks, little-endian; see datasetHeader)
// plus dataset.json (sources with size, mtime, SHA-256 and chunk ranges;
// rejections with reasons; rate; chunk length; seed). It decodes in
// parallel, writes in sorted path order, appends only new content on later
// runs, and replaces both files atomically. OpenDataset maps dataset.bin
// read-only and hands out zero-copy chunks. Stored samples are
// round(x·32768) clipped to int16; read them back as v/32768 (Int16Scale).
//
// # Memory conventions
//
// Buffers are planar ([channel][frame]). Functions named with a dst argument
// (Dataset.ChunkFloat) fill and return dst; a nil dst is allocated, a dst of
// the wrong length panics. Slices returned by Dataset.Chunk alias read-only
// mapped memory.
package audio
