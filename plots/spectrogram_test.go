package plots

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestComputeSpectrogramDims(t *testing.T) {
	const sr = 48000
	tests := []struct {
		name       string
		n, maxCols int
		cols       int
		t0, dt     float64
	}{
		// Frames centred every 512 samples from 0: 1 + ⌊48000/512⌋ = 94.
		{"one second", sr, 2000, 94, 0, 512.0 / sr},
		{"one frame length", 2048, 2000, 5, 0, 512.0 / sr},
		{"shorter than a hop", 100, 2000, 1, 0, 512.0 / sr},
		{"one sample", 1, 2000, 1, 0, 512.0 / sr},
		// 94 frames pooled in groups of ⌈94/10⌉ = 10: 10 columns, the first
		// centred on frames 0…9, i.e. at 4.5·512/48000 s.
		{"pooled", sr, 10, 10, 4.5 * 512 / sr, 5120.0 / sr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := computeSpectrogram(make([]float32, tt.n), sr, SpecFFT, SpecHop, tt.maxCols)
			if err != nil {
				t.Fatal(err)
			}
			c, r := s.Dims()
			if c != tt.cols || r != SpecFFT/2+1 {
				t.Errorf("Dims = %d, %d, want %d, %d", c, r, tt.cols, SpecFFT/2+1)
			}
			if math.Abs(s.X(0)-tt.t0) > 1e-12 || math.Abs(s.dt-tt.dt) > 1e-12 {
				t.Errorf("X(0), dt = %v, %v, want %v, %v", s.X(0), s.dt, tt.t0, tt.dt)
			}
			if got, want := s.Y(r-1), float64(sr)/2; got != want {
				t.Errorf("top bin at %v Hz, want Nyquist %v", got, want)
			}
			// Silence sits at the floor, never at -Inf or NaN.
			if got := s.peak(); got != specFloorDB {
				t.Errorf("silence peaks at %v dB, want %v", got, specFloorDB)
			}
		})
	}
}

func TestSpectrogramSinePeak(t *testing.T) {
	const sr = 48000
	tests := []struct {
		name   string
		bin    float64 // sine frequency in bins of sr/SpecFFT
		amp    float64
		wantDB float64
		tolDB  float64
	}{
		// A full-scale sine centred on a bin reads 0 dBFS: the Hann
		// window's coherent gain Σw/2 is divided out.
		{"bin 100 full scale", 100, 1, 0, 0.01},
		{"bin 300 at -20 dB", 300, 0.1, -20, 0.01},
		// Half-way between bins the Hann window loses 1.42 dB
		// (scalloping loss, Harris 1978, table 1).
		{"between bins", 200.5, 1, -1.42, 0.02},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.bin * sr / SpecFFT
			s, err := computeSpectrogram(sine(sr/2, sr, f, tt.amp), sr, SpecFFT, SpecHop, 2000)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := s.Dims()
			col := s.column(c / 2)
			peak := 0
			for k := range col {
				if col[k] > col[peak] {
					peak = k
				}
			}
			if want := int(tt.bin); peak != want && peak != int(math.Ceil(tt.bin)) {
				t.Errorf("peak at bin %d (%v Hz), want %v (%v Hz)", peak, s.Y(peak), tt.bin, f)
			}
			if math.Abs(col[peak]-tt.wantDB) > tt.tolDB {
				t.Errorf("peak level %.3f dB, want %.3f ± %.2f", col[peak], tt.wantDB, tt.tolDB)
			}
		})
	}
}

func TestComputeSpectrogramErrors(t *testing.T) {
	tests := []struct {
		name   string
		x      []float32
		sr     int
		noData bool
	}{
		{"empty", nil, 48000, true},
		{"zero sample rate", make([]float32, 10), 0, false},
		{"negative sample rate", make([]float32, 10), -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := computeSpectrogram(tt.x, tt.sr, SpecFFT, SpecHop, 2000)
			if err == nil || errors.Is(err, ErrNoData) != tt.noData {
				t.Errorf("error %v, want one (ErrNoData %v)", err, tt.noData)
			}
		})
	}
}

