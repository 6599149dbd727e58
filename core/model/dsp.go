package model

// This file is the only place that wires core/dsp into the model.

import (
	"math/rand/v2"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
)

// designPQMF returns the PQMF prototype low-pass filter h for the given
// number of bands and attenuation (rave-spec.md §2.2).
func designPQMF(bands int, attenuationDB float64) ([]float64, error) {
	p, err := dsp.NewPQMF(bands, attenuationDB)
	if err != nil {
		return nil, err
	}
	return toF64(p.H().Data()), nil
}

// designedPQMFBuffers returns the four PQMF buffers (pqmf.h, pqmf.hk,
// pqmf.forward_conv.weight, pqmf.inverse_conv.weight) of a freshly
// designed bank.
func designedPQMFBuffers(bands int, attenuationDB float64) (h, hk, fwd, inv []float32, err error) {
	p, err := dsp.NewPQMF(bands, attenuationDB)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return p.H().Data(), p.HK().Data(), p.AnalysisWeight().Data(), p.SynthesisWeight().Data(), nil
}

// hannWindow32 returns the periodic Hann window as torch.hann_window
// builds it in float32 (the loudness.window buffer).
func hannWindow32(n int) []float32 { return dsp.HannWindow(n) }

// synthNoise is the noise synthesiser (rave-spec.md §4.2): amp
// (B, bands·nb, F) band amplitudes → filtered uniform noise
// (B, bands, F·target), differentiable with respect to amp.
func synthNoise(tp *core.Tape, amp *core.Tensor, bands, target int, rng *rand.Rand) *core.Tensor {
	nb := amp.Dim(1) / bands
	return dsp.NewNoiseFilter(bands, nb, target).Synthesize(tp, amp, rng)
}

// lossModules holds the dsp objects of the v1 reconstruction loss.
type lossModules struct {
	spectral dsp.MultiScaleDistance
	loudness *dsp.LoudnessMeter
}

// loudnessHop is the hop of the v1 loudness module (block_size 512).
const loudnessHop = 512

func newLossModules(sr int) *lossModules {
	return &lossModules{spectral: dsp.DistanceV1(), loudness: dsp.NewLoudnessMeter(float64(sr), loudnessHop)}
}

// spectralDistance is the v1 multiscale spectral distance between target x
// and prediction y, with its per-scale terms.
func (l *lossModules) spectralDistance(tp *core.Tape, x, y *core.Tensor) (*core.Tensor, []float64, []float64) {
	r := l.spectral.Distance(tp, x, y)
	return r.Total, r.Lin, r.Log
}

// loudnessCurves returns the v1 loudness of x and y. The loudness is the
// frequency mean of log-magnitude plus A-weighting, so the A-weighting
// enters only through its mean: the curves are shifted from the meter's
// table to the model's loudness.a_weight buffer (imported checkpoints
// carry their own).
func (l *lossModules) loudnessCurves(tp *core.Tape, x, y *core.Tensor, aWeight []float32) (lx, ly *core.Tensor) {
	lx, ly = l.loudness.Loudness(tp, x), l.loudness.Loudness(tp, y)
	shift := meanOf(aWeight) - meanOf(l.loudness.AWeight().Data())
	if shift != 0 {
		lx, ly = tp.AddScalar(lx, float32(shift)), tp.AddScalar(ly, float32(shift))
	}
	return lx, ly
}

func meanOf(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return s / float64(max(len(x), 1))
}

// aWeighting returns the loudness module's A-weighting table in dB (the
// loudness.a_weight buffer, nFFT/2+1 values) for sample rate sr, with the
// constants of librosa ≥ 0.9 that the reference fixture was made with.
func aWeighting(nFFT int, sr float64) []float32 { return dsp.LoudnessAWeight(sr, nFFT) }
