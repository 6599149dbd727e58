package train

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/train/runlog"
)

// benchTrainer builds a trainer for a preset without a session: random
// weights and a random batch, the batch split into split parts.
func benchTrainer(b testing.TB, preset string, batch, nSignal, split int) (*trainer, []float32) {
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
		cfg: Config{Batch: batch, NSignal: nSignal, LR: 1e-4, Seed: 1, Split: split}}
	if d, err := Defaults(preset); err == nil {
		t.cfg.Envelope = d.Envelope // the loss a run of the preset computes
	}
	t.newOptimisers()
	x := make([]float32, batch*nSignal)
	for i := range x {
		x[i] = float32(0.1 * rng.NormFloat64())
	}
	return t, x
}

// resetPeakRSS hands back to the system what earlier benchmarks left and
// restarts the kernel's peak-RSS counter of the process (VmHWM, Linux), so
// that peakRSS measures one benchmark run alone, also with -count > 1.
// Elsewhere the counter is the process's and only grows.
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns the peak resident set size in bytes since resetPeakRSS:
// VmHWM from /proc/self/status where there is one, else the process's
// maximum from getrusage.
func peakRSS() uint64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return rusageMaxRSS()
}

// BenchmarkTrainStep times one optimisation step at the reference's
// training size (batch 8 × 65 536 samples) for the v1 preset, and at the
// CPU presets' sizes: stage 1 (encoder + decoder update) and stage 2 (one
// discriminator step plus one generator step, reported per pair), each with
// the batch split in DefaultSplit concurrent parts (split2) and whole
// (split1). It reports the peak RSS of each run (resetPeakRSS) and the Go
// runtime's memory.
//
//	go test -run '^$' -bench 'TrainStep/(v1|small)/' -benchtime 3x ./train/
//
// Measured 2026-11-26 on the idle 2-core AMD EPYC (Zen 4) development
// machine: v1 stage 1 0.955 s (split2, 1.25 GiB) and 1.23 s (split1);
// stage 2 5.4 and 5.8 s; small stage 1 0.227 and 0.322 s. Whole-batch
// A/B runs of the earlier changes (LeakyConv1d, the parallel recycled
// weight norm, the spectral loss) gave a best of 1.13–1.14 s against
// 1.26–1.30 s before them.
//
// quick (batch 4 × 32 768), 2026-12-08, idle 2-core AMD EPYC (Zen 5):
// stage 1 0.098 s (split2, 0.23 GiB) and 0.18 s (split1); stage 2 0.69 and
// 0.85 s per generator + discriminator pair (0.65 GiB).
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		preset         string
		batch, nSignal int
	}{{"v1", 8, 65536}, {"small", 8, 32768}, {"quick", 4, 32768}, {"tiny", 4, 32768}} {
		for _, split := range []int{DefaultSplit, 1} {
			b.Run(fmt.Sprintf("%s/stage1/split%d", c.preset, split), func(b *testing.B) {
				resetPeakRSS()
				t, x := benchTrainer(b, c.preset, c.batch, c.nSignal, split)
				t.stage = runlog.StageVAE
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
			b.Run(fmt.Sprintf("%s/stage2_gen+disc/split%d", c.preset, split), func(b *testing.B) {
				resetPeakRSS()
				t, x := benchTrainer(b, c.preset, c.batch, c.nSignal, split)
				t.stage = runlog.StageAdversarial
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
}

func reportHeap(b *testing.B) {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		b.ReportMetric(float64(s[0].Value.Uint64())/(1<<30), "goMem_GiB")
	}
	runtime.GC()
}
