package audio

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"sync"
	"testing"
)

// fakeSink imitates oto's buffered player: it reads ahead up to bufFrames
// from the adapter, "plays" frames on demand, drops its buffer on Seek and
// stops by itself after io.EOF once its buffer is empty.
type fakeSink struct {
	r         io.ReadSeeker
	fb        int
	format    SampleFormat
	bufFrames int
	playing   bool
	eof       bool
	buf       []byte
	played    []byte
	closed    bool
}

func (f *fakeSink) fill() {
	for !f.eof && len(f.buf) < f.bufFrames*f.fb {
		tmp := make([]byte, f.bufFrames*f.fb-len(f.buf))
		n, err := f.r.Read(tmp)
		f.buf = append(f.buf, tmp[:n]...)
		if errors.Is(err, io.EOF) {
			f.eof = true
		}
		if n == 0 && err == nil {
			return
		}
	}
}

// play moves up to frames frames from the buffer to played.
func (f *fakeSink) play(frames int) {
	if !f.playing {
		return
	}
	for frames > 0 {
		f.fill()
		n := min(frames*f.fb, len(f.buf))
		if n == 0 {
			break
		}
		f.played = append(f.played, f.buf[:n]...)
		f.buf = f.buf[n:]
		frames -= n / f.fb
	}
	f.fill()
	if f.eof && len(f.buf) == 0 {
		f.playing = false
	}
}

func (f *fakeSink) Play()                   { f.playing = true; f.fill() }
func (f *fakeSink) Pause()                  { f.playing = false }
func (f *fakeSink) IsPlaying() bool         { return f.playing }
func (f *fakeSink) UnplayedBufferSize() int { return len(f.buf) }
func (f *fakeSink) Err() error              { return nil }
func (f *fakeSink) Close() error            { f.closed = true; return nil }
func (f *fakeSink) Seek(off int64, whence int) (int64, error) {
	f.buf, f.eof = nil, false
	return f.r.Seek(off, whence)
}

// channel returns channel c of the played frames as float32 samples.
func (f *fakeSink) channel(c int) []float32 {
	var out []float32
	bps := f.format.bytes()
	for o := 0; o+f.fb <= len(f.played); o += f.fb {
		b := f.played[o+c*bps:]
		if f.format == Int16 {
			out = append(out, float32(int16(binary.LittleEndian.Uint16(b)))/32768)
		} else {
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(b)))
		}
	}
	return out
}

func newTestPlayer(t *testing.T, format SampleFormat, bufFrames int) (*Player, *fakeSink) {
	t.Helper()
	var fs *fakeSink
	p := newPlayer(1000, format, func(r io.ReadSeeker) sink {
		fs = &fakeSink{r: r, fb: playbackChannels * format.bytes(), format: format, bufFrames: bufFrames}
		return fs
	}, nil)
	return p, fs
}

// ramp returns n samples i·step + off, easy to read in failures.
func pbRamp(n int, step, off float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i)*step + off
	}
	return x
}

func TestClipSeekStream(t *testing.T) {
	c := NewClip(pbRamp(10, 1, 0), 1000)
	var _ SeekStream = c
	buf := make([]float32, 4)
	if n, err := c.Read(buf); n != 4 || err != nil || buf[3] != 3 {
		t.Fatalf("Read = %d, %v, %v", n, err, buf)
	}
	if err := c.Seek(8); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(buf); n != 2 || !errors.Is(err, io.EOF) || buf[0] != 8 {
		t.Fatalf("Read at end = %d, %v, %v, want 2, EOF", n, err, buf)
	}
	if err := c.Seek(11); err == nil {
		t.Error("Seek(11) on 10 samples: no error")
	}
	if c.Len() != 10 || c.Position() != 10 || c.SampleRate() != 1000 {
		t.Errorf("Len, Position, SampleRate = %d, %d, %d", c.Len(), c.Position(), c.SampleRate())
	}
}

func TestEncodePCM(t *testing.T) {
	x := []float32{0, 0.5, -0.5, 2, -2, float32(math.NaN())}
	t.Run("float32", func(t *testing.T) {
		b := make([]byte, len(x)*8)
		encodePCM(b, x, 1, Float32)
		want := []float32{0, 0.5, -0.5, 1, -1, 0}
		for i, w := range want {
			l := math.Float32frombits(binary.LittleEndian.Uint32(b[i*8:]))
			r := math.Float32frombits(binary.LittleEndian.Uint32(b[i*8+4:]))
			if l != w || r != w {
				t.Errorf("frame %d = (%v, %v), want %v on both channels", i, l, r, w)
			}
		}
	})
	t.Run("int16", func(t *testing.T) {
		b := make([]byte, len(x)*4)
		encodePCM(b, x, 0.5, Int16)
		// round(clamp(0.5·x, −1, 1)·32768), clipped to the int16 range
		want := []int16{0, 8192, -8192, 32767, -32768, 0}
		for i, w := range want {
			l := int16(binary.LittleEndian.Uint16(b[i*4:]))
			r := int16(binary.LittleEndian.Uint16(b[i*4+2:]))
			if l != w || r != w {
				t.Errorf("frame %d = (%d, %d), want %d on both channels", i, l, r, w)
			}
		}
	})
}

