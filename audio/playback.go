package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// Playback
//
// A Player plays one of two same-length tracks (A and B) on the sound
// device. Exactly one adapter, pcmReader, turns the current track into the
// io.Reader the device pulls from: it applies the volume, clamps to [-1, 1]
// and encodes float32 LE or int16 LE frames. It holds the Player's single
// mutex for the whole Read, so every state change made through the Player's
// methods (seek, A/B switch, loop, volume, a new track) is atomic with
// respect to the audio thread.
//
// The device itself lives behind the small sink interface: playback_oto.go
// (built with cgo) drives github.com/hajimehoshi/oto/v2; playback_nocgo.go
// reports that audio is unavailable. Lock order: a Player method never holds
// mu while it calls the sink, because the sink calls back into pcmReader
// (Read, Seek) with its own lock held.

// ErrNoDevice reports that no sound device could be opened: no sound card,
// no ALSA configuration, a build without cgo, or a device that did not
// answer in time. Callers should offer another way to listen (export a WAV).
var ErrNoDevice = errors.New("no sound device")

// SeekStream is a Stream with a known length that can seek: what a Player
// plays. Len and Position count samples; Seek takes a position in [0, Len].
type SeekStream interface {
	Stream
	Len() int
	Position() int
	Seek(pos int) error
}

// Clip is a SeekStream over a slice of mono samples.
type Clip struct {
	x    []float32
	rate int
	pos  int
}

// NewClip returns a Clip that plays x (not copied) at the given rate.
func NewClip(x []float32, rate int) *Clip { return &Clip{x: x, rate: rate} }

