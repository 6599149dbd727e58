package tui

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model"
)

// liveTol is the largest difference allowed between streamed and offline
// audio, relative to the offline peak (core/model's streaming tests
// measure ≲ 1e-6: the same float32 arithmetic in another order).
const liveTol = 1e-5

// tinyCodec is the codec of a randomly initialised tiny model (hop 512).
func tinyCodec(t testing.TB, causal bool) *modelCodec {
	t.Helper()
	cfg, err := model.Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	cfg.NoLatency = causal
	m, err := model.New(cfg, rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		t.Fatal(err)
	}
	return newModelCodec(m)
}

// liveSignal is n samples of two partials and a little noise.
func liveSignal(n int) []float32 {
	rng := rand.New(rand.NewPCG(3, 3))
	x := make([]float32, n)
	for i := range x {
		t := float64(i) / 48000
		x[i] = float32(0.3*math.Sin(2*math.Pi*187*t) + 0.1*math.Sin(2*math.Pi*1310*t) + 0.02*rng.NormFloat64())
	}
	return x
}

// relDiff returns the largest |got−want| over [from, to), relative to
// want's peak, and where it is.
func relDiff(got, want []float32, from, to int) (float64, int) {
	var peak, diff float64
	worst := -1
	for _, v := range want {
		peak = max(peak, math.Abs(float64(v)))
	}
	for i := from; i < to; i++ {
		if d := math.Abs(float64(got[i] - want[i])); d > diff {
			diff, worst = d, i
		}
	}
	if peak == 0 {
		return math.Inf(1), -1
	}
	return diff / peak, worst
}

// liveFixture is a clip encoded by a tiny model and its offline decoding.
type liveFixture struct {
	codec *modelCodec
	z     [][]float32
	n     int
	want  []float32 // offline decoding of z
	hop   int
	block int
	delay StreamDelay
}

func newLiveFixture(t testing.TB, causal bool, n int) liveFixture {
	t.Helper()
	c := tinyCodec(t, causal)
	z, err := c.Encode(liveSignal(n))
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.Decode(z, n)
	if err != nil {
		t.Fatal(err)
	}
	hop := c.Info().Hop
	f := liveFixture{codec: c, z: z, n: n, want: want, hop: hop, block: liveBlock(hop)}
	_, f.delay, err = c.NewFrameDecoder(f.block)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// renderer returns a renderer seeked to pos.
func (f liveFixture) renderer(t testing.TB, pos int) *liveRenderer {
	t.Helper()
	dec, delay, err := f.codec.NewFrameDecoder(f.block)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newLiveRenderer(dec, delay, f.z, f.hop, f.block)
	if err != nil {
		t.Fatal(err)
	}
	r.seek(pos)
	return r
}

// renderAll renders blocks from pos to the clip's end; edit, if not nil,
// is called before block i is rendered (i counted from pos).
func (r *liveRenderer) renderAll(n int, before func(i int)) []float32 {
	out := make([]float32, 0, n+r.block)
	blk := make([]float32, r.block)
	for i := 0; r.pos < n; i++ {
		if before != nil {
			before(i)
		}
		r.render(blk)
		out = append(out, blk...)
	}
	return out
}

// exactFrom is where a stream started at the clip's first frame equals
// the offline decoding; exactTo is where the last frame's hold begins to
// show.
func (f liveFixture) exactFrom() int { return max(0, f.delay.Warmup-f.delay.Latency) }
func (f liveFixture) exactTo() int {
	return min(f.n, len(f.z[0])*f.hop-f.delay.Latency)
}

// TestLiveRendererMatchesOffline checks that the live renderer, which
// feeds the streaming decoder Latency samples ahead to cancel its delay,
// hands out exactly the offline decoding at the same clip positions — i.e.
// the decoder's raw output is the offline decoding shifted by the reported
// latency — from the clip's start (after the warm-up) and after a seek
// (primed, so exact at once), for a centred and a causal tiny model.
func TestLiveRendererMatchesOffline(t *testing.T) {
	cases := []struct {
		name   string
		causal bool
		seek   int // blocks
	}{
		{"centred/start", false, 0},
		{"centred/seek", false, 17},
		{"causal/start", true, 0},
		{"causal/seek", true, 9},
	}
	fixtures := map[bool]liveFixture{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := fixtures[tc.causal]
			if !ok {
				f = newLiveFixture(t, tc.causal, 72000+300)
				fixtures[tc.causal] = f
			}
			if f.delay.Latency <= 0 {
				t.Fatalf("latency %d", f.delay.Latency)
			}
			pos := tc.seek * f.block
			got := f.renderer(t, pos).renderAll(f.n, nil)
			from := pos
			if pos == 0 {
				from = f.exactFrom()
			}
			if from >= f.exactTo() {
				t.Fatalf("nothing to compare: [%d, %d)", from, f.exactTo())
			}
			aligned := make([]float32, f.n)
			copy(aligned[pos:], got)
			if d, at := relDiff(aligned, f.want, from, f.exactTo()); d > liveTol {
				t.Errorf("live render differs from the offline decoding by %.3g (relative) at sample %d", d, at)
			}
			// Without the renderer's alignment the decoder's output would
			// lag by the latency: check the test can tell.
			shifted := make([]float32, f.n)
			copy(shifted[f.delay.Latency:], f.want)
			if d, _ := relDiff(aligned, shifted, from+f.delay.Latency, f.exactTo()); d <= liveTol {
				t.Error("the offline decoding delayed by the latency matches too: the comparison is blind")
			}
		})
	}
}

