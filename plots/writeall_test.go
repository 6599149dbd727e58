package plots

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/sessions"
)

func TestWriteAll(t *testing.T) {
	const sr = 16000
	full := Inputs{
		Metrics:        syntheticRun(),
		Analysis:       syntheticAnalysis(t, 8, 100),
		Original:       sine(sr, sr, 440, 0.5),
		Reconstruction: sine(sr, sr, 440, 0.4),
		SampleRate:     sr,
		Latents:        latentRows(4, 60),
		FrameRate:      sr / 2048.0,
	}
	withNaNTerm := Inputs{Metrics: syntheticRun()}
	for i := range withNaNTerm.Metrics {
		withNaNTerm.Metrics[i].Losses["diverged"] = math.NaN()
	}
	tests := []struct {
		name   string
		in     Inputs
		w, h   int
		files  []string
		noData bool
		err    string
	}{
		{
			name: "everything",
			in:   full,
			w:    testW, h: testH,
			files: []string{"loss_gen.png", "loss_kl.png", "loss_mss.png", "losses.png", "spectrum.png", "spectrogram.png", "latents.png"},
		},
		{
			name: "one loss term: no overview",
			in:   Inputs{Metrics: []sessions.MetricsRecord{rec(0, 1, map[string]float64{"kl": 1}), rec(1, 1, map[string]float64{"kl": 0.5})}},
			w:    testW, h: testH,
			files: []string{"loss_kl.png"},
		},
		{
			name: "reconstruction only, own loss options",
			in:   Inputs{Reconstruction: full.Original, SampleRate: sr, Loss: &LossOptions{Smooth: 0.5}},
			w:    testW, h: testH,
			files: []string{"spectrogram.png"},
		},
		{
			name: "all-NaN term skipped, the rest written",
			in:   withNaNTerm,
			w:    testW, h: testH,
			files:  []string{"loss_gen.png", "loss_kl.png", "loss_mss.png", "losses.png"},
			noData: true, err: `loss "diverged"`,
		},
		{
			name: "only unusable data",
			in:   Inputs{Analysis: latent.Identity(4)},
			w:    testW, h: testH,
			noData: true, err: "explains no variance",
		},
		{name: "nothing given", in: Inputs{}, w: testW, h: testH, noData: true, err: "no inputs"},
		{name: "bad size", in: full, w: -1, h: 10, err: "out of range"},
		{name: "too large", in: full, w: MaxPixels + 1, h: 10, err: "out of range"},
		{name: "bad option", in: Inputs{Metrics: full.Metrics, Loss: &LossOptions{Smooth: -1}}, w: testW, h: testH, err: "smoothing"},
		{
			name: "bad sample rate skips only the spectrogram",
			in:   Inputs{Original: full.Original, Latents: full.Latents, FrameRate: 10},
			w:    testW, h: testH,
			files: []string{"latents.png"}, err: "sample rate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "plots")
			paths, err := WriteAll(dir, tt.in, tt.w, tt.h)
			if errors.Is(err, ErrNoData) != tt.noData {
				t.Errorf("error %v: ErrNoData %v, want %v", err, errors.Is(err, ErrNoData), tt.noData)
			}
			if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error %v, want one containing %q", err, tt.err)
			}
			if tt.err == "" && !tt.noData && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			var names []string
			for _, p := range paths {
				names = append(names, filepath.Base(p))
				if filepath.Dir(p) != dir {
					t.Errorf("%s written outside %s", p, dir)
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				checkPNGBytes(t, p, b, tt.w, tt.h)
			}
			if !slices.Equal(names, tt.files) {
				t.Errorf("wrote %q, want %q", names, tt.files)
			}
			// Atomic writes leave no temporary files behind.
			entries, _ := os.ReadDir(dir)
			if len(entries) != len(tt.files) {
				var got []string
				for _, e := range entries {
					got = append(got, e.Name())
				}
				t.Errorf("folder holds %q, want only %q", got, tt.files)
			}
		})
	}
}

func TestWriteAllDefaultSizeAndOverwrite(t *testing.T) {
	dir := t.TempDir()
	in := Inputs{Latents: latentRows(2, 30), FrameRate: 10}
	for range 2 { // the second run replaces the first file
		paths, err := WriteAll(dir, in, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(paths) != 1 {
			t.Fatalf("paths = %v", paths)
		}
		b, err := os.ReadFile(paths[0])
		if err != nil {
			t.Fatal(err)
		}
		checkPNGBytes(t, paths[0], b, DefaultWidth, DefaultHeight)
	}
}

func TestFigureErrors(t *testing.T) {
	fig, err := LatentTrajectories(latentRows(2, 10), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{0, 10}, {10, 0}, {MaxPixels + 1, 10}} {
		if _, err := fig.PNG(size[0], size[1]); err == nil {
			t.Errorf("PNG(%d, %d) succeeded", size[0], size[1])
		}
	}
	if _, err := fig.WriterTo(Px(10), Px(10), "bmp"); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := (&Figure{Name: "empty.png"}).PNG(10, 10); !errors.Is(err, ErrNoData) {
		t.Errorf("empty figure: error %v, want ErrNoData", err)
	}
}
