package dsp

import (
	"math"
	"testing"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/internal/gradcheck"
)

// mutantSTFT is STFTMagnitude with its backward rebuilt here from the same
// kernels, so that a test can break one step of it on purpose.
type mutantSTFT struct {
	x, out    *core.Tensor
	pl        *stftPlan
	fr        *framing
	spec, nyq []float32
	mutation  string
}

func mutantSTFTMagnitude(tp *core.Tape, x *core.Tensor, cfg STFTConfig, mutation string) *core.Tensor {
	signals, t := signalShape("mutant", x)
	pl := cfg.plan()
	fr := newFraming(x.Data(), signals, t, cfg.NFFT, cfg.Hop, cfg.Center)
	total, nb := fr.total(), pl.bins()
	o := &mutantSTFT{x: x, pl: pl, fr: fr, spec: make([]float32, total*pl.n), nyq: make([]float32, total), mutation: mutation}
	o.out = core.New(nil, total, nb)
	pl.forward(o.spec, o.nyq, fr, 0, total)
	od := o.out.Data()
	pl.eachBinRow(o.spec, total, func(k2 int, re, im []float32) {
		for col, r := range re {
			k1, fl := col/total, col%total
			od[fl*nb+pl.bin(k1, k2)] = float32(math.Hypot(float64(r), float64(im[col])))
		}
	})
	for fl := range total {
		od[fl*nb+nb-1] = float32(math.Abs(float64(o.nyq[fl])))
	}
	tp.Record(o, o.out, x)
	return o.out
}

func (o *mutantSTFT) Backward() {
	g := o.out.Grad()
	pl, fr := o.pl, o.fr
	total, nb := fr.total(), pl.bins()
	dz, dnyq := make([]float32, total*pl.n), make([]float32, total)
	l := pl.cols(total)
	pl.eachBinRow(o.spec, total, func(k2 int, re, im []float32) {
		dre, dim := dz[k2*l:][:l], dz[(pl.m2+k2)*l:][:l]
		for col, r := range re {
			k1, fl := col/total, col%total
			gm := float64(g[fl*nb+pl.bin(k1, k2)])
			if o.mutation == "bin_order" { // natural instead of slot order
				gm = float64(g[fl*nb+k1*pl.m2+k2])
			}
			i := float64(im[col])
			if o.mutation == "conjugate" {
				i = -i
			}
			m := math.Hypot(float64(r), i)
			dre[col], dim[col] = float32(gm*float64(r)/m), float32(gm*i/m)
		}
	})
	if o.mutation != "drop_nyquist" {
		for fl := range total {
			dnyq[fl] = g[fl*nb+nb-1] * sign32(o.nyq[fl])
		}
	}
	dpad := make([]float32, fr.signals*fr.padded)
	pl.adjoint(dpad, dz, dnyq, fr, 0, total)
	gx := o.x.EnsureGrad()
	for s := range fr.signals {
		if o.mutation == "no_reflect_fold" { // keep only the interior
			for i := range fr.length {
				gx[s*fr.length+i] += dpad[s*fr.padded+fr.pad+i]
			}
			continue
		}
		reflectFold(gx[s*fr.length:][:fr.length], dpad[s*fr.padded:][:fr.padded], fr.pad)
	}
}

// TestGradcheckCatchesBrokenBackward shows that the shared harness fails on
// realistic mistakes in a spectral backward: each mutant below breaks one
// step of the STFT backward (the forward is untouched) and must be
// reported, while the unbroken rebuild must pass. The production backwards
// were also mutated by hand while writing this package (dropping the ½ of
// the gonum adjoint, flipping the sign of the Nyquist term in scatter,
// skipping reflectFold, dropping the −linX·S_x term of the distance); every
// such edit made TestGradients fail.
func TestGradcheckCatchesBrokenBackward(t *testing.T) {
	m := dftMethod{n1: 4}
	cfg := STFTConfig{NFFT: 16, Hop: 4, Center: true, Normalized: true, method: &m}
	for _, mutation := range []string{"", "conjugate", "drop_nyquist", "no_reflect_fold", "bin_order"} {
		c := spectral("mutant", []int{2, 37}, []bool{true}, func(tp *core.Tape, x []*core.Tensor) *core.Tensor {
			return mutantSTFTMagnitude(tp, x[0], cfg, mutation)
		})
		err := gradcheck.Check(7, c.Inputs, c.F)
		switch {
		case mutation == "" && err != nil:
			t.Errorf("unbroken backward rejected: %v", err)
		case mutation != "" && err == nil:
			t.Errorf("mutation %q not detected by gradcheck", mutation)
		case mutation != "":
			t.Logf("mutation %q detected: %v", mutation, err)
		}
	}
}