// biasEdit adds b to dim 0 of every frame.
func biasEdit(b float32) *liveEdit {
	return &liveEdit{fn: func(_ int, col []float32) { col[0] += b }}
}

// TestLiveEditFromBuffer checks that an edit set before block N changes the
// audio from block N on and leaves the blocks before it alone: restarted
// with the edit on every frame and a full priming (what liveTrack does when
// its queue covers one), block N on is exactly the offline decoding of the
// edited latents; with the shortest priming, it is close at once and exact
// after the warm-up; let in from the next frame, it fades in from block N
// within the decoder's latency.
func TestLiveEditFromBuffer(t *testing.T) {
	f := newLiveFixture(t, false, 96000)
	edited := make([][]float32, len(f.z))
	for d := range edited {
		edited[d] = slices.Clone(f.z[d])
	}
	for i := range edited[0] {
		edited[0][i] += 3
	}
	wantEdited, err := f.codec.Decode(edited, f.n)
	if err != nil {
		t.Fatal(err)
	}
	plain := f.renderer(t, 0).renderAll(f.n, nil)
	const N = 30
	const (
		soft = iota
		short
		full
	)
	for _, tc := range []struct {
		name    string
		restart int
	}{{"restart", full}, {"short priming", short}, {"next frame", soft}} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.renderer(t, 0)
			got := r.renderAll(f.n, func(i int) {
				if i == N {
					r.edit = biasEdit(3)
					switch tc.restart {
					case full:
						r.seek(r.pos)
					case short:
						r.seekWarm(r.pos, r.minWarm())
					}
				}
			})
			at := N * f.block
			if !slices.Equal(got[:at], plain[:at]) {
				t.Fatal("blocks before the edit changed")
			}
			first := -1
			for i := at; i < len(got); i++ {
				if math.Abs(float64(got[i]-plain[i])) > 1e-4 {
					first = i
					break
				}
			}
			if first < 0 {
				t.Fatal("the edit changed nothing")
			}
			t.Logf("first changed sample: %d samples after block %d began", first-at, N)
			switch tc.restart {
			case full, short:
				if first >= at+f.block {
					t.Errorf("the restarted decoder changed the audio only %d samples into block %d", first-at, N)
				}
				exactFrom := at
				if tc.restart == short {
					exactFrom = at + f.delay.Warmup - r.minWarm()
					d, w := relDiff(got[:f.n], wantEdited, at, exactFrom)
					t.Logf("short priming: %.3g (relative) from the offline edited decoding during the warm-up (at sample %d)", d, w)
					if d > 0.25 { // 0.12 for this model, 0.05–0.06 for the demo model
						t.Errorf("short priming: %.3g (relative) from the offline edited decoding at sample %d", d, w)
					}
				}
				if d, w := relDiff(got[:f.n], wantEdited, exactFrom, f.exactTo()); d > liveTol {
					t.Errorf("after the restart: %.3g (relative) from the offline edited decoding at sample %d", d, w)
				}
			case soft:
				if first > at+f.delay.Latency+f.block {
					t.Errorf("the edit reached the audio %d samples after block %d, latency %d", first-at, N, f.delay.Latency)
				}
			}
		})
	}
}