func TestComputeSpectrogramNonFinite(t *testing.T) {
	x := sine(4096, 16000, 1000, 0.5)
	x[10], x[20] = float32(math.NaN()), float32(math.Inf(-1))
	s, err := computeSpectrogram(x, 16000, SpecFFT, SpecHop, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if s.nonFinite != 2 {
		t.Errorf("nonFinite = %d, want 2", s.nonFinite)
	}
	for i, v := range s.db {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("db[%d] = %v", i, v)
		}
	}
}

func TestSpectrograms(t *testing.T) {
	const sr = 16000
	orig := sine(sr, sr, 440, 0.5)
	tests := []struct {
		name      string
		orig, rec []float32
		sr        int
		panels    int
		err       string
	}{
		{"both", orig, sine(sr/2, sr, 440, 0.4), sr, 2, ""},
		{"original only", orig, nil, sr, 1, ""},
		{"reconstruction only", nil, orig, sr, 1, ""},
		{"silence", make([]float32, 5000), make([]float32, 5000), sr, 2, ""},
		{"tiny", []float32{1}, []float32{float32(math.NaN())}, sr, 2, ""},
		{"no audio", nil, nil, sr, 0, "no audio"},
		{"no sample rate", orig, orig, 0, 0, "sample rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fig, err := Spectrograms(tt.orig, tt.rec, tt.sr)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fig.Name != "spectrogram.png" || len(fig.Rows) != tt.panels || fig.Strip == nil {
				t.Fatalf("%s: %d panels, strip %v; want spectrogram.png, %d panels and a colour bar", fig.Name, len(fig.Rows), fig.Strip != nil, tt.panels)
			}
			checkPNG(t, fig, testW, testH)
		})
	}
}

func TestHann(t *testing.T) {
	// Periodic Hann of length 4: 0, 0.5, 1, 0.5 (torch.hann_window(4)).
	want := []float64{0, 0.5, 1, 0.5}
	for i, v := range hann(4) {
		if math.Abs(v-want[i]) > 1e-15 {
			t.Fatalf("hann(4) = %v, want %v", hann(4), want)
		}
	}
}

func TestLogFreqRows(t *testing.T) {
	const sr = 48000
	tests := []struct {
		name string
		hz   float64
	}{
		{"A0 (below one bin)", 27.5},
		{"A4", 440},
		{"between bins", 1010},
		{"high", 12000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := computeSpectrogram(sine(sr, sr, tt.hz, 0.5), sr, SpecFFT, SpecHop, 2000)
			if err != nil {
				t.Fatal(err)
			}
			l := newLogFreq(s, SpecMinHz, sr/2, specLogRows)
			c, rows := l.Dims()
			if rows != specLogRows {
				t.Fatalf("%d rows, want %d", rows, specLogRows)
			}
			if got, want := math.Pow(10, l.Y(0)), float64(SpecMinHz); math.Abs(got-want) > 1e-6 {
				t.Errorf("row 0 at %v Hz, want %v", got, want)
			}
			if got, want := math.Pow(10, l.Y(rows-1)), float64(sr/2); math.Abs(got-want) > 1e-3 {
				t.Errorf("last row at %v Hz, want %v", got, want)
			}
			peak := 0
			for r := range rows {
				if l.Z(c/2, r) > l.Z(c/2, peak) {
					peak = r
				}
			}
			// The loudest row lies within one STFT bin or half a row of
			// the tone.
			tol := max(s.binHz, tt.hz*(math.Pow(10, l.dy/2)-1))
			if got := math.Pow(10, l.Y(peak)); math.Abs(got-tt.hz) > tol {
				t.Errorf("loudest row at %.1f Hz, want %.1f ± %.1f", got, tt.hz, tol)
			}
		})
	}
}

func TestLogHzTicks(t *testing.T) {
	ticks := logHzTicks(math.Log10(20), math.Log10(24000))
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	want := "20 50 100 200 500 1k 2k 5k 10k 20k"
	if got := strings.Join(labels, " "); got != want {
		t.Errorf("labels %q, want %q", got, want)
	}
}
