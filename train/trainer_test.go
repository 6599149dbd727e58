package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// synthSession writes a session folder whose dataset is a synthetic
// instrument: harmonic notes with decaying envelopes at random pitches.
func synthSession(t testing.TB, seconds float64, chunkLen int) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "notes.wav")
	const sr = 48000
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, int(seconds*sr))
	noteLen := sr / 4
	for start := 0; start < len(x); start += noteLen {
		f0 := 110 * math.Pow(2, float64(rng.IntN(24))/12)
		for i := 0; i < noteLen && start+i < len(x); i++ {
			tt := float64(i) / sr
			env := math.Exp(-6 * tt)
			var v float64
			for h := 1; h <= 6; h++ {
				v += math.Sin(2*math.Pi*f0*float64(h)*tt) / float64(h)
			}
			x[start+i] = float32(0.3 * env * v)
		}
	}
	if err := audio.WriteWAV(src, [][]float32{x}, sr, audio.Int16); err != nil {
		t.Fatal(err)
	}
	if _, err := audio.BuildDataset(context.Background(), dir, []string{src}, audio.DatasetOptions{ChunkLen: chunkLen}, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tinyConfig(dir string, steps int64) Config {
	return Config{SessionDir: dir, Preset: "tiny", Stage1Steps: steps, Steps: steps, Batch: 4, NSignal: 32768,
		Seed: 3, LR: 1e-3, LogEvery: 25, ValEvery: steps, CheckpointEvery: steps, ValExamples: 8, ValFraction: 0.1}
}

func collect(t *testing.T, cfg Config) []Event {
	t.Helper()
	return events(t, func(ch chan<- Event) error { return Run(context.Background(), cfg, ch) }, nil)
}

// events runs a trainer (run, sending on ch) and returns the events it
// sent, calling on (if not nil) for each as it arrives.
func events(t *testing.T, run func(ch chan<- Event) error, on func(Event)) []Event {
	t.Helper()
	ch := make(chan Event, 1024)
	var evs []Event
	done := make(chan struct{})
	go func() {
		for ev := range ch {
			evs = append(evs, ev)
			if on != nil {
				on(ev)
			}
		}
		close(done)
	}()
	err := run(ch)
	close(ch)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func validations(evs []Event) []float64 {
	var out []float64
	for _, e := range evs {
		if e.Kind == runlog.EventValidation {
			out = append(out, e.Losses["validation"])
		}
	}
	return out
}

// TestTrainTinyLearns trains the tiny preset for a few hundred steps on a
// synthetic instrument and checks that the full-band spectral distance on
// held-out audio falls by at least half.
func TestTrainTinyLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	dir := synthSession(t, 40, 65536)
	evs := collect(t, tinyConfig(dir, 300))
	v := validations(evs)
	if len(v) < 2 {
		t.Fatalf("got %d validations, want a baseline and a final one", len(v))
	}
	t.Logf("held-out full-band distance: %.3f → %.3f", v[0], v[len(v)-1])
	// The tiny preset warms β up: each logged step reports the weight the
	// schedule gives it (the KL term was scaled by it).
	steps := 0
	for _, e := range evs {
		if e.Kind != runlog.EventStep {
			continue
		}
		steps++
		want := Config{BetaWarmup: DefaultBetaWarmup, BetaStart: 1e-6}.Beta(e.Step, 0.1)
		if math.Abs(e.Beta-want) > 1e-12 || e.Beta >= 1e-5 {
			t.Errorf("step %d: β %g, want %g", e.Step, e.Beta, want)
		}
	}
	if steps == 0 {
		t.Error("no step events")
	}
	if v[len(v)-1] > v[0]/2 {
		t.Errorf("held-out distance fell from %.3f to %.3f, want at most half", v[0], v[len(v)-1])
	}
	if _, err := os.Stat(filepath.Join(dir, layout.ModelFile)); err != nil {
		t.Errorf("no model file: %v", err)
	}
	// best.safetensors is the model of the lowest validation.
	best, err := model.Load(filepath.Join(dir, layout.BestModelFile))
	if err != nil {
		t.Fatalf("best model: %v", err)
	}
	bestStep, bestVal := int64(-1), math.Inf(1)
	for _, e := range evs {
		if e.Kind == runlog.EventValidation && e.Losses["validation"] < bestVal {
			bestStep, bestVal = e.Step, e.Losses["validation"]
		}
	}
	if best.Step != bestStep {
		t.Errorf("best model of step %d, want %d (validation %.3f)", best.Step, bestStep, bestVal)
	}
}

func modelBits(t *testing.T, dir string) map[string][]float32 {
	return fileBits(t, filepath.Join(dir, layout.ModelFile))
}

func fileBits(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	tf, err := core.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for _, n := range tf.Names() {
		x, err := tf.Tensor(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n] = x.Data()
	}
	return out
}

// TestResumeIsBitIdentical interrupts a tiny run at an arbitrary step
// (cancelling its context when some step event arrives), resumes it, and
// checks that every weight, buffer and the discriminator equal those of an
// uninterrupted run bit for bit, across the stage switch.
func TestResumeIsBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model twice")
	}
	// The quick preset's additions: a weight average, a decaying learning
	// rate, smoothed up-samplers, the envelope term and pitch-shifted crops.
	quick := func(c *Config) {
		c.EMA, c.LRDecay, c.UpsamplerInit, c.Envelope = 0.9, 10, "smooth", 1
		c.Augment = DefaultAugment()
		c.Augment.PitchShift, c.Augment.PitchSemitones = 0.5, 2
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{{"tiny", func(*Config) {}}, {"quick's additions", quick}} {
		t.Run(tc.name, func(t *testing.T) { testResumeIsBitIdentical(t, tc.mod) })
	}
}