// Read implements Stream.
func (c *Clip) Read(dst []float32) (int, error) {
	n := copy(dst, c.x[c.pos:])
	c.pos += n
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

// SampleRate implements Stream.
func (c *Clip) SampleRate() int { return c.rate }

// Len returns the number of samples.
func (c *Clip) Len() int { return len(c.x) }

// Position returns the next sample Read will return.
func (c *Clip) Position() int { return c.pos }

// Seek moves to sample pos, which must lie in [0, Len].
func (c *Clip) Seek(pos int) error {
	if pos < 0 || pos > len(c.x) {
		return fmt.Errorf("audio: seek to sample %d outside [0, %d]", pos, len(c.x))
	}
	c.pos = pos
	return nil
}

// Samples returns the clip's samples (not a copy).
func (c *Clip) Samples() []float32 { return c.x }

// Track names one of the Player's two tracks.
type Track int

// The two tracks of a Player.
const (
	TrackA Track = iota
	TrackB
)

// String returns "A" or "B".
func (t Track) String() string {
	if t == TrackB {
		return "B"
	}
	return "A"
}

// PlayerOptions configures OpenPlayer. Zero fields take the defaults.
type PlayerOptions struct {
	// SampleRate is the device rate in Hz (48000). Only one device can be
	// open per process: the first rate asked for is kept, and later players
	// report it from SampleRate.
	SampleRate int
	// Int16 hands the device int16 LE frames instead of float32 LE ones
	// (oto converts either to float32 for ALSA; float32 is lossless).
	Int16 bool
	// Latency is the playback buffer (100 ms): how late a pause, seek or A/B
	// switch is heard, and how far the device reads ahead.
	Latency time.Duration
	// OpenTimeout bounds how long opening the device may take (3 s); past
	// it OpenPlayer returns an error wrapping ErrNoDevice.
	OpenTimeout time.Duration
}

func (o PlayerOptions) withDefaults() PlayerOptions {
	if o.SampleRate <= 0 {
		o.SampleRate = 48000
	}
	if o.Latency <= 0 {
		o.Latency = 100 * time.Millisecond
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = 3 * time.Second
	}
	return o
}

// playbackChannels is the channel count sent to the device: mono tracks are
// duplicated to stereo, which every device accepts.
const playbackChannels = 2

// sink is the device side of a Player: a buffered player that pulls from a
// pcmReader. oto's Player satisfies it (with io.Seeker).
type sink interface {
	Play()
	Pause()
	IsPlaying() bool
	// Seek drops the buffered audio and seeks the reader (bytes).
	Seek(offset int64, whence int) (int64, error)
	// UnplayedBufferSize is the number of bytes read but not yet played.
	UnplayedBufferSize() int
	Err() error
	Close() error
}

// Player plays two same-length tracks, A and B, one at a time, and
// switches between them at the same position. Its methods are safe for
// concurrent use.
type Player struct {
	// mu guards every field below; pcmReader.Read holds it while it fills
	// the device buffer.
	mu      sync.Mutex
	tracks  [2]SeekStream
	cur     Track
	loop    bool
	volume  float64
	rate    int
	format  SampleFormat
	scratch []float32

	sink    sink
	onPlay  func(playing bool) // device hook: resume or suspend
	playing bool               // Play was called and Pause not since
}

// newPlayer builds a Player around a device opened by openSink.
func newPlayer(rate int, format SampleFormat, open func(r io.ReadSeeker) sink, onPlay func(bool)) *Player {
	p := &Player{volume: 1, rate: rate, format: format, onPlay: onPlay}
	p.sink = open(&pcmReader{p: p})
	return p
}

// OpenPlayer opens the sound device (once per process; later calls share
// it) and returns a Player with no tracks. With no usable device it returns
// an error wrapping ErrNoDevice within opts.OpenTimeout; it never hangs.
// While the device is open, alsa-lib's diagnostics are kept off stderr so
// they cannot corrupt a full-screen terminal UI.
func OpenPlayer(opts PlayerOptions) (*Player, error) {
	return openPlayer(opts.withDefaults())
}

// SampleRate returns the device rate; tracks must have this rate.
func (p *Player) SampleRate() int { return p.rate }

// Load replaces both tracks. a must not be nil; b may be nil (no B track).
// Both must have the Player's rate, and b a's length. The position is kept
// (clamped to the new length) and playback continues if it was playing.
func (p *Player) Load(a, b SeekStream) error {
	if a == nil {
		return errors.New("audio: player: track A is nil")
	}
	if err := p.check(a); err != nil {
		return err
	}
	if b != nil {
		if err := p.check(b); err != nil {
			return err
		}
		if b.Len() != a.Len() {
			return fmt.Errorf("audio: player: track B has %d samples, track A %d", b.Len(), a.Len())
		}
	}
	pos := p.Position()
	p.mu.Lock()
	p.tracks = [2]SeekStream{a, b}
	if b == nil {
		p.cur = TrackA
	}
	pos = min(pos, a.Len())
	p.mu.Unlock()
	return p.seekSink(pos)
}

// SetTrack replaces one track; the new track must have the rate of the
// Player and the length of the other track, if any. Replacing the current
// track is heard at once, at the same position; the other track is left
// alone until Select. s nil removes track B (the Player then plays A).
func (p *Player) SetTrack(t Track, s SeekStream) error {
	if s == nil {
		if t == TrackA {
			return errors.New("audio: player: track A is nil")
		}
	} else if err := p.check(s); err != nil {
		return err
	}
	pos := p.Position()
	p.mu.Lock()
	if other := p.tracks[1-t]; s != nil && other != nil && other.Len() != s.Len() {
		p.mu.Unlock()
		return fmt.Errorf("audio: player: track %v has %d samples, track %v %d", t, s.Len(), 1-t, other.Len())
	}
	p.tracks[t] = s
	current := t == p.cur
	if s == nil {
		current, p.cur = p.cur == TrackB, TrackA
	}
	if p.tracks[p.cur] != nil {
		pos = min(pos, p.tracks[p.cur].Len())
	}
	p.mu.Unlock()
	if !current {
		return nil // heard only after Select, which seeks it
	}
	return p.seekSink(pos)
}

func (p *Player) check(s SeekStream) error {
	if s.SampleRate() != p.rate {
		return fmt.Errorf("audio: player: track at %d Hz, the device plays %d Hz (resample it first)", s.SampleRate(), p.rate)
	}
	return nil
}

// HasTrack reports whether track t is loaded.
func (p *Player) HasTrack(t Track) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tracks[t] != nil
}