func TestPlayerPlaysWholeTrack(t *testing.T) {
	for _, format := range []SampleFormat{Float32, Int16} {
		t.Run(format.String(), func(t *testing.T) {
			p, fs := newTestPlayer(t, format, 64)
			x := pbRamp(1000, 0.0005, 0.1)
			if err := p.Load(NewClip(x, 1000), nil); err != nil {
				t.Fatal(err)
			}
			if err := p.Play(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 100 && fs.playing; i++ {
				fs.play(37)
			}
			if p.Playing() {
				t.Fatal("still playing after the end of the track")
			}
			got0, got1 := fs.channel(0), fs.channel(1)
			if len(got0) != len(x) {
				t.Fatalf("played %d frames, want %d", len(got0), len(x))
			}
			tol := float32(1e-6)
			if format == Int16 {
				tol = 1.0 / 32768
			}
			for i := range x {
				if d := got0[i] - x[i]; d > tol || d < -tol || got1[i] != got0[i] {
					t.Fatalf("frame %d = (%v, %v), want %v", i, got0[i], got1[i], x[i])
				}
			}
			if pos := p.Position(); pos != len(x) {
				t.Errorf("Position at end = %d, want %d", pos, len(x))
			}
			// Play again at the end restarts from the beginning.
			fs.played = nil
			if err := p.Play(); err != nil {
				t.Fatal(err)
			}
			fs.play(1)
			if got := fs.channel(0); len(got) != 1 || math.Abs(float64(got[0]-x[0])) > float64(tol) {
				t.Errorf("after replay, first frame = %v, want %v", got, x[0])
			}
		})
	}
}

func TestPlayerPositionSeekAndAB(t *testing.T) {
	p, fs := newTestPlayer(t, Float32, 64)
	a := pbRamp(1000, 1.0/2048, 0)
	b := pbRamp(1000, -1.0/2048, 0)
	if err := p.Load(NewClip(a, 1000), NewClip(b, 1000)); err != nil {
		t.Fatal(err)
	}
	p.Play()
	fs.play(100)
	if pos := p.Position(); pos != 100 {
		t.Fatalf("Position = %d after 100 frames heard (64 buffered ahead), want 100", pos)
	}
	if err := p.Select(TrackB); err != nil {
		t.Fatal(err)
	}
	if p.Current() != TrackB {
		t.Fatalf("Current = %v, want B", p.Current())
	}
	fs.played = nil
	fs.play(1)
	if got := fs.channel(0)[0]; got != b[100] {
		t.Errorf("first frame after A→B at 100 = %v, want B[100] = %v", got, b[100])
	}
	if err := p.Seek(500); err != nil {
		t.Fatal(err)
	}
	fs.played = nil
	fs.play(2)
	if got := fs.channel(0); got[0] != b[500] || got[1] != b[501] {
		t.Errorf("after Seek(500): %v, want %v", got, b[500:502])
	}
	if pos := p.Position(); pos != 502 {
		t.Errorf("Position = %d, want 502", pos)
	}
	p.Pause()
	if p.Playing() {
		t.Error("Playing after Pause")
	}
	if err := p.Select(TrackA); err != nil {
		t.Fatal(err)
	}
	p.Play()
	fs.played = nil
	fs.play(1)
	if got := fs.channel(0)[0]; got != a[502] {
		t.Errorf("after pause, B→A, play: %v, want A[502] = %v", got, a[502])
	}
	// Removing B falls back to A.
	if err := p.SetTrack(TrackB, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Select(TrackB); err == nil {
		t.Error("Select(B) with no B track: no error")
	}
}

func TestPlayerLoopAndVolume(t *testing.T) {
	p, fs := newTestPlayer(t, Float32, 32)
	x := pbRamp(100, 0.004, 0.1)
	p.Load(NewClip(x, 1000), nil)
	p.SetLoop(true)
	p.SetVolume(0.5)
	p.Play()
	fs.play(250)
	got := fs.channel(0)
	if len(got) != 250 {
		t.Fatalf("looped play gave %d frames, want 250", len(got))
	}
	for i, v := range got {
		if want := 0.5 * x[i%100]; math.Abs(float64(v-want)) > 1e-7 {
			t.Fatalf("frame %d = %v, want 0.5·x[%d] = %v", i, v, i%100, want)
		}
	}
	if !p.Loop() || p.Volume() != 0.5 {
		t.Errorf("Loop, Volume = %v, %v", p.Loop(), p.Volume())
	}
	if pos := p.Position(); pos != 50 {
		t.Errorf("Position after 250 frames of a looping 100-frame track = %d, want 50", pos)
	}
	p.SetVolume(100)
	if v := p.Volume(); v != MaxVolume {
		t.Errorf("Volume after SetVolume(100) = %v, want %v", v, MaxVolume)
	}
	fs.played = nil
	p.SetLoop(false)
	p.SetVolume(10)
	p.Seek(99)
	p.Play()
	fs.play(5)
	if got := fs.channel(0); len(got) != 1 || got[0] != float32(MaxVolume)*x[99] {
		t.Errorf("last frame at volume %v = %v, want [%v]", MaxVolume, got, float32(MaxVolume)*x[99])
	}
	p.Load(NewClip([]float32{0.6, -0.6}, 1000), nil)
	fs.played = nil
	p.Seek(0)
	p.Play()
	fs.play(5)
	if got := fs.channel(0); len(got) != 2 || got[0] != 1 || got[1] != -1 {
		t.Errorf("±0.6 at volume %v = %v, want clamped to [1 -1]", MaxVolume, got)
	}
}

func TestPlayerLoadErrors(t *testing.T) {
	p, _ := newTestPlayer(t, Float32, 16)
	if err := p.Play(); err == nil {
		t.Error("Play with nothing loaded: no error")
	}
	if err := p.Load(NewClip(make([]float32, 10), 44100), nil); err == nil {
		t.Error("Load at 44100 Hz on a 1000 Hz player: no error")
	}
	if err := p.Load(NewClip(make([]float32, 10), 1000), NewClip(make([]float32, 11), 1000)); err == nil {
		t.Error("Load of tracks with 10 and 11 samples: no error")
	}
	if err := p.Load(NewClip(make([]float32, 10), 1000), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.SetTrack(TrackB, NewClip(make([]float32, 9), 1000)); err == nil {
		t.Error("SetTrack(B) with 9 samples against A's 10: no error")
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}
}

// TestPlayerConcurrent drives the adapter from one goroutine (the audio
// thread) while another changes the state (make test runs it with -race).
// The audio thread gets every frame it asks for (the loop never ends),
// each frame the same on both channels and a sample of A or B at one of
// the volumes set; afterwards the player is in the state last set.
func TestPlayerConcurrent(t *testing.T) {
	var mu sync.Mutex // serialises the fake sink, as oto's own lock does
	const step = 0.0001
	p, fs := newTestPlayer(t, Float32, 64)
	a := pbRamp(5000, step, 0)
	p.Load(NewClip(a, 1000), NewClip(pbRamp(5000, -step, 0), 1000))
	p.SetLoop(true)
	mu.Lock()
	p.Play()
	mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 500 {
			mu.Lock()
			fs.play(17)
			mu.Unlock()
		}
	}()
	for i := range 200 {
		mu.Lock()
		switch i % 4 {
		case 0:
			p.Select(TrackB)
		case 1:
			p.Seek(i * 10)
		case 2:
			p.SetVolume(float64(i%3) / 2)
		case 3:
			p.Select(TrackA)
		}
		if pos := p.Position(); pos < 0 || pos >= len(a) {
			t.Errorf("Position() = %d, outside the clip", pos)
		}
		mu.Unlock()
	}
	<-done
	left, right := fs.channel(0), fs.channel(1)
	if len(left) != 500*17 {
		t.Fatalf("the audio thread got %d frames, asked for %d", len(left), 500*17)
	}
	for i, v := range left {
		if right[i] != v {
			t.Fatalf("frame %d: channels %v and %v", i, v, right[i])
		}
		if !isRampSample(v, step, len(a)) && !isRampSample(2*v, step, len(a)) && v != 0 {
			t.Fatalf("frame %d: %v is no sample of A or B at volume 1, 0.5 or 0", i, v)
		}
	}
	p.Select(TrackA)
	p.Seek(1234)
	p.SetVolume(1)
	fs.played = nil
	fs.play(3)
	if got := fs.channel(0); !slices.Equal(got, a[1234:1237]) {
		t.Errorf("after the concurrent changes, A from 1234 at volume 1 plays %v, want %v", got, a[1234:1237])
	}
}

// isRampSample reports whether v is ±i·step (float32) for some i < n.
func isRampSample(v, step float32, n int) bool {
	if v < 0 {
		v = -v
	}
	i := int(math.Round(float64(v / step)))
	return i < n && float32(i)*step == v
}

// TestPlayerSetOtherTrackKeepsPlaying: a new B track arriving while A plays
// does not interrupt A; selecting B then plays it from the same moment.
func TestPlayerSetOtherTrackKeepsPlaying(t *testing.T) {
	p, fs := newTestPlayer(t, Float32, 64)
	a := pbRamp(1000, 1.0/2048, 0)
	p.Load(NewClip(a, 1000), nil)
	p.Play()
	fs.play(100)
	b := pbRamp(1000, -1.0/2048, 0)
	if err := p.SetTrack(TrackB, NewClip(b, 1000)); err != nil {
		t.Fatal(err)
	}
	fs.played = nil
	fs.play(1)
	if got := fs.channel(0)[0]; got != a[100] {
		t.Fatalf("after SetTrack(B) while A plays: %v, want A[100] = %v", got, a[100])
	}
	if err := p.Select(TrackB); err != nil {
		t.Fatal(err)
	}
	fs.played = nil
	fs.play(1)
	if got := fs.channel(0)[0]; got != b[101] {
		t.Fatalf("after Select(B): %v, want B[101] = %v", got, b[101])
	}
}