func testResumeIsBitIdentical(t *testing.T, mod func(*Config)) {
	cfg := func(dir string) Config {
		c := tinyConfig(dir, 16)
		c.Stage1Steps, c.Batch, c.LogEvery, c.ValEvery, c.CheckpointEvery = 8, 2, 1, 6, 5
		mod(&c)
		return c
	}
	whole := synthSession(t, 20, 65536)
	collect(t, cfg(whole))

	split := synthSession(t, 20, 65536)
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan Event, 1024)
	go func() {
		for ev := range ch {
			if ev.Kind == runlog.EventStep && ev.Step >= 6 {
				cancel()
			}
		}
	}()
	if err := Run(ctx, cfg(split), ch); err != nil {
		t.Fatal(err)
	}
	close(ch)
	st, err := runlog.ReadStatus(filepath.Join(split, layout.StatusFile))
	if err != nil || st.State != "stopped" || st.Step >= 16 {
		t.Fatalf("interrupted run: status %+v, %v; want stopped before the end", st, err)
	}
	t.Logf("interrupted at step %d, resuming", st.Step)
	collect(t, cfg(split))

	for _, file := range []string{layout.ModelFile, layout.BestModelFile} {
		a, b := fileBits(t, filepath.Join(whole, file)), fileBits(t, filepath.Join(split, file))
		if len(a) != len(b) {
			t.Fatalf("%s: %d tensors vs %d", file, len(a), len(b))
		}
		for name, va := range a {
			vb := b[name]
			for i := range va {
				if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
					t.Fatalf("%s %s[%d]: %v uninterrupted, %v resumed", file, name, i, va[i], vb[i])
				}
			}
		}
	}
}

// TestNaNRecovery poisons one step: the trainer restores the last
// checkpoint, lowers the learning rate tenfold and finishes; poisoning every
// step after that makes it stop with ErrDiverged.
func TestNaNRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	dir := synthSession(t, 20, 65536)
	c := tinyConfig(dir, 8)
	c.Batch, c.LogEvery, c.ValEvery, c.CheckpointEvery = 2, 1, 8, 4
	hits := 0
	poisonHook = func(step int64) bool {
		if step == 6 && hits == 0 {
			hits++
			return true
		}
		return false
	}
	defer func() { poisonHook = nil }()
	evs := collect(t, c)
	var warned bool
	for _, e := range evs {
		if e.Kind == runlog.EventWarning && e.Step == 6 {
			warned = true
			t.Log(e.Message)
		}
	}
	if !warned {
		t.Fatal("no recovery warning")
	}
	dir2 := synthSession(t, 20, 65536)
	c.SessionDir = dir2
	poisonHook = func(step int64) bool { return step >= 3 }
	err := Run(context.Background(), c, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("Run with a loss that stays NaN = %v, want ErrDiverged", err)
	}
	st, _ := runlog.ReadStatus(filepath.Join(dir2, layout.StatusFile))
	if st.State != "failed" {
		t.Errorf("status after divergence: %+v", st)
	}
}

