package tui

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ravestation/rave/audio"
)

// liveTrack is track B while the latent pane streams: an audio.SeekStream
// over the clip's reconstruction with the pane's current latent edit,
// decoded by a liveRenderer on its own goroutine at most liveAhead blocks
// ahead of the reader (the sound device), so that an edit reaches the ear
// within a block or two plus the device's buffer.
//
// Read must not wait: audio.Player and oto call it holding the locks that
// the device thread and the UI's Position take, so a wait in Read stalls
// both (only ALSA's own two periods, 43 ms, keep sounding). In steady state
// the queue is ahead and Read only copies. A Seek (a seek key, an A/B
// switch, the jump back of a loop) restarts the decoder, which must prime
// over its warm-up before the first block (26 frames, about 40 ms for the
// demo model); instead of waiting for it Read plays a short gap of silence,
// 1.5 times the priming as last measured, and the decoder restarts at the
// gap's end, so the audio after the gap equals the offline decoding there.
// Should the decoder still be late, Read waits at most maxWait, then plays
// silence for the rest of the read and starts a new gap (an underrun).
//
// An edit is picked up at once: the decoder is restarted at the end of the
// queue with the new edit on every frame, so from there on the audio is the
// edited reconstruction. The priming is cut to what decodes while the
// queue plays: when it lasts long enough, all of the warm-up (the audio is
// then exactly the offline decoding of the edited latents); otherwise
// less (the audio then deviates for up to the warm-up, about 1 s, by at
// most a few percent of the peak for the demo model, and not measurably
// with two thirds of it). When not even the latency's worth fits (a busy
// machine, a queue just drained), the edit applies to the frames fed from
// then on, and the restart follows after a later block, when the queue
// has grown.
//
// The goroutine starts with start and ends with Close; SetEdit, Seek and
// Close never block. Methods are safe for concurrent use.
type liveTrack struct {
	codec Codec       // for Render
	z     [][]float32 // the clip's latents
	n     int         // clip samples
	rate  int
	block int
	ahead int // blocks decoded ahead of the reader, at most

	// maxWait bounds a wait in Read (liveMaxWait; tests raise it) and
	// gapScale scales the gap after a seek (1.5; 0 makes Read wait for
	// the priming instead).
	maxWait  time.Duration
	gapScale float64
	// now is the clock of the decoding-time measurements (time.Now;
	// tests charge a fake decoder's time to a fake clock).
	now func() time.Time

	r        *liveRenderer // owned by the goroutine
	edit     atomic.Pointer[liveEdit]
	frameDur atomic.Int64 // nanoseconds to decode a frame, as last measured

	wake   chan struct{} // to the goroutine: the reader moved, a seek, an edit
	ready  chan struct{} // to the reader: new samples
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when the goroutine has returned
	timer  *time.Timer   // the reader's bounded wait

	mu      sync.Mutex
	pos     int       // next sample Read returns
	gapEnd  int       // Read plays silence in [pos, gapEnd)
	gen     int       // bumped by every jump of pos
	q       []float32 // decoded samples from max(pos, gapEnd) on, cap ahead·block
	running bool
	closed  bool
	// waiting: the goroutine waits with nothing left to do (the queue as
	// full as it gets, every edit taken up, no jump to follow) and nothing
	// has been read, sought or edited since; a test's reader paces itself
	// on it.
	waiting bool

	underruns       atomic.Int64
	restarts        atomic.Int64 // edits heard from a decoder restarted exactly
	partialRestarts atomic.Int64 // edits heard from a decoder restarted with a short priming
	softEdits       atomic.Int64 // edits let in from the next frame
}

// Streaming parameters of the live track.
const (
	// liveBlockTarget is the block length aimed at, in samples (rounded to
	// whole latent frames): 2048 at 48 kHz is 43 ms.
	liveBlockTarget = 2048
	// liveAhead is how many blocks the goroutine decodes ahead of the
	// reader: enough to hide a priming after an edit on an idle machine,
	// few enough that the edit is heard soon.
	liveAhead = 2
	// liveMaxWait bounds how long Read waits for a late decoder.
	liveMaxWait = 20 * time.Millisecond
	// liveFrameGuess is the decoding time per frame assumed until one is
	// measured.
	liveFrameGuess = 4 * time.Millisecond
)

// liveBlock returns the block length for frames of hop samples: a whole
// number of frames, about liveBlockTarget samples.
func liveBlock(hop int) int {
	return hop * max(1, (liveBlockTarget+hop/2)/hop)
}