// TestLiveRendererNoAllocs checks that a block costs no allocation once
// warm, with an edit in force.
func TestLiveRendererNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates in the decoder's parallel kernels")
	}
	f := newLiveFixture(t, false, 48000)
	r := f.renderer(t, 0)
	r.edit = biasEdit(1)
	blk := make([]float32, f.block)
	r.render(blk)
	if a := minAllocs(20, func() { r.render(blk) }); a != 0 {
		t.Errorf("render allocates %v times per block (counting every goroutine's: %d training watchers run)", a, goroutinesIn(watcherFunc))
	}
}

// minAllocs is the smallest of a few testing.AllocsPerRun measurements:
// those count every goroutine's allocations, and goroutines left by
// earlier tests (a teatest program's pending ticks) may allocate during
// one of them.
func minAllocs(runs int, f func()) float64 {
	least := math.Inf(1)
	for range 5 {
		least = min(least, testing.AllocsPerRun(runs, f))
		if least == 0 {
			break
		}
	}
	return least
}

// readAll reads a stream to its end in reads of size samples.
func readAll(t *testing.T, s audio.Stream, size int) []float32 {
	t.Helper()
	var out []float32
	buf := make([]float32, size)
	for {
		n, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// track builds and starts a live track over the fixture's clip. A patient
// track waits for its decoder as long as it takes (no gap after a seek, no
// underrun), so that its output is deterministic on a busy machine.
func (f liveFixture) track(t *testing.T, edit LatentEdit, patient bool) *liveTrack {
	t.Helper()
	tr, err := newLiveTrack(f.codec, f.z, f.n, 48000, edit)
	if err != nil {
		t.Fatal(err)
	}
	if patient {
		tr.maxWait, tr.gapScale = time.Minute, 0
	}
	tr.start()
	t.Cleanup(func() { tr.Close() })
	return tr
}

// waitQueued waits until the track has decoded its first block.
func waitQueued(t *testing.T, tr *liveTrack) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr.mu.Lock()
		n := len(tr.q)
		tr.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the live track decoded nothing in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLiveTrackPlaysClip reads a live track as a player does (odd read
// sizes, a seek as an A/B switch or seek key makes, the jump back of a
// loop) and compares with the offline decoding.
func TestLiveTrackPlaysClip(t *testing.T) {
	f := newLiveFixture(t, false, 60000)
	tr := f.track(t, nil, true)
	if tr.Len() != f.n || tr.SampleRate() != 48000 {
		t.Fatalf("Len %d, SampleRate %d", tr.Len(), tr.SampleRate())
	}
	got := readAll(t, tr, 700)
	if len(got) != f.n {
		t.Fatalf("read %d samples, want %d", len(got), f.n)
	}
	if d, at := relDiff(got, f.want, f.exactFrom(), f.exactTo()); d > liveTol {
		t.Errorf("whole clip: %.3g (relative) from the offline decoding at %d", d, at)
	}
	for _, pos := range []int{31111, 0, 12000} {
		if err := tr.Seek(pos); err != nil {
			t.Fatal(err)
		}
		got := readAll(t, tr, 4800)
		if len(got) != f.n-pos || tr.Position() != f.n {
			t.Fatalf("after Seek(%d): %d samples, position %d", pos, len(got), tr.Position())
		}
		from := max(pos, f.exactFrom())
		aligned := make([]float32, f.n)
		copy(aligned[pos:], got)
		if d, at := relDiff(aligned, f.want, from, f.exactTo()); d > liveTol {
			t.Errorf("after Seek(%d): %.3g (relative) from the offline decoding at %d", pos, d, at)
		}
	}
	if err := tr.Seek(f.n + 1); err == nil {
		t.Error("Seek past the end succeeded")
	}
	if tr.Underruns() != 0 {
		t.Errorf("%d underruns", tr.Underruns())
	}
}

// TestLivePrimeFramesAt checks the priming estimate a seek's gap is sized
// from: a seek's first render feeds whole buffers, so it decodes the
// estimated frames rounded up to the next buffer (block/hop frames).
func TestLivePrimeFramesAt(t *testing.T) {
	for _, causal := range []bool{false, true} {
		f := newLiveFixture(t, causal, 96000)
		for _, pos := range []int{0, 1000, 40000, 95000} {
			r := f.renderer(t, 0)
			est := r.primeFramesAt(pos)
			r.seek(pos)
			if fed := r.fill(); fed < est || fed >= est+f.block/f.hop {
				t.Errorf("causal %v: a seek to %d primes %d frames, estimated %d (buffers of %d)", causal, pos, fed, est, f.block/f.hop)
			}
		}
	}
}

// TestLiveTrackSeekGap checks what a seek sounds like with the default
// settings: a gap of silence of gapScale (1.5) times the priming the track
// measured (decoding time per frame times the frames a seek there primes),
// then the offline decoding exactly, without an underrun. The decoder is
// charged to a fake clock, so what the track measures is known whatever
// the machine.
func TestLiveTrackSeekGap(t *testing.T) {
	f := newLiveFixture(t, false, 96000)
	const cost = 3 * time.Millisecond // per frame, on the fake clock
	clock := &fakeClock{}
	tr, err := newLiveTrack(pacedCodec{f.codec, clock, cost}, f.z, f.n, 48000, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr.now = clock.now
	tr.maxWait = time.Minute // a busy machine must not turn a late decoder into an underrun here
	tr.start()
	t.Cleanup(func() { tr.Close() })
	buf := make([]float32, 480)
	for range 60 {
		settle(t, tr)
		tr.Read(buf)
	}
	settle(t, tr) // the decoder idle: the measurement holds still
	fd := time.Duration(tr.frameDur.Load())
	if d := (fd - cost).Abs(); d > (liveFrameGuess-cost)/4 {
		t.Fatalf("the track measures %v per frame; the decoder takes %v (first guess %v)", fd, cost, liveFrameGuess)
	}
	const pos = 40000
	frames := tr.r.primeFramesAt(pos)
	if err := tr.Seek(pos); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	gapEnd := tr.gapEnd
	tr.mu.Unlock()
	prime := fd * time.Duration(frames)
	gap := time.Duration(gapEnd-pos) * time.Second / 48000
	t.Logf("gap after the seek: %d samples (%v) for a priming of %d frames (%v)", gapEnd-pos, gap, frames, prime)
	if want := pos + int(float64(prime)*tr.gapScale*48000/1e9); gapEnd != want {
		t.Errorf("gap after the seek ends at %d, want %d: %g times the priming of %v", gapEnd, want, tr.gapScale, prime)
	}
	// The gap covers the priming the seek actually decodes.
	r := f.renderer(t, 0)
	r.seek(pos)
	if fed := r.fill(); gap < fd*time.Duration(fed) {
		t.Errorf("the gap (%v) is shorter than the priming of %d frames (%v)", gap, fed, fd*time.Duration(fed))
	}
	got := readAll(t, tr, 480)
	if len(got) != f.n-pos {
		t.Fatalf("read %d samples after the seek, want %d", len(got), f.n-pos)
	}
	if slices.ContainsFunc(got[:gapEnd-pos], func(v float32) bool { return v != 0 }) {
		t.Error("the gap is not silent")
	}
	aligned := make([]float32, f.n)
	copy(aligned[pos:], got)
	if d, at := relDiff(aligned, f.want, gapEnd, f.exactTo()); d > liveTol {
		t.Errorf("after the gap: %.3g (relative) from the offline decoding at %d", d, at)
	}
	if tr.Underruns() != 0 {
		t.Errorf("%d underruns", tr.Underruns())
	}
}

// TestLiveTrackClose checks that Close ends the goroutine (also while a
// reader waits and after a seek), that reads then give silence, and that
// no goroutine outlives a batch of tracks.
func TestLiveTrackClose(t *testing.T) {
	f := newLiveFixture(t, false, 48000)
	before := runtime.NumGoroutine()
	for i := range 5 {
		tr, err := newLiveTrack(f.codec, f.z, f.n, 48000, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i == 4 {
			tr.Close() // never started
		} else {
			tr.start()
			buf := make([]float32, 1000*(i+1))
			tr.Read(buf)
			tr.Seek(20000)
			tr.Close()
			for range 2 {
				if n, err := tr.Read(buf); err != nil || n != len(buf) || slices.ContainsFunc(buf, func(v float32) bool { return v != 0 }) {
					t.Fatalf("read after Close: %d, %v, silent %v", n, err, !slices.ContainsFunc(buf, func(v float32) bool { return v != 0 }))
				}
			}
		}
		select {
		case <-tr.Exited():
		case <-time.After(5 * time.Second):
			t.Fatalf("track %d: the goroutine still runs 5 s after Close", i)
		}
		tr.Close() // twice is fine
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines before, %d after closing every track", before, runtime.NumGoroutine())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLiveTrackReadNoAllocs checks that reading a block from a running
// track allocates nothing in steady state (the decoding goroutine
// included: AllocsPerRun counts the whole process).
func TestLiveTrackReadNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on channel operations")
	}
	f := newLiveFixture(t, false, 480000)
	tr := f.track(t, biasEdit(1).fn, false)
	waitQueued(t, tr)
	buf := make([]float32, f.block)
	for range 4 {
		tr.Read(buf)
	}
	if a := minAllocs(40, func() { tr.Read(buf) }); a != 0 {
		t.Errorf("Read allocates %v times per block (counting every goroutine's: %d training watchers run)", a, goroutinesIn(watcherFunc))
	}
}

// TestLatentPaneStreams drives the latent pane with a streaming codec and
// a sound device: the latents get a live track, edits go to it at once
// (no render, no debounce) and make B current, and a new clip or quitting
// closes it.
func TestLatentPaneStreams(t *testing.T) {
	c := Common{Width: 80, Height: 20, Styles: DefaultStyles(nil), Keys: DefaultKeyMap(), Now: time.Now}
	codec := tinyCodec(t, false)
	p := newLatentPane(c)
	p, _ = p.Update(modelLoadedMsg{codec: codec})
	p, _ = p.Update(playerOpenedMsg{p: newFakePlayback()})
	cl := &clip{label: "x", samples: liveSignal(48000), rate: 48000}
	p, _ = p.Update(clipLoadedMsg{clip: cl})
	z, err := codec.Encode(cl.samples)
	if err != nil {
		t.Fatal(err)
	}
	p, cmd := p.Update(encodedMsg{z: z})
	if cmd == nil || !p.building {
		t.Fatal("no live track is being built")
	}
	ready, ok := cmd().(liveReadyMsg)
	if !ok || ready.err != nil {
		t.Fatalf("build gave %+v", ready)
	}
	p, cmd = p.Update(ready)
	if p.live != ready.track {
		t.Fatal("the live track was not installed")
	}
	if m, ok := cmd().(liveTrackMsg); !ok || m.track != p.live || m.selectB || m.label != "live reconstruction (no edits)" {
		t.Fatalf("install asked the bar for %+v", m)
	}
	before := p.live.edit.Load()
	p, cmd = p.Update(keyMsg("right"))
	if p.live.edit.Load() == before {
		t.Error("the edit did not reach the live track")
	}
	m, ok := cmd().(liveTrackMsg)
	if !ok || !m.selectB || m.play || m.label != "live latent edit (1 dims changed)" || m.seq != 1 {
		t.Fatalf("an edit asked the bar for %+v", m)
	}
	if !strings.Contains(p.View(), "streaming") {
		t.Errorf("the view does not say it streams:\n%s", p.View())
	}
	if _, cmd := p.Update(latentRenderDueMsg{seq: 1}); cmd != nil {
		t.Error("a debounce rendered offline while streaming")
	}
	p, cmd = p.Update(keyMsg("enter"))
	if m, ok := cmd().(liveTrackMsg); !ok || !m.play || !m.selectB {
		t.Fatalf("enter asked the bar for %+v", m)
	}
	live := p.live
	p, _ = p.Update(clipLoadedMsg{clip: cl})
	if p.live != nil {
		t.Fatal("a new clip kept the live track")
	}
	select {
	case <-live.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("the old live track still runs")
	}
	// A track built for latents that have gone is closed on arrival.
	stale, err := newLiveTrack(codec, z, len(cl.samples), 48000, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ = p.Update(liveReadyMsg{gen: p.liveGen - 1, track: stale})
	if p.live != nil {
		t.Fatal("a stale track was installed")
	}
	select {
	case <-stale.Exited():
	default:
		t.Fatal("a stale track was not closed")
	}
}

// TestLatentPaneOfflineWithoutDevice checks the fallbacks: without a sound
// device, or with a device at another rate, a streaming codec still
// renders edits offline.
func TestLatentPaneOfflineWithoutDevice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		device Playback
	}{{"no device", nil}, {"other rate", &ratePlayback{newFakePlayback(), 44100}}} {
		t.Run(tc.name, func(t *testing.T) {
			c := Common{Width: 80, Height: 20, Styles: DefaultStyles(nil), Keys: DefaultKeyMap(), Now: time.Now}
			codec := tinyCodec(t, false)
			p := newLatentPane(c)
			p, _ = p.Update(modelLoadedMsg{codec: codec})
			if tc.device != nil {
				p, _ = p.Update(playerOpenedMsg{p: tc.device})
			} else {
				p, _ = p.Update(playerOpenedMsg{err: errNoCard})
			}
			cl := &clip{label: "x", samples: liveSignal(24000), rate: 48000}
			p, _ = p.Update(clipLoadedMsg{clip: cl})
			z, _ := codec.Encode(cl.samples)
			p, cmd := p.Update(encodedMsg{z: z})
			if cmd != nil || p.building {
				t.Fatal("a live track is being built")
			}
			p, due := p.Update(keyMsg("right"))
			if due == nil {
				t.Fatal("no offline render scheduled")
			}
			if _, cmd := p.Update(latentRenderDueMsg{seq: 1}); cmd == nil {
				t.Fatal("the debounce did not render")
			}
		})
	}
}

// ratePlayback is a fake device at another rate.
type ratePlayback struct {
	*fakePlayback
	rate int
}

func (r *ratePlayback) SampleRate() int { return r.rate }

// TestPlayerBarLiveTrack checks that the bar plays a live track as B,
// relabels it in edit order, drops a late offline render, and that w
// exports B rendered with the edit in force.
func TestPlayerBarLiveTrack(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 0, testNow)
	f := newLiveFixture(t, false, 4*48000)
	fp := newFakePlayback()
	m := newModel(testOptions(t, &fakeCodec{}))
	m, _ = update(t, m, sessionOpenedMsg{s}, playerOpenedMsg{p: fp})
	cl := &clip{label: "x", samples: liveSignal(f.n), rate: 48000}
	m, cmd := update(t, m, clipLoadedMsg{clip: cl})
	m, _ = update(t, m, runSlow(cmd)...)
	tr := f.track(t, biasEdit(2).fn, true)
	m, _ = update(t, m, liveTrackMsg{track: tr, seq: 2, label: "live latent edit (1 dims changed)", selectB: true})
	if !fp.HasTrack(audio.TrackB) || fp.Current() != audio.TrackB || m.player.live != tr {
		t.Fatalf("B not live: has %v, current %v", fp.HasTrack(audio.TrackB), fp.Current())
	}
	m, _ = update(t, m, liveTrackMsg{track: tr, seq: 1, label: "stale"})
	if m.player.labelB != "live latent edit (1 dims changed)" {
		t.Errorf("label %q after an older one arrived late", m.player.labelB)
	}
	if !strings.Contains(m.player.View(), "B live latent edit") {
		t.Errorf("bar:\n%s", m.player.View())
	}
	m, _ = update(t, m, renderedMsg{from: "latent", audio: make([]float32, f.n), rate: 48000, label: "late"})
	if m.player.live != tr || m.player.b != nil {
		t.Fatal("a late offline render replaced the live B")
	}
	exp, ok := m.player.exportCmd()().(exportedMsg)
	if !ok || exp.err != nil || len(exp.paths) != 2 {
		t.Fatalf("export: %+v", exp)
	}
	b, err := audio.Decode(exp.paths[1])
	if err != nil {
		t.Fatal(err)
	}
	want, err := tr.Render()
	if err != nil {
		t.Fatal(err)
	}
	got := b.Mono()
	if len(got) != len(want) {
		t.Fatalf("exported B has %d samples, want %d", len(got), len(want))
	}
	for i, v := range want {
		if d := math.Abs(float64(got[i]) - max(-1, min(1, float64(v)))); d > 1.0/32768 {
			t.Fatalf("exported B sample %d = %v, the edited render has %v", i, got[i], v)
		}
	}
	if d, _ := relDiff(want, f.want, f.exactFrom(), f.exactTo()); d < 1e-3 {
		t.Error("the exported B does not contain the edit")
	}
	if _, err := os.Stat(exp.paths[0]); err != nil {
		t.Error(err)
	}
	// A fidelity render takes B back from the live track.
	m, cmd = update(t, m, renderedMsg{from: "fidelity", audio: make([]float32, f.n), rate: 48000, label: "k=4"})
	m, _ = update(t, m, runSlow(cmd)...)
	if m.player.live != nil || m.player.b == nil {
		t.Error("a fidelity render did not replace the live B")
	}
	m.quit()
}

// TestAppStreamsLatentEdits wires it all through the root model with a
// streaming codec and a sound device: once the clip is encoded, B is a
// live track; an edit in the latent pane makes B current at once, a model
// reload keeps the old track playing until the new one is in, and
// quitting ends the decoding goroutine.
// runSlow is run for commands that do real work (encoding, building a
// decoder): it waits up to 10 s for each, running a batch's commands
// concurrently. A tick still running then is dropped.
func runSlow(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := await(cmd, 10*time.Second)
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		if msg == nil {
			return nil
		}
		return []tea.Msg{msg}
	}
	outs := make([][]tea.Msg, len(batch))
	var wg sync.WaitGroup
	for i, c := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = runSlow(c)
		}()
	}
	wg.Wait()
	return slices.Concat(outs...)
}

