package tui

import (
	"testing"
	"time"
)

// BenchmarkLiveDemoBlock decodes blocks of the embedded demo model (preset
// quick) back to back, as the live track's goroutine does while B plays,
// and reports the time per block (ms/block) and how many times faster
// than real time that is (x_realtime: a block's duration over its decoding
// time; the live track has room to spare above 2, as it must prime after
// an edit while the queue plays), and the priming after a seek
// (ms/seek-priming). It logs the decoder's latency, which the look-ahead
// compensates.
//
//	go test ./tui -run '^$' -bench LiveDemoBlock
func BenchmarkLiveDemoBlock(b *testing.B) {
	d := loadDemo(b, 3)
	block := liveBlock(d.hop)
	dec, delay, err := d.codec.NewFrameDecoder(block)
	if err != nil {
		b.Fatal(err)
	}
	r, err := newLiveRenderer(dec, delay, d.z, d.hop, block)
	if err != nil {
		b.Fatal(err)
	}
	r.seek(24000)
	began := time.Now()
	r.fill()
	prime := time.Since(began)
	blk := make([]float32, block)
	b.ReportAllocs()
	blocks := 0
	for b.Loop() {
		r.render(blk) // past the clip's end the last frame is held: the same work
		blocks++
	}
	per := b.Elapsed().Seconds() / float64(blocks)
	b.ReportMetric(1000*per, "ms/block")
	b.ReportMetric(float64(block)/float64(d.codec.Info().SampleRate)/per, "x_realtime")
	b.ReportMetric(float64(prime)/1e6, "ms/seek-priming")
	b.Logf("demo model, %d-sample blocks; decoder latency %d samples (compensated by look-ahead)", block, delay.Latency)
}
