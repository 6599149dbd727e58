package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/model/tinymodel"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train/runlog"
)

// priorSession returns a synthetic session holding an untrained tiny model
// (random weights: its latents still carry the notes' structure) whose
// latent PCA buffers are set to whiten the dataset's latents, so that they
// spread over the prior's classes as a trained model's do.
func priorSession(t *testing.T) string {
	t.Helper()
	dir := synthSession(t, 12, 32768)
	m := tinymodel.New(t)
	whiten(t, m, dir)
	if err := m.Save(filepath.Join(dir, layout.ModelFile)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tinyPrior(dir string, steps int64) PriorConfig {
	return PriorConfig{SessionDir: dir, Dims: 4, Residual: 16, Skip: 16, Layers: 4, Steps: steps, Batch: 4, Frames: 32,
		Seed: 7, LR: 3e-3, LogEvery: 10, ValEvery: 20, CheckpointEvery: 20, Keep: 2, ValFraction: 0.2}
}

// runPrior runs RunPrior, calling on for every event, and returns the
// events.
func runPrior(t *testing.T, ctx context.Context, cfg PriorConfig, on func(Event)) []Event {
	t.Helper()
	return events(t, func(ch chan<- Event) error { return RunPrior(ctx, cfg, ch) }, on)
}

func TestRunPriorLearns(t *testing.T) {
	dir := priorSession(t)
	evs := runPrior(t, context.Background(), tinyPrior(dir, 60), nil)
	var val []float64
	for _, e := range evs {
		if e.Kind == runlog.EventValidation {
			val = append(val, e.Losses["val_xent"])
		}
	}
	if len(val) < 2 {
		t.Fatalf("got %d validations, want a baseline and more", len(val))
	}
	first, last := val[0], val[len(val)-1]
	t.Logf("validation cross-entropy: %.3f → %.3f nats/dim (uniform %.3f)", first, last, math.Log(32))
	if !(last < math.Log(32)) || !(last < first) {
		t.Errorf("validation cross-entropy %.3f → %.3f, want a drop below log 32 = %.3f", first, last, math.Log(32))
	}
	for _, f := range []string{layout.PriorFile, layout.MetricsFile, layout.StatusFile, layout.PriorLatentsFile} {
		if _, err := os.Stat(filepath.Join(dir, layout.PriorDir, f)); err != nil {
			t.Errorf("missing prior/%s: %v", f, err)
		}
	}
	recs := readPriorMetrics(t, dir)
	if len(recs) == 0 {
		t.Error("prior/metrics.jsonl is empty")
	}
}

func readPriorMetrics(t *testing.T, dir string) []runlog.MetricsRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, layout.PriorDir, layout.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, _, err := runlog.ReadMetrics(f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestRunPriorResumeExact interrupts a run at its first checkpoint, resumes
// it, and compares the final weights with an uninterrupted run's.
func TestRunPriorResumeExact(t *testing.T) {
	const steps = 60
	a := priorSession(t)
	runPrior(t, context.Background(), tinyPrior(a, steps), nil)

	b := priorSession(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs := runPrior(t, ctx, tinyPrior(b, steps), func(ev Event) {
		if ev.Kind == runlog.EventCheckpoint && ev.Step >= 10 {
			cancel()
		}
	})
	stopped := evs[len(evs)-1]
	if stopped.Kind != runlog.EventDone || stopped.Step >= steps {
		t.Fatalf("interrupted run ended with %+v, want a done event before step %d", stopped, steps)
	}
	cfg := tinyPrior(b, steps)
	cfg.CheckpointEvery = 7 // intervals of a resumed run are the checkpoint's
	runPrior(t, context.Background(), cfg, nil)

	wa, err := os.ReadFile(filepath.Join(a, layout.PriorDir, layout.PriorFile))
	if err != nil {
		t.Fatal(err)
	}
	wb, err := os.ReadFile(filepath.Join(b, layout.PriorDir, layout.PriorFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wa, wb) {
		t.Errorf("resumed prior (stopped at step %d) differs from the uninterrupted one", stopped.Step)
	}
}

// whiten sets m's latent_mean and the diagonal latent_pca so that the
// encoded chunks of the session in dir have zero mean and unit variance
// per dimension.
func whiten(t *testing.T, m *model.Model, dir string) {
	t.Helper()
	ds, err := audio.OpenDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	D := m.Config.LatentSize
	sum, sq := make([]float64, D), make([]float64, D)
	n := 0
	for i := range ds.Len() {
		z, err := m.EncodeAudioWith(ds.ChunkFloat(nil, i), model.CodecOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for d, row := range z {
			for _, v := range row {
				sum[d] += float64(v)
				sq[d] += float64(v) * float64(v)
			}
		}
		n += len(z[0])
	}
	mu, pca := m.Buffer("latent_mean").Data(), m.Buffer("latent_pca").Data()
	clear(pca)
	for d := range D {
		mean := sum[d] / float64(n)
		sd := math.Sqrt(max(sq[d]/float64(n)-mean*mean, 1e-12))
		mu[d] = float32(mean)
		pca[d*D+d] = float32(1 / sd)
	}
}

func TestPriorLatentsCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), layout.PriorLatentsFile)
	key := latentsKey{model: [32]byte{1, 2}, dataset: "abc/3/1024", dims: 2}
	lat := [][]float32{{1, 2, 3, 4}, {5, 6, 7, 8}, {-1, float32(math.Pi), 0, 1e-30}}
	if err := writeLatents(path, key, lat, 2); err != nil {
		t.Fatal(err)
	}
	got, frames, err := readLatents(path, key)
	if err != nil {
		t.Fatal(err)
	}
	if frames != 2 || len(got) != len(lat) {
		t.Fatalf("readLatents = %d chunks of %d frames, want %d of 2", len(got), frames, len(lat))
	}
	for i := range lat {
		for j := range lat[i] {
			if got[i][j] != lat[i][j] {
				t.Fatalf("chunk %d value %d = %v, want %v", i, j, got[i][j], lat[i][j])
			}
		}
	}
	for name, k := range map[string]latentsKey{
		"model":   {model: [32]byte{9}, dataset: key.dataset, dims: 2},
		"dataset": {model: key.model, dataset: "abd/3/1024", dims: 2},
		"dims":    {model: key.model, dataset: key.dataset, dims: 3},
	} {
		if _, _, err := readLatents(path, k); !errors.Is(err, errStaleLatents) {
			t.Errorf("another %s: error %v, want errStaleLatents", name, err)
		}
	}
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0x10
	os.WriteFile(path, b, 0o644)
	if _, _, err := readLatents(path, key); err == nil {
		t.Error("corrupt cache: no error")
	}
}