func TestAppStreamsLatentEdits(t *testing.T) {
	withHome(t)
	s := makeSession(t, "piano", 0, testNow)
	codec := tinyCodec(t, false)
	fp := newFakePlayback()
	opts := testOptions(t, codec)
	opts.openAudio = func() (Playback, error) { return fp, nil }
	m := newModel(opts)
	m, _ = update(t, m, run(m.player.openCmd(m.opts.openAudio))...)
	m, _ = update(t, m, sessionOpenedMsg{s})
	m, _ = update(t, m, modelLoadedMsg{session: "piano", codec: codec})
	cl := &clip{label: "x", samples: liveSignal(48000), rate: 48000}
	m, cmd := update(t, m, clipLoadedMsg{clip: cl})
	msgs := runSlow(cmd)
	m, _ = update(t, m, msgs...) // tracks, encoded latents
	enc, ok := find[encodedMsg](msgs)
	if !ok || enc.err != nil {
		t.Fatalf("no latents: %+v", enc)
	}
	// encodedMsg was handled last: its command builds the live track.
	m, cmd = update(t, m, enc)
	ready, ok := find[liveReadyMsg](runSlow(cmd))
	if !ok || ready.err != nil {
		t.Fatalf("no live track: %+v", ready)
	}
	first := ready.track
	m, cmd = update(t, m, ready)
	m, _ = update(t, m, runSlow(cmd)...)
	if m.player.live != first || !fp.HasTrack(audio.TrackB) || fp.Current() != audio.TrackA {
		t.Fatalf("B is not the live track (bar %p, track %p, player B %v, current %v)", m.player.live, first, fp.HasTrack(audio.TrackB), fp.Current())
	}
	m, _ = update(t, m, keyMsg("4"))
	m, cmd = update(t, m, keyMsg("right"))
	m, _ = update(t, m, runSlow(cmd)...)
	if fp.Current() != audio.TrackB || !strings.Contains(m.View(), "B live latent edit (1 dims changed)") {
		t.Fatalf("after an edit: current %v\n%s", fp.Current(), m.View())
	}
	// A reloaded model: the old track plays on until the new one is in.
	m, cmd = update(t, m, modelLoadedMsg{session: "piano", codec: codec})
	if m.latent.live != nil || m.latent.retired != first {
		t.Fatal("a reload did not retire the live track")
	}
	select {
	case <-first.Exited():
		t.Fatal("the retired track stopped before its successor came")
	default:
	}
	enc, _ = find[encodedMsg](runSlow(cmd))
	m, cmd = update(t, m, enc)
	ready, _ = find[liveReadyMsg](runSlow(cmd))
	m, cmd = update(t, m, ready)
	m, _ = update(t, m, runSlow(cmd)...)
	if m.player.live != ready.track || ready.track == first {
		t.Fatal("the new live track is not B")
	}
	select {
	case <-first.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("the retired track runs on")
	}
	m.quit()
	select {
	case <-ready.track.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("the live track runs on after quit")
	}
}