// TestRunManifest checks that a run leaves a manifest naming its seed,
// dataset and outcome.
func TestRunManifest(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	dir := synthSession(t, 12, 65536)
	c := tinyConfig(dir, 2)
	c.Batch = 1
	collect(t, c)
	runs, err := runlog.ReadRuns(dir)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %v, %v; want one", runs, err)
	}
	r := runs[0]
	if r.State != "done" || r.EndStep != 2 || r.Seed != 3 || r.Dataset.Hash == "" || len(r.Dataset.Files) != 1 || r.Losses["loss"] == 0 || r.Binary.Go == "" {
		t.Errorf("manifest %+v", r)
	}
	if r.ConfigDiff["Batch"] != "1" {
		t.Errorf("config diff %v lacks Batch=1", r.ConfigDiff)
	}
}

// TestSlabFinite checks the finiteness test on small slabs and on slabs
// large enough to be split across goroutines, with the bad value at either
// end and inside a part.
func TestSlabFinite(t *testing.T) {
	for _, n := range []int{1, 7, 1 << 10, 3<<20 + 5} {
		for _, c := range []struct {
			name string
			at   func(n int) int
			v    float32
		}{
			{"nan_first", func(int) int { return 0 }, float32(math.NaN())},
			{"inf_last", func(n int) int { return n - 1 }, float32(math.Inf(1))},
			{"neg_inf_middle", func(n int) int { return n / 2 }, float32(math.Inf(-1))},
			{"nan_second_part", func(n int) int { return min(n-1, n*3/4+1) }, float32(math.NaN())},
		} {
			g := make([]float32, n)
			for i := range g {
				g[i] = float32(i%17) - 8 + math.MaxFloat32*float32(i%2)
			}
			if !slabFinite(g) {
				t.Fatalf("n=%d: finite slab reported non-finite", n)
			}
			g[c.at(n)] = c.v
			if slabFinite(g) {
				t.Fatalf("n=%d %s: non-finite value at %d not found", n, c.name, c.at(n))
			}
		}
	}
}

// TestSplitStep checks the data-parallel step: the weights after a few
// steps do not depend on the number of threads, the parts' losses are
// averaged, and a split step differs from a whole-batch one (the parts
// are real: per-part statistics and random streams).
func TestSplitStep(t *testing.T) {
	run := func(split, procs int) (map[string]float64, []float32) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		tr, x := benchTrainer(t, "tiny", 4, 32768, split)
		tr.stage = runlog.StageVAE
		var losses map[string]float64
		for s := range int64(3) {
			tr.step = s
			l, ok := tr.trainStep(x)
			if !ok {
				t.Fatalf("split %d: step %d not finite", split, s)
			}
			losses = l
		}
		return losses, slices.Concat(tr.m.Enc.Data(), tr.m.Dec.Data())
	}
	l1, w1 := run(2, 1)
	_, w2 := run(2, 2)
	for i := range w1 {
		if math.Float32bits(w1[i]) != math.Float32bits(w2[i]) {
			t.Fatalf("weight %d: %v with 1 thread, %v with 2", i, w1[i], w2[i])
		}
	}
	_, whole := run(1, 2)
	if slices.Equal(w1, whole) {
		t.Error("a split step gave the same weights as a whole-batch step")
	}
	for _, k := range []string{"loss", "mss_fb", "mss_mb", "kl"} {
		if v, ok := l1[k]; !ok || !finite(v) || v <= 0 {
			t.Errorf("loss %s = %v (present %v)", k, v, ok)
		}
	}
	t.Run("weights", testSplitStepWeights)
}