// Len returns the length of the loaded tracks in samples (0 with none).
func (p *Player) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tracks[TrackA] == nil {
		return 0
	}
	return p.tracks[TrackA].Len()
}

// Play starts or resumes playback of the current track. At the end of a
// track (without loop) it starts again from the beginning.
func (p *Player) Play() error {
	if !p.HasTrack(p.Current()) {
		return errors.New("audio: player: nothing loaded")
	}
	if err := p.sink.Err(); err != nil {
		return fmt.Errorf("audio: player: %w", err)
	}
	if p.sink.IsPlaying() {
		return nil
	}
	if p.Position() >= p.Len() {
		if err := p.seekSink(0); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.playing = true
	p.mu.Unlock()
	if p.onPlay != nil {
		p.onPlay(true)
	}
	p.sink.Play()
	return nil
}

// Pause stops playback; Play resumes at the same position.
func (p *Player) Pause() {
	p.sink.Pause()
	p.mu.Lock()
	was := p.playing
	p.playing = false
	p.mu.Unlock()
	if was && p.onPlay != nil {
		p.onPlay(false)
	}
}

// Toggle pauses a playing Player and plays a paused one.
func (p *Player) Toggle() error {
	if p.Playing() {
		p.Pause()
		return nil
	}
	return p.Play()
}

// Playing reports whether audio is being played. It turns false by itself
// at the end of a track that does not loop.
func (p *Player) Playing() bool {
	on := p.sink.IsPlaying()
	p.mu.Lock()
	was := p.playing
	if !on {
		p.playing = false
	}
	p.mu.Unlock()
	if was && !on && p.onPlay != nil {
		p.onPlay(false)
	}
	return on
}

// Position returns the sample being heard: what the current track has
// delivered minus what still waits in the device buffer.
func (p *Player) Position() int {
	unplayed := p.sink.UnplayedBufferSize() / p.frameBytes()
	p.mu.Lock()
	defer p.mu.Unlock()
	tr := p.tracks[p.cur]
	if tr == nil {
		return 0
	}
	n := tr.Len()
	pos := tr.Position() - unplayed
	if pos < 0 {
		if p.loop && n > 0 {
			pos = ((pos % n) + n) % n // the read side wrapped around
		} else {
			pos = 0
		}
	}
	return pos
}

// Seek moves playback to sample pos (clamped to [0, Len]).
func (p *Player) Seek(pos int) error {
	return p.seekSink(max(0, min(pos, p.Len())))
}

// seekSink flushes the device buffer and moves the current track to pos.
func (p *Player) seekSink(pos int) error {
	if _, err := p.sink.Seek(int64(pos*p.frameBytes()), io.SeekStart); err != nil {
		return fmt.Errorf("audio: player: seek: %w", err)
	}
	return nil
}

// Select makes t the current track at the position being heard, so an A/B
// comparison hears the same moment of both.
func (p *Player) Select(t Track) error {
	pos := p.Position()
	p.mu.Lock()
	if p.tracks[t] == nil {
		p.mu.Unlock()
		return fmt.Errorf("audio: player: no track %v loaded", t)
	}
	if p.cur == t {
		p.mu.Unlock()
		return nil
	}
	p.cur = t
	p.mu.Unlock()
	return p.seekSink(pos)
}

// Current returns the current track.
func (p *Player) Current() Track {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// SetLoop makes the tracks restart at their end instead of stopping.
func (p *Player) SetLoop(on bool) {
	p.mu.Lock()
	p.loop = on
	p.mu.Unlock()
}

// Loop reports whether looping is on.
func (p *Player) Loop() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.loop
}

// MaxVolume is the largest gain SetVolume accepts (samples are clamped to
// [-1, 1] after the gain).
const MaxVolume = 2.0

// SetVolume sets the linear gain, clamped to [0, MaxVolume].
func (p *Player) SetVolume(v float64) {
	if math.IsNaN(v) {
		return
	}
	p.mu.Lock()
	p.volume = max(0, min(v, MaxVolume))
	p.mu.Unlock()
}

// Volume returns the linear gain.
func (p *Player) Volume() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.volume
}

