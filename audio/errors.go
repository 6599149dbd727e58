package audio

import "errors"

// Sentinel errors returned (wrapped with the file name and details) by the
// decoders and the dataset store. Test for them with errors.Is.
var (
	// ErrUnsupportedFormat reports content that is not audio in a format this
	// package decodes: a text file, an unknown container, or a known container
	// with an unsupported codec or sample format.
	ErrUnsupportedFormat = errors.New("unsupported format")

	// ErrCorrupt reports a file in a supported format whose headers or data are
	// invalid.
	ErrCorrupt = errors.New("corrupt data")

	// ErrTruncated reports a file that ends before the length its header
	// announces.
	ErrTruncated = errors.New("truncated")

	// ErrEmpty reports a file that decodes to zero sample frames.
	ErrEmpty = errors.New("no audio frames")

	// ErrTooLarge reports a header that asks for more channels, a higher or
	// lower sample rate, or more samples than the limits below allow
	// (MaxChannels, MinSampleRate, MaxSampleRate, MaxSamples).
	ErrTooLarge = errors.New("exceeds decoder limits")

	// ErrDatasetVersion reports a dataset.bin with a wrong magic number or a
	// format version this build cannot read.
	ErrDatasetVersion = errors.New("unknown dataset format")
)

// Decoder limits. Headers that exceed them are rejected before any large
// allocation, so corrupt or hostile files cannot exhaust memory.
const (
	// MaxChannels is the largest channel count accepted.
	MaxChannels = 64
	// MinSampleRate is the lowest sample rate accepted, in Hz.
	MinSampleRate = 1000
	// MaxSampleRate is the highest sample rate accepted, in Hz.
	MaxSampleRate = 768000
	// MaxSamples is the largest number of decoded samples (frames × channels)
	// accepted from one file: 2^31, 8 GiB as float32.
	MaxSamples = 1 << 31
)
