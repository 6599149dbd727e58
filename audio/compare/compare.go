// Package compare measures how closely a rendered signal follows its input
// in the two ways a listener hears first: pitch (a YIN tracker, de
// Cheveigné & Kawahara 2002, "YIN, a fundamental frequency estimator for
// speech and music", JASA 111(4)) and level (the RMS envelope). It is used
// to report on reconstructions and timbre transfers next to the spectral
// distance, which mixes both with everything else.
package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Analysis settings.
const (
	// FrameSeconds is the hop between analysis frames.
	FrameSeconds = 0.01
	// MinHz and MaxHz bound the pitches searched: a piano's A0 (27.5 Hz)
	// up to its C8 (4186 Hz).
	MinHz, MaxHz = 27.5, 4200.0
	// Threshold is YIN's absolute threshold on the cumulative mean
	// normalised difference; frames whose minimum stays above it are
	// unpitched.
	Threshold = 0.15
	// FloorDB is how far below the input's loudest frame a frame may be and
	// still count: quieter frames (silence, the noise floor) are left out.
	FloorDB = 50.0
	// ToleranceCents is the pitch error within which a frame agrees.
	ToleranceCents = 50.0
)

// ErrTooShort is returned for signals shorter than one analysis window.
var ErrTooShort = errors.New("compare: signal shorter than one analysis window")

// Pitch is a per-frame fundamental frequency track; 0 marks an unpitched
// frame.
type Pitch []float64

// tracker holds the FFT plan and buffers of one YIN analysis.
type tracker struct {
	sr, window, maxLag, minLag int
	fft                        *fourier.FFT
	a, b                       []float64
	ca, cb                     []complex128
	dn                         []float64 // d′(τ)
}

// maxLagOf is the longest period searched at sr Hz, in samples (1/MinHz);
// the analysis window is as long.
func maxLagOf(sr int) int { return int(math.Ceil(float64(sr) / MinHz)) }

// spanOf is the number of samples one frame analyses: the window plus the
// longest lag.
func spanOf(sr int) int { return 2 * maxLagOf(sr) }

func newTracker(sr int) *tracker {
	maxLag := maxLagOf(sr)
	minLag := max(2, int(math.Floor(float64(sr)/MaxHz)))
	n := 1
	for n < spanOf(sr) {
		n *= 2
	}
	return &tracker{sr: sr, window: maxLag, maxLag: maxLag, minLag: minLag, fft: fourier.NewFFT(n),
		a: make([]float64, n), b: make([]float64, n), dn: make([]float64, maxLag+1)}
}

// frame estimates the pitch of x[at : at+span] (0 if unpitched): YIN's
// difference function d(τ) = Σ_{j<W} (x_j − x_{j+τ})² for τ ≤ maxLag, its
// cumulative mean normalisation d′, the first dip of d′ under Threshold
// (followed down to its minimum), and a parabolic refinement of the lag.
func (t *tracker) frame(x []float32, at int) float64 {
	W, L := t.window, t.maxLag
	clear(t.a)
	clear(t.b)
	for j := range W + L {
		v := float64(x[at+j])
		t.b[j] = v
		if j < W {
			t.a[j] = v
		}
	}
	var e0 float64
	for _, v := range t.a[:W] {
		e0 += v * v
	}
	if e0 == 0 {
		return 0
	}
	// Cross term r(τ) = Σ_{j<W} x_j·x_{j+τ} through the FFT (gonum's
	// inverse is unnormalised).
	t.ca = t.fft.Coefficients(t.ca, t.a)
	t.cb = t.fft.Coefficients(t.cb, t.b)
	for i := range t.ca {
		t.cb[i] *= complex(real(t.ca[i]), -imag(t.ca[i]))
	}
	r := t.fft.Sequence(t.a, t.cb)
	scale := 1 / float64(len(r))
	// The energy of the window starting at τ, by a running sum.
	et := e0
	var run float64
	t.dn[0] = 1
	for tau := 1; tau <= L; tau++ {
		et += t.b[tau+W-1]*t.b[tau+W-1] - t.b[tau-1]*t.b[tau-1]
		d := max(e0+et-2*r[tau]*scale, 0)
		run += d
		t.dn[tau] = 1
		if run > 0 {
			t.dn[tau] = d * float64(tau) / run
		}
	}
	best := -1
	for tau := t.minLag; tau < L; tau++ {
		if t.dn[tau] < Threshold {
			for tau+1 < L && t.dn[tau+1] < t.dn[tau] {
				tau++
			}
			best = tau
			break
		}
	}
	if best < 0 {
		return 0
	}
	lag := float64(best)
	if best >= 2 && best < L {
		y0, y1, y2 := t.dn[best-1], t.dn[best], t.dn[best+1]
		if den := y0 - 2*y1 + y2; den > 0 {
			lag += 0.5 * (y0 - y2) / den
		}
	}
	return float64(t.sr) / lag
}