// Err returns the device error, if any.
func (p *Player) Err() error { return p.sink.Err() }

// Close stops playback and frees the player (the device stays open for the
// next Player of the process).
func (p *Player) Close() error {
	p.Pause()
	return p.sink.Close()
}

func (p *Player) frameBytes() int { return playbackChannels * p.format.bytes() }

// pcmReader is the one adapter from a Player's current track to the bytes
// a device reads: volume, clamp to [-1, 1], then float32 LE or int16 LE,
// each mono sample written to both channels.
type pcmReader struct{ p *Player }

// Read fills b with whole frames of the current track. At the end of a
// track it wraps around when looping, else returns io.EOF.
func (r *pcmReader) Read(b []byte) (int, error) {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	fb := p.frameBytes()
	frames := len(b) / fb
	tr := p.tracks[p.cur]
	if tr == nil {
		return 0, io.EOF
	}
	if frames == 0 {
		return 0, nil
	}
	if cap(p.scratch) < frames {
		p.scratch = make([]float32, frames)
	}
	buf := p.scratch[:frames]
	n := 0
	var end error
	for n < frames {
		m, err := tr.Read(buf[n:])
		n += m
		if err == nil {
			if m == 0 {
				break // a stream breaking its contract; avoid spinning
			}
			continue
		}
		if errors.Is(err, io.EOF) && p.loop && tr.Len() > 0 {
			if serr := tr.Seek(0); serr != nil {
				end = serr
				break
			}
			continue
		}
		end = err
		break
	}
	encodePCM(b[:n*fb], buf[:n], float32(p.volume), p.format)
	return n * fb, end
}

// Seek moves the current track; offset counts bytes of device frames.
func (r *pcmReader) Seek(offset int64, whence int) (int64, error) {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	fb := int64(p.frameBytes())
	tr := p.tracks[p.cur]
	if tr == nil {
		return 0, nil
	}
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset / fb
	case io.SeekCurrent:
		pos = int64(tr.Position()) + offset/fb
	case io.SeekEnd:
		pos = int64(tr.Len()) + offset/fb
	default:
		return 0, fmt.Errorf("audio: player: bad whence %d", whence)
	}
	pos = max(0, min(pos, int64(tr.Len())))
	if err := tr.Seek(int(pos)); err != nil {
		return 0, err
	}
	return pos * fb, nil
}

// encodePCM writes x (mono) as interleaved stereo frames into dst:
// v = clamp(gain·x, −1, 1), then float32 LE bits, or int16 LE
// round(v·32768) clipped to [−32768, 32767] (oto reads it back as q/32768).
// dst must hold len(x) frames.
func encodePCM(dst []byte, x []float32, gain float32, f SampleFormat) {
	switch f {
	case Int16:
		for i, s := range x {
			v := math.Round(float64(clampUnit(s*gain)) * 32768)
			q := uint16(int16(max(-32768, min(v, 32767))))
			o := i * 4
			binary.LittleEndian.PutUint16(dst[o:], q)
			binary.LittleEndian.PutUint16(dst[o+2:], q)
		}
	default:
		for i, s := range x {
			bits := math.Float32bits(clampUnit(s * gain))
			o := i * 8
			binary.LittleEndian.PutUint32(dst[o:], bits)
			binary.LittleEndian.PutUint32(dst[o+4:], bits)
		}
	}
}

// clampUnit clamps v to [-1, 1]; NaN becomes 0.
func clampUnit(v float32) float32 {
	switch {
	case v != v:
		return 0
	case v > 1:
		return 1
	case v < -1:
		return -1
	}
	return v
}
