package tui

import (
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/tui/demo"
)

// demoFixture is the embedded demo model (preset quick) with the start of
// the demo clip encoded by it.
type demoFixture struct {
	codec *modelCodec
	z     [][]float32
	n     int // clip samples
	hop   int
}

// loadDemo installs the demo session in a fresh RAVE_HOME and encodes the
// first seconds of its clip.
func loadDemo(tb testing.TB, seconds float64) demoFixture {
	tb.Helper()
	withHome(tb)
	name, _, err := demo.Install()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := sessions.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := loadSessionModel(s)
	if err != nil {
		tb.Fatal(err)
	}
	mc := c.(*modelCodec)
	clip, err := fileClip(layout.DemoClip(s.Dir), c.Info().SampleRate)
	if err != nil {
		tb.Fatal(err)
	}
	x := clip.samples[:min(len(clip.samples), int(seconds*float64(c.Info().SampleRate)))]
	z, err := c.Encode(x)
	if err != nil {
		tb.Fatal(err)
	}
	return demoFixture{codec: mc, z: z, n: len(x), hop: c.Info().Hop}
}

// fakeClock is a clock that moves only when a fake decoder is charged.
type fakeClock struct{ ns atomic.Int64 }

// now is the clock's time (a liveTrack's now).
func (c *fakeClock) now() time.Time { return time.Unix(0, c.ns.Load()) }

// advance moves the clock on by d.
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// pacedCodec hands out the model's frame decoders, each charging cost per
// decoded frame to clock: to a live track timing its decoder with clock,
// the decoder takes exactly cost per frame, whatever the machine.
type pacedCodec struct {
	*modelCodec
	clock *fakeClock
	cost  time.Duration
}

// NewFrameDecoder implements StreamingCodec.
func (c pacedCodec) NewFrameDecoder(block int) (FrameDecoder, StreamDelay, error) {
	dec, delay, err := c.modelCodec.NewFrameDecoder(block)
	if err != nil {
		return nil, delay, err
	}
	return &pacedDecoder{FrameDecoder: dec, clock: c.clock, cost: c.cost}, delay, nil
}

// pacedDecoder is a FrameDecoder charged to a fake clock (pacedCodec).
type pacedDecoder struct {
	FrameDecoder
	clock *fakeClock
	cost  time.Duration
}

// DecodeBuffer implements FrameDecoder.
func (d *pacedDecoder) DecodeBuffer(dst []float32, z [][]float32) []float32 {
	d.clock.advance(time.Duration(len(z)) * d.cost)
	return d.FrameDecoder.DecodeBuffer(dst, z)
}