// testSplitStepWeights checks that a step split into parts of unequal
// size (a batch of 3 in parts of 1 and 2) trains on the average of the
// parts' gradients and reports the average of their losses, each weighted
// by its part's share of the batch: the parts run one by one on the
// replicas first, then as the step.
func testSplitStepWeights(t *testing.T) {
	tr, x := benchTrainer(t, "tiny", 3, 32768, 2)
	tr.stage = runlog.StageVAE
	tr.step = 1
	N := tr.cfg.NSignal
	reps := tr.replicas()
	if len(reps) != 2 {
		t.Fatalf("%d replicas, want 2", len(reps))
	}
	var want, mag []float64 // Σ wᵢ·gᵢ and Σ |wᵢ·gᵢ|
	wantLoss := map[string]float64{}
	for i, r := range reps {
		r.m.SyncBuffers(tr.m)
		lo, hi := partBounds(i, 2, 3)
		res := tr.part(r, stepVAE, x[lo*N:hi*N], hi-lo, i)
		if !res.ok {
			t.Fatalf("part %d: loss not finite", i)
		}
		w := float64(hi-lo) / 3
		g := slices.Concat(r.m.Enc.Grad(), r.m.Dec.Grad())
		if want == nil {
			want, mag = make([]float64, len(g)), make([]float64, len(g))
		}
		for j, v := range g {
			want[j] += w * float64(v)
			mag[j] += math.Abs(w * float64(v))
		}
		for k, v := range res.losses {
			wantLoss[k] += float64(hi-lo) / 3 * v
		}
	}
	losses, ok := tr.trainStep(x)
	if !ok {
		t.Fatal("step not finite")
	}
	got := slices.Concat(tr.m.Enc.Grad(), tr.m.Dec.Grad())
	for j := range want {
		if d := math.Abs(float64(got[j]) - want[j]); d > 1e-6*mag[j] {
			t.Fatalf("gradient %d of the split step = %v, want ⅓·part 0 + ⅔·part 1 = %v", j, got[j], want[j])
		}
	}
	for k, v := range wantLoss {
		if math.Abs(losses[k]-v) > 1e-12*math.Abs(v) {
			t.Errorf("loss %s of the split step = %v, want ⅓·part 0 + ⅔·part 1 = %v", k, losses[k], v)
		}
	}
}

// TestAverageInto checks averageInto against the weighted sum (within
// float32 rounding) over several chunks and thread counts.
func TestAverageInto(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 1 << 16, 3<<16 + 5} {
		for _, procs := range []int{1, 2, 3} {
			parts := make([][]float32, 3)
			for i := range parts {
				parts[i] = make([]float32, n)
				for j := range parts[i] {
					parts[i][j] = float32(rng.NormFloat64())
				}
			}
			weights := []float32{0.2, 0.3, 0.5}
			want, mag := make([]float64, n), make([]float64, n)
			for j := range want {
				for i, w := range weights {
					want[j] += float64(w) * float64(parts[i][j])
					mag[j] += math.Abs(float64(w) * float64(parts[i][j]))
				}
			}
			prev := runtime.GOMAXPROCS(procs)
			averageInto(parts, weights)
			runtime.GOMAXPROCS(prev)
			for j := range want {
				if d := math.Abs(float64(parts[0][j]) - want[j]); d > 1e-6*mag[j] {
					t.Fatalf("n %d, %d threads: averageInto[%d] = %v, want %v", n, procs, j, parts[0][j], want[j])
				}
			}
		}
	}
}

