package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
)

// Result is the outcome of Run.
type Result struct {
	// Preset is the configuration's preset name (may be empty).
	Preset string `json:"preset"`
	// Seconds is the length of the benchmarked audio.
	Seconds float64 `json:"seconds"`
	// EncodeMs, DecodeMs and TotalMs are the best wall times of one encode,
	// one decode (without the noise head) and their sum, in milliseconds.
	EncodeMs float64 `json:"encode_ms"`
	DecodeMs float64 `json:"decode_ms"`
	TotalMs  float64 `json:"total_ms"`
	// RealTimeFactor is Seconds divided by the encode+decode time.
	RealTimeFactor float64 `json:"real_time_factor"`
	// EncoderParams, DecoderParams and DiscriminatorParams count the
	// trainable parameters (weight-norm gains included).
	EncoderParams       int `json:"encoder_params"`
	DecoderParams       int `json:"decoder_params"`
	DiscriminatorParams int `json:"discriminator_params"`
	// PeakHeapBytes is the largest Go heap in use observed during one
	// encode+decode (sampled every millisecond, in a run of its own that
	// is not timed).
	PeakHeapBytes uint64 `json:"peak_heap_bytes"`
	// Threads is GOMAXPROCS during the run.
	Threads int `json:"threads"`
	// Runs is the number of timed encode+decode runs.
	Runs int `json:"runs"`
	// Precision is the inference arithmetic ("f32" or "bf16").
	Precision string `json:"precision"`
}

// Run builds a randomly initialised model for cfg and times encode and
// decode (inference, batch 1, posterior mean, no noise) of seconds of
// audio at the model's sample rate, after one warm-up run and one run
// that samples the peak heap; it repeats the measurement for about one
// second (at least 3 runs) and keeps the best. The inference arithmetic
// is prec (see model.Model.SetInferencePrecision).
func Run(cfg model.Config, seconds float64, prec model.Precision) (Result, error) {
	if seconds <= 0 {
		return Result{}, fmt.Errorf("bench: %g seconds", seconds)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	m, err := model.New(cfg, rng)
	if err != nil {
		return Result{}, err
	}
	if err := m.SetInferencePrecision(prec); err != nil {
		return Result{}, err
	}
	res := Result{Preset: cfg.Preset, Seconds: seconds, Threads: runtime.GOMAXPROCS(0), Precision: prec.String()}
	res.EncoderParams, res.DecoderParams = m.Enc.Count(), m.Dec.Count()
	res.DiscriminatorParams = model.DiscriminatorParamCount(cfg)

	timeCodec(&res, seconds, cfg.SR, cfg.CompressionRatio(), rng,
		func(x *core.Tensor) *core.Tensor { mean, _ := m.Encode(nil, x); return mean },
		func(z *core.Tensor) { m.Decode(nil, z, false, nil) })
	return res, nil
}

// timeCodec measures (see measure) encode and decode on seconds of
// Gaussian noise (standard deviation 0.3, drawn from rng) at sample rate
// sr, rounded up to a multiple of the compression ratio r, into res.
// encode returns the latents decode takes.
func timeCodec(res *Result, seconds float64, sr, r int, rng *rand.Rand, encode func(*core.Tensor) *core.Tensor, decode func(*core.Tensor)) {
	n := int(seconds * float64(sr))
	n = (n + r - 1) / r * r
	x := core.Zeros(1, 1, n)
	for i := range x.Data() {
		x.Data()[i] = float32(0.3 * rng.NormFloat64())
	}
	measure(res, seconds, func() (enc, dec time.Duration) {
		t0 := time.Now()
		z := encode(x)
		t1 := time.Now()
		decode(z)
		return t1.Sub(t0), time.Since(t1)
	})
}

// measure times run, one encode and one decode of seconds of audio, into
// res: after a warm-up and a run that samples the peak heap, it repeats
// run for about one second (at least 3 times) and keeps the best.
func measure(res *Result, seconds float64, run func() (enc, dec time.Duration)) {
	run() // warm-up: inference caches, scratch buffers

	// The peak heap is sampled during one extra, untimed run: reading the
	// runtime's memory metrics every millisecond slows the work it
	// watches by about 15 %.
	base := heapInUse()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				peak = max(peak, heapInUse())
			}
		}
	}()
	run()
	close(stop)
	wg.Wait()
	res.PeakHeapBytes = max(peak, base)

	best := time.Duration(1<<63 - 1)
	start := time.Now()
	for res.Runs < 3 || time.Since(start) < time.Second {
		e, d := run()
		if e+d < best {
			best = e + d
			res.EncodeMs, res.DecodeMs = ms(e), ms(d)
		}
		res.Runs++
	}
	res.TotalMs = ms(best)
	res.RealTimeFactor = seconds / best.Seconds()
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// heapInUse returns the bytes of heap objects in use.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return s[0].Value.Uint64()
	}
	return 0
}