// settle waits until the track's goroutine has nothing left to do (the
// queue as full as it gets, the latest edit taken up). A reader that
// settles before each read has a decoder that keeps up by construction.
// The minute is a guard against a goroutine that never settles, not a
// speed requirement.
func settle(t *testing.T, tr *liveTrack) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		tr.mu.Lock()
		waiting := tr.waiting
		tr.mu.Unlock()
		if waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the decoding goroutine still works after a minute")
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// TestLiveTrackDemoEdits plays the embedded demo model (preset quick) live
// as a sound device reads it, the decoder keeping up by construction (the
// reader waits for it before each read), with edits made during playback
// (+4 on dim 1, back to none, +4 again) and a decoder whose speed the
// test sets through a fake clock: fast enough to restart exactly for an
// edit, fast enough only for a short priming, and too slow for either (the
// edit is let in from the next frame). Whatever the machine, each path is
// taken for every edit, no read underruns, the audio equals the offline
// decoding before the first edit and, past each edit's restart (and
// warm-up, when it is not exact), the offline decoding of the latents
// edited or not, and every edit is heard within the queued blocks (plus
// the latency when let in from the next frame). The decoding speed itself
// is BenchmarkLiveDemoBlock's.
func TestLiveTrackDemoEdits(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 5 s of the demo model three times")
	}
	d := loadDemo(t, 5)
	plain, err := d.codec.Decode(d.z, d.n)
	if err != nil {
		t.Fatal(err)
	}
	edited, err := decodeEdited(d.codec, d.z, d.n, biasEdit(4).fn)
	if err != nil {
		t.Fatal(err)
	}
	block := liveBlock(d.hop)
	dec, delay, err := d.codec.NewFrameDecoder(block)
	if err != nil {
		t.Fatal(err)
	}
	probe, err := newLiveRenderer(dec, delay, d.z, d.hop, block)
	if err != nil {
		t.Fatal(err)
	}
	// Edits are keyed on block boundaries, where the settled queue holds
	// liveAhead blocks; restartForEdit primes within two thirds of their
	// duration.
	budget := time.Duration(float64(liveAhead*block) / 48000 * 2 / 3 * float64(time.Second))
	exactMax := budget / time.Duration(probe.primeFrames(delay.Warmup))    // per frame
	shortMax := budget / time.Duration(probe.primeFrames(probe.minWarm())) // per frame
	if shortMax < 3*exactMax/2 {
		t.Fatalf("the demo model leaves no room between the priming paths (%v, %v per frame)", exactMax, shortMax)
	}
	const (
		exact = iota
		short
		soft
	)
	edits := []struct {
		at     int        // reader position that triggers it (a block boundary)
		fn     LatentEdit // the new edit
		before []float32  // the offline decoding before it
		after  []float32  // and after
	}{
		{24 * block, biasEdit(4).fn, plain, edited},
		{57 * block, nil, edited, plain},
		{89 * block, biasEdit(4).fn, plain, edited},
	}
	for _, tc := range []struct {
		name string
		cost time.Duration // per frame
		path int
	}{
		{"exact restart", exactMax / 4, exact},
		{"short priming", time.Duration(math.Sqrt(float64(exactMax) * float64(shortMax))), short},
		{"next frame", 4 * shortMax, soft},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{}
			tr, err := newLiveTrack(pacedCodec{d.codec, clock, tc.cost}, d.z, d.n, 48000, nil)
			if err != nil {
				t.Fatal(err)
			}
			tr.now = clock.now
			tr.start()
			defer tr.Close()
			keyAt := make([]int, len(edits))
			frontAt := make([]int, len(edits)) // where the queue ended at the key
			got := make([]float32, 0, d.n)
			buf := make([]float32, 512) // 2048 is a multiple: reads land on every block boundary
			next := 0
			for len(got) < d.n {
				settle(t, tr)
				if next < len(edits) && len(got) >= edits[next].at {
					tr.mu.Lock()
					keyAt[next], frontAt[next] = tr.pos, tr.front()
					tr.mu.Unlock()
					tr.SetEdit(edits[next].fn)
					next++
					settle(t, tr)
				}
				n, err := tr.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
			}
			if len(got) != d.n {
				t.Fatalf("read %d samples, want %d", len(got), d.n)
			}
			if tr.Underruns() != 0 {
				t.Errorf("%d underruns with a decoder that keeps up", tr.Underruns())
			}
			paths := [3]int{}
			paths[exact], paths[short], paths[soft] = tr.editPaths()
			if paths[tc.path] != len(edits) || paths[0]+paths[1]+paths[2] != len(edits) {
				t.Errorf("edits taken up %d exactly, %d with a short priming, %d from the next frame; want all %d on path %d",
					paths[exact], paths[short], paths[soft], len(edits), tc.path)
			}
			exactFrom := max(0, delay.Warmup-delay.Latency)
			exactTo := min(d.n, len(d.z[0])*d.hop-delay.Latency)
			if dv, at := relDiff(got, plain, exactFrom, keyAt[0]); dv > liveTol {
				t.Errorf("before the first edit: %.3g (relative) from the offline decoding at %d", dv, at)
			}
			limit := (liveAhead + 1) * block
			if tc.path == soft {
				limit += delay.Latency // an edit let in from the next frame fades in over the latency
			}
			for k, e := range edits {
				if dv, at := relDiff(got, e.before, keyAt[k], frontAt[k]); dv > liveTol {
					t.Errorf("edit %d: the queue before it changed: %.3g (relative) at %d", k+1, dv, at)
				}
				// Heard: the first sample 1e-4 (−80 dB) from the decoding
				// without the edit, ten times the live/offline tolerance
				// (liveTol, relative to a peak near 1). An edit let in
				// from the next frame fades in, so a coarser threshold
				// times the fade as much as the edit's arrival.
				first := -1
				for i := keyAt[k]; i < len(got); i++ {
					if math.Abs(float64(got[i]-e.before[i])) > 1e-4 {
						first = i
						break
					}
				}
				if first < 0 {
					t.Errorf("edit %d was never heard", k+1)
					continue
				}
				q := first - keyAt[k]
				t.Logf("edit %d heard %d samples (%.0f ms) after the reader's position at the key", k+1, q, 1000*float64(q)/48000)
				if q > limit {
					t.Errorf("edit %d reached the audio %d samples after the key, more than %d", k+1, q, limit)
				}
				from := frontAt[k]
				if tc.path != exact {
					from += delay.Warmup
				}
				to := exactTo
				if k+1 < len(edits) {
					to = min(to, frontAt[k+1])
				}
				if from < to {
					if dv, at := relDiff(got, e.after, from, to); dv > liveTol {
						t.Errorf("edit %d: %.3g (relative) from the offline decoding at %d (exact from %d)", k+1, dv, at, from)
					}
				}
			}
		})
	}
}