// TestPlateauSwitch drives the plateau switch with sequences of validation
// distances: it fires at the Stage2Plateau-th validation in a row without
// a Stage2MinGain improvement of the best distance, never before
// Stage2From, never when off or past the stage-1 length.
func TestPlateauSwitch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patience int
		from     int64
		stage1   int64
		vals     []float64 // one validation every 100 steps, from step 100
		want     int64     // step of the switch, 0 for none
	}{
		{"steady gains", 2, 0, 10_000, []float64{10, 9, 8, 7, 6, 5}, 0},
		{"flat", 2, 0, 10_000, []float64{10, 9, 9, 9, 9}, 400},
		{"gains under 2 % in all count as flat", 3, 0, 10_000, []float64{10, 9.9, 9.85, 9.82, 9.81}, 400},
		{"small gains that add up to 2 % are progress", 3, 0, 10_000, []float64{10, 9.9, 9.85, 9.75, 9.7, 9.7}, 0},
		{"noise above the best", 2, 0, 10_000, []float64{10, 12, 11, 13}, 300},
		{"a gain restarts the count", 2, 0, 10_000, []float64{10, 10, 8, 8, 8}, 500},
		{"not before from", 2, 400, 10_000, []float64{10, 10, 10, 10, 10, 10}, 500},
		{"off", 0, 0, 10_000, []float64{10, 10, 10, 10}, 0},
		{"past stage 1", 2, 0, 250, []float64{10, 10, 10, 10}, 0},
		{"non-finite ignored", 2, 0, 10_000, []float64{10, math.NaN(), 10, 10}, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &trainer{cfg: Config{Stage2Plateau: tc.patience, Stage2From: tc.from, Stage1Steps: tc.stage1}}
			tr.stage = runlog.StageVAE
			var got int64
			for i, v := range tc.vals {
				tr.step = int64(100 * (i + 1))
				if finite(v) && (tr.bestVal == 0 || v < tr.bestVal) {
					tr.bestVal = v
				}
				if tr.plateau(v) && got == 0 {
					got = tr.step
				}
			}
			if got != tc.want {
				t.Errorf("switch at step %d, want %d", got, tc.want)
			}
		})
	}
}

// TestEMA checks the weight average: the decay's warm-up, the update, and
// that a run with an average hands out the average (model.safetensors
// differs from the trained weights kept in the checkpoint's state and
// equals neither an untrained nor a copied model).
func TestEMA(t *testing.T) {
	c := Config{EMA: 0.999}
	for _, tc := range []struct {
		step int64
		want float32
	}{{0, 0.1}, {90, 0.91}, {100_000, 0.999}} {
		if got := c.emaDecay(tc.step); math.Abs(float64(got-tc.want)) > 1e-6 {
			t.Errorf("decay at step %d: %g, want %g", tc.step, got, tc.want)
		}
	}
	avg := []float32{1, 2, 3}
	emaUpdate(avg, []float32{3, 2, 1}, 0.75)
	if want := []float32{1.5, 2, 2.5}; !slices.Equal(avg, want) {
		t.Errorf("emaUpdate: %v, want %v", avg, want)
	}
	if testing.Short() {
		return
	}
	dir := synthSession(t, 20, 65536)
	cfg := tinyConfig(dir, 6)
	cfg.EMA = 0.5
	collect(t, cfg)
	m, err := model.Load(filepath.Join(dir, layout.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	ck, _, _, err := latestLoaded(layout.Checkpoints(dir), loadCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	st, err := core.ReadSafetensors(filepath.Join(ck, layout.CheckpointStateFile))
	if err != nil {
		t.Fatal(err)
	}
	trained, err := st.Tensor("trained.dec")
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i, v := range m.Dec.Data() {
		if v != trained.Data()[i] {
			diff++
		}
	}
	if diff < len(m.Dec.Data())/2 {
		t.Errorf("the session model equals the trained weights in %d of %d values; want the average", len(m.Dec.Data())-diff, len(m.Dec.Data()))
	}
}

// TestEnvelopeTerm checks that Config.Envelope adds its weight times the
// envelope distance to the stage-1 loss and changes no other term, and
// that a run without it logs no envelope.
func TestEnvelopeTerm(t *testing.T) {
	step := func(weight float64) map[string]float64 {
		tr, x := benchTrainer(t, "tiny", 2, 32768, 1)
		tr.cfg.Envelope = weight
		tr.stage = runlog.StageVAE
		l, ok := tr.trainStep(x)
		if !ok {
			t.Fatalf("envelope weight %g: loss not finite", weight)
		}
		return l
	}
	off, on := step(0), step(2)
	if v, ok := off["env"]; ok {
		t.Errorf("without the term the step logs env = %v", v)
	}
	env := on["env"]
	if !(env > 0) {
		t.Fatalf("env = %v, want a positive distance", env)
	}
	for _, k := range []string{"mss_mb", "mss_fb", "loud", "kl"} {
		if on[k] != off[k] {
			t.Errorf("%s = %v with the term, %v without", k, on[k], off[k])
		}
	}
	if d := on["loss"] - off["loss"]; math.Abs(d-2*env) > 1e-5*on["loss"] {
		t.Errorf("the term adds %v to the loss, want 2 × %v", d, env)
	}
}
