package dsp_test

import (
	"fmt"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/dsp"
)

// A 16-band PQMF at 100 dB, as RAVE v1 and v2 use it.
func ExampleNewPQMF() {
	p, err := dsp.NewPQMF(16, 100)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Taps(), p.FilterLength(), p.Delay())
	x := core.Zeros(1, 1, 4096)
	bands := p.Analysis(nil, x)
	fmt.Println(bands.Shape(), p.Synthesis(nil, bands).Shape())
	// Output:
	// 377 512 16
	// [1 16 256] [1 1 4096]
}

// The loudness curve of RAVE v1 has one value per hop of 512 samples plus
// one.
func ExampleLoudnessMeter() {
	m := dsp.NewLoudnessMeter(48000, 512)
	l := m.Loudness(nil, core.Zeros(2, 1, 4096))
	fmt.Println(l.Shape())
	// Output: [2 1 9]
}

// The periodic Hann window, w[k] = 0.5 − 0.5·cos(2πk/n).
func ExampleHannWindow() {
	fmt.Println(dsp.HannWindow(4))
	// Output: [0 0.5 1 0.5]
}
