package tui

import (
	"errors"
	"fmt"
)

// liveRenderer turns a clip's latents into the clip's audio, one block at a
// time, through a FrameDecoder: it feeds the (edited) frames in clip order
// and hands out the decoder's output already shifted back by the decoder's
// latency, so block k is samples [k·block, (k+1)·block) of the clip, as
// the offline decoder renders them. It runs on one goroutine (liveTrack's)
// and allocates nothing per block.
//
// The decoder's output at a clip position depends on frames up to Latency
// samples later, which are known in advance (the whole clip is encoded
// once), so the latency costs no delay: the renderer simply feeds that far
// ahead. Past the last frame it holds the last frame, so the final Latency
// samples of the clip differ slightly from the offline decoding (which
// zero-pads every layer).
type liveRenderer struct {
	dec   FrameDecoder
	delay StreamDelay
	z     [][]float32 // dims × frames, PCA space, read only
	hop   int         // samples per frame
	block int         // samples per block, a multiple of hop

	// edit is applied to every frame fed from now on (nil: none).
	edit *liveEdit

	pos    int         // clip position of the next block
	next   int         // next frame fed to the decoder
	buf    []float32   // decoded samples [pos, decoded()), cap 2·block
	frames [][]float32 // one block's frames, dims values each
	out    []float32   // one block of decoder output
}

// liveEdit is one version of the latent pane's edit; a new pointer means a
// new version.
type liveEdit struct {
	fn LatentEdit
}

// newLiveRenderer checks the shapes and allocates the buffers. The caller
// calls seek before the first render.
func newLiveRenderer(dec FrameDecoder, delay StreamDelay, z [][]float32, hop, block int) (*liveRenderer, error) {
	switch {
	case len(z) == 0 || len(z[0]) == 0:
		return nil, errors.New("live render: no latents")
	case hop <= 0 || block <= 0 || block%hop != 0:
		return nil, fmt.Errorf("live render: block of %d samples for frames of %d", block, hop)
	case delay.Latency < 0 || delay.Warmup < 0:
		return nil, fmt.Errorf("live render: negative delays %+v", delay)
	}
	for d, row := range z {
		if len(row) != len(z[0]) {
			return nil, fmt.Errorf("live render: latent dim %d has %d frames, dim 0 has %d", d, len(row), len(z[0]))
		}
	}
	r := &liveRenderer{dec: dec, delay: delay, z: z, hop: hop, block: block,
		buf: make([]float32, 0, 2*block), out: make([]float32, block)}
	r.frames = make([][]float32, block/hop)
	for f := range r.frames {
		r.frames[f] = make([]float32, len(z))
	}
	return r, nil
}

// decoded is the clip position of the next sample the decoder will output.
func (r *liveRenderer) decoded() int { return r.next*r.hop - r.delay.Latency }

// seek resets the decoder so that the next render returns the block at
// clip position pos. It starts feeding early enough that the decoder's
// warm-up is over by pos (or at the clip's first frame), so the blocks
// equal the offline decoding; that priming costs about Warmup samples of
// decoding, done by the first render (or fill).
func (r *liveRenderer) seek(pos int) { r.seekWarm(pos, r.delay.Warmup) }

// minWarm is the shortest priming seekWarm accepts: the latency (the
// frames the first block depends on) and one frame of context.
func (r *liveRenderer) minWarm() int { return r.delay.Latency + r.hop }

// seekWarm is seek with a priming of warm samples (at least minWarm; at
// most, and exact from pos with, the decoder's Warmup). A shorter priming
// decodes faster, but the first Warmup−warm samples after pos then depend
// on the decoder's initial state and differ from the offline decoding (by
// up to about 6 % of the peak for the demo model with the shortest
// priming, and not at all with about two thirds of its Warmup).
func (r *liveRenderer) seekWarm(pos, warm int) {
	warm = max(r.minWarm(), min(warm, r.delay.Warmup))
	r.dec.Reset()
	first := pos + r.delay.Latency - warm
	r.next = 0
	if first > 0 {
		r.next = first / r.hop
	}
	r.pos = pos
	r.buf = r.buf[:0]
}

// render writes the block at the current position into dst (block samples)
// and moves to the next block; it returns the number of frames it fed.
// Positions past the clip's end are rendered from the last frame held.
func (r *liveRenderer) render(dst []float32) int {
	fed := r.fill()
	copy(dst, r.buf[:r.block])
	r.buf = r.buf[:copy(r.buf, r.buf[r.block:])]
	r.pos += r.block
	return fed
}

// primeFramesAt is about the number of frames a seek to pos decodes
// before its first block is ready. It reads only fields set at
// construction, so any goroutine may call it.
func (r *liveRenderer) primeFramesAt(pos int) int {
	first := max(0, pos+r.delay.Latency-r.delay.Warmup) / r.hop
	last := (pos + r.block + r.delay.Latency + r.hop - 1) / r.hop
	return max(1, last-first)
}

// primeFrames is about the number of frames a seekWarm away from the
// clip's start decodes before its first block is ready.
func (r *liveRenderer) primeFrames(warm int) int {
	return (r.block+max(r.minWarm(), min(warm, r.delay.Warmup))+r.hop-1)/r.hop + 1
}

// fill decodes until the block at the current position is ready (after a
// seek, that is the priming) and returns the number of frames it fed.
func (r *liveRenderer) fill() int {
	from := r.next
	for r.decoded() < r.pos+r.block {
		start := r.decoded()
		r.feed()
		r.dec.DecodeBuffer(r.out, r.frames)
		if skip := r.pos - start; skip < r.block {
			r.buf = append(r.buf, r.out[max(0, skip):]...)
		}
	}
	return r.next - from
}

// feed fills frames with the next block of frames, edited.
func (r *liveRenderer) feed() {
	last := len(r.z[0]) - 1
	for k, fr := range r.frames {
		t := min(r.next+k, last)
		for d, row := range r.z {
			fr[d] = row[t]
		}
		if r.edit != nil && r.edit.fn != nil {
			r.edit.fn(t, fr)
		}
	}
	r.next += len(r.frames)
}