// gatedCodec hands out the model's frame decoders, each holding every
// buffer until gate is closed: a decoder late by construction.
type gatedCodec struct {
	*modelCodec
	gate chan struct{}
}

// NewFrameDecoder implements StreamingCodec.
func (c gatedCodec) NewFrameDecoder(block int) (FrameDecoder, StreamDelay, error) {
	dec, delay, err := c.modelCodec.NewFrameDecoder(block)
	if err != nil {
		return nil, delay, err
	}
	return gatedDecoder{dec, c.gate}, delay, nil
}

// gatedDecoder is a FrameDecoder held by a gate (gatedCodec).
type gatedDecoder struct {
	FrameDecoder
	gate chan struct{}
}

// DecodeBuffer implements FrameDecoder.
func (d gatedDecoder) DecodeBuffer(dst []float32, z [][]float32) []float32 {
	<-d.gate
	return d.FrameDecoder.DecodeBuffer(dst, z)
}

// TestLiveTrackUnderrun checks what a late decoder sounds like, the
// decoder held back by the test rather than by the machine: Read gives up
// after maxWait, plays silence, counts an underrun and opens a gap; once
// the decoder is let go (and keeps up), the gap is silent and the audio
// after it is exactly the offline decoding, with no further underrun.
func TestLiveTrackUnderrun(t *testing.T) {
	f := newLiveFixture(t, false, 96000)
	gate := make(chan struct{})
	tr, err := newLiveTrack(gatedCodec{f.codec, gate}, f.z, f.n, 48000, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr.maxWait = time.Millisecond
	tr.start()
	defer tr.Close()
	buf := make([]float32, 480)
	for i := range buf {
		buf[i] = 1
	}
	if n, err := tr.Read(buf); n != len(buf) || err != nil {
		t.Fatalf("Read with the decoder held: %d, %v", n, err)
	}
	if slices.ContainsFunc(buf, func(v float32) bool { return v != 0 }) {
		t.Error("a read the decoder missed is not silent")
	}
	if tr.Underruns() != 1 {
		t.Fatalf("%d underruns, want 1", tr.Underruns())
	}
	tr.mu.Lock()
	gapEnd := tr.gapEnd
	tr.mu.Unlock()
	if gapEnd <= len(buf) || gapEnd > f.n/2 {
		t.Fatalf("gap after the underrun [%d, %d)", len(buf), gapEnd)
	}
	close(gate)
	got := slices.Clone(buf)
	for len(got) < f.n {
		settle(t, tr)
		n, err := tr.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if len(got) != f.n {
		t.Fatalf("read %d samples, want %d", len(got), f.n)
	}
	if slices.ContainsFunc(got[:gapEnd], func(v float32) bool { return v != 0 }) {
		t.Error("the gap is not silent")
	}
	if d, at := relDiff(got, f.want, gapEnd, f.exactTo()); d > liveTol {
		t.Errorf("after the gap: %.3g (relative) from the offline decoding at %d", d, at)
	}
	if tr.Underruns() != 1 {
		t.Errorf("%d underruns once the decoder keeps up, want 1", tr.Underruns())
	}
}
