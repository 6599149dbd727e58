// Package plots draws RAVE Station's PNG plots with gonum/plot: training
// loss curves, the latent PCA spectrum with the chosen fidelity, original
// versus reconstructed spectrograms, and latent trajectories. It is the only
// package that imports gonum.org/v1/plot.
//
// # Plots
//
//   - LossCurves: one figure per loss term (loss_<term>.png) against the
//     training step, with validation values as dots, the stage 1 → 2 switch
//     as a dashed vertical line with the stage-2 side shaded, an optional EMA
//     over a faint raw curve, and a log axis when every value is positive.
//     LossOverview puts every term on one grid (losses.png).
//   - Spectrum: the PCA spectrum (spectrum.png): cumulative explained
//     variance with the fidelity f and the k dims it needs marked
//     ("f=0.95 → k dims", plus the reference exporter's power-of-two count),
//     over bars of each dimension's explained variance ratio on a log axis.
//   - Spectrograms: dBFS log-magnitude spectrograms (spectrogram.png, Hann
//     window, n_fft 2048, hop 512, gonum dsp/fourier) of the original above
//     the reconstruction, on one colour scale with a colour bar.
//   - LatentTrajectories: the first latent dimensions over time in seconds
//     (latents.png), one labelled line each.
//   - WriteAll renders all of the above whose inputs are present, atomically,
//     into one folder; it is what `rave plot` and the TUI's plot export call.
//
// # Conventions
//
// Constructors return a *Figure (one or more aligned gonum plots and a file
// name) or an error, and never panic on bad data: gonum's plotter.NewLine
// rejects NaN and ±Inf, and a log axis panics on values ≤ 0, so every series
// is cleaned first and what was dropped is counted in the legend or title.
// Missing or unusable data (no records, an all-NaN term, empty audio) gives
// an error wrapping ErrNoData, which callers writing several plots treat as
// "skipped, with this reason"; LossCurves and WriteAll return the figures
// or files they could make together with such an error.
//
// Long series stay fast to draw: lines of more than a few thousand points
// are thinned per x bucket to their first, lowest, highest and last points
// (spikes survive), and every line is stroked in short pieces, because the
// raster backend slows down sharply on long paths. Spectrograms of long
// audio are max-pooled to at most 2000 time columns.
//
// Figures render in memory through Figure.WriterTo or Figure.PNG, the
// latter sized in pixels at DPI (Px converts). The series behind each plot
// come from small unexported builders (lossSeries, stageBoundary,
// spectrumSeries, computeSpectrogram, latentSeries) that the tests check
// directly, rather than comparing images.
package plots