// newLiveTrack builds (but does not start) a live track for the clip whose
// latents are z (n samples at rate), decoding with a new FrameDecoder from
// c. edit is the edit in force (nil: none).
func newLiveTrack(c StreamingCodec, z [][]float32, n, rate int, edit LatentEdit) (*liveTrack, error) {
	if n <= 0 || rate <= 0 {
		return nil, fmt.Errorf("live track: clip of %d samples at %d Hz", n, rate)
	}
	info := c.Info()
	block := liveBlock(info.Hop)
	dec, delay, err := c.NewFrameDecoder(block)
	if err != nil {
		return nil, err
	}
	r, err := newLiveRenderer(dec, delay, z, info.Hop, block)
	if err != nil {
		return nil, err
	}
	t := &liveTrack{codec: c, z: z, n: n, rate: rate, block: block, ahead: liveAhead, r: r,
		maxWait: liveMaxWait, gapScale: 1.5, now: time.Now,
		wake: make(chan struct{}, 1), ready: make(chan struct{}, 1),
		done: make(chan struct{}), exited: make(chan struct{}),
		timer: time.NewTimer(time.Hour), q: make([]float32, 0, liveAhead*block)}
	t.timer.Stop()
	t.frameDur.Store(int64(liveFrameGuess))
	t.edit.Store(&liveEdit{fn: edit})
	return t, nil
}

// editPaths counts the decoder's restarts for edits (exact, or with a
// short priming) and the edits first let in from the next frame (each
// restarted for later, when the queue allows).
func (t *liveTrack) editPaths() (exact, partial, soft int) {
	return int(t.restarts.Load()), int(t.partialRestarts.Load()), int(t.softEdits.Load())
}

// start starts the decoding goroutine (once; not after Close).
func (t *liveTrack) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running || t.closed {
		return
	}
	t.running = true
	go t.run()
}

// Close stops the goroutine without waiting for it (Exited reports when it
// has returned). Reads after Close return silence. It returns nil.
func (t *liveTrack) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	running := t.running
	t.mu.Unlock()
	close(t.done)
	if !running {
		close(t.exited)
	}
	return nil
}

// Exited is closed once the goroutine has returned (or at Close if it never
// started).
func (t *liveTrack) Exited() <-chan struct{} { return t.exited }

// SetEdit makes edit (nil: none) the edit of the frames decoded from the
// next block on. It never blocks.
func (t *liveTrack) SetEdit(edit LatentEdit) {
	t.edit.Store(&liveEdit{fn: edit})
	t.mu.Lock()
	t.waiting = false
	t.mu.Unlock()
	signal(t.wake)
}

// Underruns counts the times the reader gave up waiting and played
// silence.
func (t *liveTrack) Underruns() int { return int(t.underruns.Load()) }

// Render decodes the whole clip offline with the current edit: what the
// track plays (up to float32 rounding, the warm-up at the clip's start and
// the last frame's hold at its end), for exporting track B.
func (t *liveTrack) Render() ([]float32, error) {
	edit := t.edit.Load().fn
	if edit == nil {
		edit = func(int, []float32) {}
	}
	y, err := decodeEdited(t.codec, t.z, t.n, edit)
	if err != nil {
		return nil, fmt.Errorf("live track: render: %w", err)
	}
	return y, nil
}

// signal wakes the receiver of a one-slot channel without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// SampleRate implements audio.Stream.
func (t *liveTrack) SampleRate() int { return t.rate }

// Len implements audio.SeekStream.
func (t *liveTrack) Len() int { return t.n }

// Position implements audio.SeekStream: the next sample Read returns.
func (t *liveTrack) Position() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pos
}

// Seek implements audio.SeekStream. A new position drops the decoded
// samples and restarts the decoder after a gap (see liveTrack).
func (t *liveTrack) Seek(pos int) error {
	if pos < 0 || pos > t.n {
		return fmt.Errorf("live track: seek to sample %d outside [0, %d]", pos, t.n)
	}
	t.mu.Lock()
	if pos != t.pos {
		t.jump(pos)
	}
	t.mu.Unlock()
	signal(t.wake)
	return nil
}

// jump moves the reader to pos, drops the queue and opens the gap that
// covers the decoder's priming there; t.mu is held.
func (t *liveTrack) jump(pos int) {
	t.pos = pos
	t.q = t.q[:0]
	t.gen++
	t.waiting = false
	gap := float64(t.frameDur.Load()) * float64(t.r.primeFramesAt(pos)) * t.gapScale * float64(t.rate) / 1e9
	t.gapEnd = min(t.n, pos+int(gap))
}

// front is the clip position after the queue; t.mu is held.
func (t *liveTrack) front() int { return max(t.pos, t.gapEnd) + len(t.q) }