// TrackPitch returns the YIN pitch of x (mono, sr Hz) every FrameSeconds,
// frame k analysing the samples from k·hop.
func TrackPitch(x []float32, sr int) (Pitch, error) {
	if sr <= 0 {
		return nil, fmt.Errorf("compare: sample rate %d", sr)
	}
	span := spanOf(sr)
	if len(x) < span {
		return nil, fmt.Errorf("%w (%d samples, need %d)", ErrTooShort, len(x), span)
	}
	t, hop := newTracker(sr), hopOf(sr)
	p := make(Pitch, 0, (len(x)-span)/hop+1)
	for at := 0; at+span <= len(x); at += hop {
		p = append(p, t.frame(x, at))
	}
	return p, nil
}

func hopOf(sr int) int { return max(1, int(math.Round(FrameSeconds*float64(sr)))) }

// levels returns the RMS level in dBFS of the frames TrackPitch analyses.
func levels(x []float32, sr int) []float64 {
	span, hop := spanOf(sr), hopOf(sr)
	var out []float64
	for at := 0; at+span <= len(x); at += hop {
		var s float64
		for _, v := range x[at : at+span] {
			s += float64(v) * float64(v)
		}
		out = append(out, 10*math.Log10(s/float64(span)+1e-20))
	}
	return out
}

// Report compares an output signal with its input.
type Report struct {
	// Frames counts the analysis frames within FloorDB of the input's
	// loudest; the figures below are over them.
	Frames int `json:"frames"`
	// LevelErrorDB is the mean absolute difference of the RMS levels
	// (dB), LevelBiasDB the mean signed difference (output − input).
	LevelErrorDB float64 `json:"level_error_db"`
	LevelBiasDB  float64 `json:"level_bias_db"`
	// PitchedFrames counts the frames where the input has a pitch.
	PitchedFrames int `json:"pitched_frames"`
	// PitchAgreement is the share of the pitched frames where the output's
	// pitch is within ToleranceCents of the input's.
	PitchAgreement float64 `json:"pitch_agreement"`
	// InputHz and OutputHz are the median pitches over the pitched frames
	// (OutputHz over those where the output has a pitch; 0 if none).
	InputHz  float64 `json:"input_hz"`
	OutputHz float64 `json:"output_hz"`
}

// Compare measures out against in (both mono at sr Hz, compared over the
// shorter length).
func Compare(in, out []float32, sr int) (Report, error) {
	n := min(len(in), len(out))
	pin, err := TrackPitch(in[:n], sr)
	if err != nil {
		return Report{}, err
	}
	pout, err := TrackPitch(out[:n], sr)
	if err != nil {
		return Report{}, err
	}
	lin, lout := levels(in[:n], sr), levels(out[:n], sr)
	return report(pin, pout, lin, lout), nil
}

// report computes the Report of per-frame pitches and levels.
func report[F float32 | float64](pin, pout, lin, lout []F) Report {
	peak := float64(slices.Max(lin))
	var rep Report
	var hin, hout []float64
	agree := 0
	for k := range lin {
		li, lo, pi, po := float64(lin[k]), float64(lout[k]), float64(pin[k]), float64(pout[k])
		if li < peak-FloorDB {
			continue
		}
		rep.Frames++
		diff := lo - li
		rep.LevelErrorDB += math.Abs(diff)
		rep.LevelBiasDB += diff
		if pi == 0 {
			continue
		}
		rep.PitchedFrames++
		hin = append(hin, pi)
		if po > 0 {
			hout = append(hout, po)
			if math.Abs(1200*math.Log2(po/pi)) <= ToleranceCents {
				agree++
			}
		}
	}
	if rep.Frames > 0 {
		rep.LevelErrorDB /= float64(rep.Frames)
		rep.LevelBiasDB /= float64(rep.Frames)
	}
	if rep.PitchedFrames > 0 {
		rep.PitchAgreement = float64(agree) / float64(rep.PitchedFrames)
	}
	rep.InputHz, rep.OutputHz = median(hin), median(hout)
	return rep
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
