package audio

import (
	"fmt"
	"time"
)

// Buffer holds decoded audio as planar float32 samples.
//
// Integer PCM maps to [-1, 1): a 16-bit sample v becomes v/32768. Floating
// point sources are passed through unchanged and may exceed ±1. Every channel
// has the same length.
type Buffer struct {
	// SampleRate is the number of frames per second, in Hz.
	SampleRate int
	// Channels holds one slice of samples per channel.
	Channels [][]float32
}

// Frames returns the number of sample frames (samples per channel).
func (b *Buffer) Frames() int {
	if len(b.Channels) == 0 {
		return 0
	}
	return len(b.Channels[0])
}

// Duration returns the length of the buffer in time.
func (b *Buffer) Duration() time.Duration {
	if b.SampleRate <= 0 {
		return 0
	}
	return time.Duration(float64(b.Frames()) * float64(time.Second) / float64(b.SampleRate))
}

// Mono returns the mixdown of all channels: out[i] = (1/C)·Σ_c Channels[c][i].
// For a single-channel buffer it returns Channels[0] itself, not a copy.
func (b *Buffer) Mono() []float32 {
	switch len(b.Channels) {
	case 0:
		return nil
	case 1:
		return b.Channels[0]
	}
	n := b.Frames()
	out := make([]float32, n)
	for _, ch := range b.Channels {
		if len(ch) != n {
			panic(fmt.Sprintf("audio: mono: channel has %d frames, want %d", len(ch), n))
		}
		for i, v := range ch[:n] {
			out[i] += v
		}
	}
	scale := 1 / float32(len(b.Channels))
	for i := range out {
		out[i] *= scale
	}
	return out
}

// newBuffer allocates a buffer of the given shape with zero length and the
// given capacity per channel.
func newBuffer(rate, channels, capacity int) *Buffer {
	b := &Buffer{SampleRate: rate, Channels: make([][]float32, channels)}
	for c := range b.Channels {
		b.Channels[c] = make([]float32, 0, capacity)
	}
	return b
}

// checkFormat applies the decoder limits to a header's channel count and rate.
func checkFormat(channels, rate int) error {
	switch {
	case channels <= 0:
		return fmt.Errorf("%w: %d channels", ErrCorrupt, channels)
	case channels > MaxChannels:
		return fmt.Errorf("%w: %d channels (max %d)", ErrTooLarge, channels, MaxChannels)
	case rate < MinSampleRate || rate > MaxSampleRate:
		return fmt.Errorf("%w: sample rate %d Hz outside %d..%d", ErrTooLarge, rate, MinSampleRate, MaxSampleRate)
	}
	return nil
}