// Read implements audio.Stream: the queued samples, silence in a gap, and
// silence after waiting maxWait for a late decoder (then the decoder
// restarts after a new gap).
func (t *liveTrack) Read(dst []float32) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for n < len(dst) {
		left := t.n - t.pos
		if left <= 0 {
			return n, io.EOF
		}
		want := min(len(dst)-n, left)
		switch {
		case t.closed:
			clear(dst[n : n+want])
			t.pos += want
			n += want
		case t.pos < t.gapEnd:
			m := min(want, t.gapEnd-t.pos)
			clear(dst[n : n+m])
			t.pos += m
			n += m
		case len(t.q) > 0:
			m := copy(dst[n:n+want], t.q)
			t.q = t.q[:copy(t.q, t.q[m:])]
			t.pos += m
			n += m
			t.waiting = false
			signal(t.wake)
		default:
			if !t.await() {
				clear(dst[n : n+want])
				t.jump(t.pos + want)
				n += want
				t.underruns.Add(1)
				signal(t.wake)
			}
		}
	}
	return n, nil
}

// await releases t.mu until the decoder queues samples, the track closes
// or maxWait passes (then it returns false); t.mu is held again on return.
func (t *liveTrack) await() bool {
	t.mu.Unlock()
	defer t.mu.Lock()
	t.timer.Reset(t.maxWait)
	defer t.timer.Stop()
	select {
	case <-t.ready:
		return true
	case <-t.done:
		return true
	case <-t.timer.C:
		return false
	}
}

// run is the decoding goroutine: it keeps up to ahead blocks decoded after
// the reader's position, restarting the renderer on a jump of the reader
// and on a new edit.
func (t *liveTrack) run() {
	defer close(t.exited)
	blk := make([]float32, t.block)
	gen := -1 // the generation the renderer follows (-1: none yet)
	// owed marks an edit let in from the next frame: the decoder restarts
	// with it once the queue is long enough (retry, after each block).
	owed, retry := false, false
	for {
		t.mu.Lock()
		var front, queued int
		var jumped, room bool
		for {
			if t.closed {
				t.mu.Unlock()
				return
			}
			front, queued = t.front(), len(t.q)
			jumped = t.gen != gen
			room = queued+t.block <= t.ahead*t.block && front < t.n
			if jumped || room || owed && retry || t.edit.Load() != t.r.edit {
				break
			}
			t.waiting = true
			t.mu.Unlock()
			select {
			case <-t.wake:
			case <-t.done:
			}
			t.mu.Lock()
			t.waiting = false
		}
		cur := t.gen
		t.mu.Unlock()

		primed := false
		switch e := t.edit.Load(); {
		case jumped:
			t.r.edit = e
			t.r.seek(front)
			gen, primed, owed = cur, true, false
		case e != t.r.edit:
			t.r.edit = e
			primed = t.restartForEdit(front, queued)
			if owed = !primed; owed {
				t.softEdits.Add(1)
			}
		case owed && retry:
			primed = t.restartForEdit(front, queued)
			owed = !primed
		}
		retry = false
		if primed && front < t.n {
			// Prime now, timing it for the next gap and restart decision.
			began := t.now()
			if fed := t.r.fill(); fed > 0 {
				t.measure(t.now().Sub(began), fed, 2)
			}
		}
		if !room {
			continue
		}
		began := t.now()
		if fed := t.r.render(blk); fed > 0 {
			t.measure(t.now().Sub(began), fed, 8)
		}
		t.mu.Lock()
		if t.gen == cur && t.front() == t.r.pos-t.block {
			m := min(t.block, t.n-(t.r.pos-t.block))
			t.q = append(t.q, blk[:m]...)
		}
		t.mu.Unlock()
		signal(t.ready)
		retry = owed
	}
}

// measure folds the decoding time of fed frames into the estimate of the
// time per frame, with weight 1/w.
func (t *liveTrack) measure(d time.Duration, fed int, w int64) {
	old := t.frameDur.Load()
	t.frameDur.Store(old + (int64(d)/int64(fed)-old)/w)
}

// restartForEdit takes up a new edit (already in t.r.edit) with front the
// end of the queue and queued samples before it: it restarts the decoder
// at front with the edit on every frame, primed over as much of the
// warm-up as decodes in two thirds of the queue's duration (all of it:
// exact; at least the latency: close, and exact after the warm-up). It
// reports whether it restarted; if not, the edit applies from the next
// frame fed.
func (t *liveTrack) restartForEdit(front, queued int) bool {
	frameDur := max(1, t.frameDur.Load())
	budget := int64(float64(queued) / float64(t.rate) * 1e9 * 2 / 3)
	frames := int(budget / frameDur)
	r := t.r
	switch {
	case frames >= r.primeFrames(r.delay.Warmup):
		r.seek(front)
		t.restarts.Add(1)
	case frames >= r.primeFrames(r.minWarm()):
		r.seekWarm(front, r.minWarm()+(frames-r.primeFrames(r.minWarm()))*r.hop)
		t.partialRestarts.Add(1)
	default:
		return false
	}
	return true
}

var _ audio.SeekStream = (*liveTrack)(nil)
