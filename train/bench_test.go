package train

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
)

// benchTrainer builds a trainer for a preset without a session: random
// weights and a random batch.
func benchTrainer(b *testing.B, preset string, batch, nSignal int) (*trainer, []float32) {
	mc, err := model.Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	m, err := model.New(mc, rng)
	if err != nil {
		b.Fatal(err)
	}
	m.AddDiscriminator(rng)
	t := &trainer{m: m, tp: core.NewTape(), lrScale: 1,
		cfg: Config{Batch: batch, NSignal: nSignal, LR: 1e-4, Seed: 1}}
	t.newOptimisers()
	x := make([]float32, batch*nSignal)
	for i := range x {
		x[i] = float32(0.1 * rng.NormFloat64())
	}
	return t, x
}

// peakRSS returns the process's peak resident set size in bytes.
func peakRSS() uint64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return uint64(ru.Maxrss) * 1024
}

// BenchmarkTrainStep times one optimisation step at the reference's
// training size (batch 8 × 65 536 samples) for the v1 preset: stage 1
// (encoder + decoder update) and stage 2 (one discriminator step plus one
// generator step, reported per pair). It reports peak RSS of the process.
//
//	go test -run '^$' -bench 'TrainStep/v1' -benchtime 3x ./train/
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		preset         string
		batch, nSignal int
	}{{"v1", 8, 65536}, {"small", 8, 32768}, {"tiny", 4, 32768}} {
		b.Run(fmt.Sprintf("%s/stage1", c.preset), func(b *testing.B) {
			t, x := benchTrainer(b, c.preset, c.batch, c.nSignal)
			t.stage = StageVAE
			t.trainStep(x) // warm-up: caches and scratch buffers
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				t.step = int64(i)
				if _, ok := t.trainStep(x); !ok {
					b.Fatal("non-finite loss")
				}
			}
			b.ReportMetric(float64(peakRSS())/(1<<30), "peakRSS_GiB")
			reportHeap(b)
		})
		b.Run(fmt.Sprintf("%s/stage2_gen+disc", c.preset), func(b *testing.B) {
			t, x := benchTrainer(b, c.preset, c.batch, c.nSignal)
			t.stage = StageAdversarial
			t.step = 0
			t.trainStep(x)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				for _, s := range []int64{int64(2 * i), int64(2*i + 1)} { // generator, then discriminator
					t.step = s
					if _, ok := t.trainStep(x); !ok {
						b.Fatal("non-finite loss")
					}
				}
			}
			b.ReportMetric(float64(peakRSS())/(1<<30), "peakRSS_GiB")
			reportHeap(b)
		})
	}
}

func reportHeap(b *testing.B) {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		b.ReportMetric(float64(s[0].Value.Uint64())/(1<<30), "goMem_GiB")
	}
	runtime.GC()
}
