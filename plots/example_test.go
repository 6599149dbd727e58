package plots_test

import (
	"bytes"
	"fmt"
	"image/png"
	"math"

	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/plots"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/train/runlog"
)

// A short run: "mss" decays through stage 1 and a NaN step, the
// discriminator loss appears in stage 2 (from step 300).
func ExampleLossCurves() {
	var records []sessions.MetricsRecord
	for step := int64(0); step < 500; step += 10 {
		stage, losses := 1, map[string]float64{"mss": 2 + 5*math.Exp(-float64(step)/100)}
		if step == 120 {
			losses["mss"] = math.NaN()
		}
		if step >= 300 {
			stage, losses["disc"] = 2, 1.2
		}
		records = append(records, sessions.MetricsRecord{Kind: runlog.EventStep, Step: step, Stage: stage, Losses: losses})
	}
	figs, err := plots.LossCurves(records, plots.LossOptions{Smooth: 0.9})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range figs {
		b, err := f.PNG(640, 400)
		if err != nil {
			fmt.Println(err)
			return
		}
		cfg, _ := png.DecodeConfig(bytes.NewReader(b))
		fmt.Printf("%s %dx%d\n", f.Name, cfg.Width, cfg.Height)
	}
	// Output:
	// loss_disc.png 640x400
	// loss_mss.png 640x400
}

// An analysis that has not run yet explains no variance: Spectrum says so
// with an error that WriteAll reports as a skipped plot.
func ExampleSpectrum() {
	_, err := plots.Spectrum(latent.Identity(16), plots.DefaultFidelity)
	fmt.Println(err)
	// Output:
	// plots: nothing to plot: spectrum: the analysis explains no variance (untrained model, or the analysis has not run)
}
