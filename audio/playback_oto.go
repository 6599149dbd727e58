//go:build cgo || windows || (darwin && arm64)

package audio

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hajimehoshi/oto/v2"
)

// device is the process's one oto context (oto supports a single context
// per process). It is opened by the first OpenPlayer and never closed; a
// failed open is remembered, so later calls fail at once instead of
// hanging on a second context.
var device struct {
	mu      sync.Mutex
	tried   bool
	ctx     *oto.Context
	rate    int
	format  SampleFormat
	err     error
	playing int // players between Play and Pause/end
}

func openPlayer(o PlayerOptions) (*Player, error) {
	device.mu.Lock()
	if !device.tried {
		device.tried = true
		device.rate, device.format = o.SampleRate, Float32
		if o.Int16 {
			device.format = Int16
		}
		device.ctx, device.err = openContext(o)
	}
	ctx, err, rate, format := device.ctx, device.err, device.rate, device.format
	device.mu.Unlock()
	if err != nil {
		return nil, err
	}
	fb := playbackChannels * format.bytes()
	bufBytes := max(fb, int(o.Latency.Seconds()*float64(rate))*fb)
	open := func(r io.ReadSeeker) sink {
		op := ctx.NewPlayer(r)
		if s, ok := op.(oto.BufferSizeSetter); ok {
			s.SetBufferSize(bufBytes)
		}
		return otoSink{op}
	}
	return newPlayer(rate, format, open, setDevicePlaying), nil
}

// openContext opens the device and waits for it at most o.OpenTimeout.
// Every failure wraps ErrNoDevice. The context is left suspended: it runs
// only while a player plays (setDevicePlaying), so an idle workstation
// does not stream silence.
func openContext(o PlayerOptions) (*oto.Context, error) {
	quietALSA()
	format := oto.FormatFloat32LE
	if o.Int16 {
		format = oto.FormatSignedInt16LE
	}
	ctx, ready, err := oto.NewContext(o.SampleRate, playbackChannels, format)
	if err != nil {
		return nil, fmt.Errorf("audio: %w: %v", ErrNoDevice, err)
	}
	select {
	case <-ready:
	case <-time.After(o.OpenTimeout):
		return nil, fmt.Errorf("audio: %w: the device did not answer within %v", ErrNoDevice, o.OpenTimeout)
	}
	// oto reports open failures here, not from NewContext; a player started
	// on a failed context never stops "playing".
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("audio: %w: %v%s", ErrNoDevice, err, alsaDetail())
	}
	if err := ctx.Suspend(); err != nil {
		return nil, fmt.Errorf("audio: %w: %v", ErrNoDevice, err)
	}
	return ctx, nil
}

// setDevicePlaying counts playing players, resuming the device for the
// first and suspending it after the last.
func setDevicePlaying(on bool) {
	device.mu.Lock()
	defer device.mu.Unlock()
	if device.ctx == nil {
		return
	}
	if on {
		device.playing++
		if device.playing == 1 {
			device.ctx.Resume()
		}
		return
	}
	if device.playing > 0 {
		device.playing--
		if device.playing == 0 {
			device.ctx.Suspend()
		}
	}
}

// otoSink adapts an oto Player (which also implements io.Seeker) to sink.
type otoSink struct{ oto.Player }

func (s otoSink) Seek(offset int64, whence int) (int64, error) {
	sk, ok := s.Player.(io.Seeker)
	if !ok {
		return 0, errors.New("oto player cannot seek")
	}
	return sk.Seek(offset, whence)
}
