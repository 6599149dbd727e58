package core

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ravestation/rave/core/internal/sgemm"
)

// KernelResult is one measurement of MeasureKernels.
type KernelResult struct {
	// Name identifies the kernel and case, e.g. "sgemm/1024x1024x1024".
	Name string `json:"name"`
	// Seconds is the mean wall time of one call.
	Seconds float64 `json:"seconds"`
	// GFLOPS is the arithmetic rate, counting a multiply-add as two flops.
	GFLOPS float64 `json:"gflops"`
}

// SgemmShape is an (M, K, N) GEMM size: C (M×N) = A (M×K) · B (K×N).
type SgemmShape struct{ M, K, N int }

// BenchSgemmShapes are the GEMM sizes of the kernel benchmarks; they are the
// im2col GEMMs of conv1d layers of RAVE v1 (M = output channels, K = input
// channels × kernel, N = frames) plus the square 1024³ case.
var BenchSgemmShapes = []SgemmShape{{64, 192, 8192}, {256, 768, 2048}, {512, 1536, 1024}, {1024, 1024, 1024}}

// ConvBenchCase is a conv1d or transposed conv1d layer of RAVE v1 at
// training size (batch 8 × 65 536 samples).
type ConvBenchCase struct {
	Name             string
	B, Cin, Cout, T  int
	K                int
	Stride, Dilation int
	Transposed       bool
}

// BenchConvCases are the conv layers timed by the kernel benchmarks.
var BenchConvCases = []ConvBenchCase{
	{Name: "enc0_16to64_k7_T4096", B: 8, Cin: 16, Cout: 64, T: 4096, K: 7, Stride: 1, Dilation: 1},
	{Name: "enc3_64to128_k9_s4_T4096", B: 8, Cin: 64, Cout: 128, T: 4096, K: 9, Stride: 4, Dilation: 1},
	{Name: "res_128_k3_d3_T2048", B: 8, Cin: 128, Cout: 128, T: 2048, K: 3, Stride: 1, Dilation: 3},
	{Name: "res_512_k3_T128", B: 8, Cin: 512, Cout: 512, T: 128, K: 3, Stride: 1, Dilation: 1},
	{Name: "up_128to64_k4_s2_T2048", B: 8, Cin: 128, Cout: 64, T: 2048, K: 4, Stride: 2, Dilation: 1, Transposed: true},
}

// Flops returns the multiply-add count ×2 of the forward pass.
func (c ConvBenchCase) Flops() float64 {
	if c.Transposed {
		return 2 * float64(c.B*c.Cin*c.Cout*c.K*c.T)
	}
	tout := ConvOutLen(c.T, c.K, c.Params())
	return 2 * float64(c.B*c.Cin*c.Cout*c.K*tout)
}

// Params returns the convolution parameters with "same" padding.
func (c ConvBenchCase) Params() ConvParams {
	l, r := SamePadding(c.K, c.Dilation)
	return ConvParams{Stride: c.Stride, Dilation: c.Dilation, PadLeft: l, PadRight: r}
}

// TransposeParams returns the transposed-convolution parameters used by
// RAVE's upsamplers (padding stride/2).
func (c ConvBenchCase) TransposeParams() ConvTransposeParams {
	return ConvTransposeParams{Stride: c.Stride, Dilation: c.Dilation, Padding: c.Stride / 2}
}

// Inputs returns random input, weight and bias tensors for the case, all
// requiring gradients.
func (c ConvBenchCase) Inputs(rng *rand.Rand) (x, w, b *Tensor) {
	x = Randn(rng, c.B, c.Cin, c.T).SetRequiresGrad(true)
	if c.Transposed {
		w = Randn(rng, c.Cin, c.Cout, c.K).SetRequiresGrad(true)
	} else {
		w = Randn(rng, c.Cout, c.Cin, c.K).SetRequiresGrad(true)
	}
	b = Randn(rng, c.Cout).SetRequiresGrad(true)
	return x, w, b
}

// Run computes the forward pass on tp.
func (c ConvBenchCase) Run(tp *Tape, x, w, b *Tensor) *Tensor {
	if c.Transposed {
		return tp.ConvTranspose1d(x, w, b, c.TransposeParams())
	}
	return tp.Conv1d(x, w, b, c.Params())
}

// timeIt calls f until minTime has passed (at least twice, the first call
// being a warm-up) and returns the mean seconds per call.
func timeIt(minTime time.Duration, f func()) float64 {
	f()
	n := 0
	start := time.Now()
	for n < 1 || time.Since(start) < minTime {
		f()
		n++
	}
	return time.Since(start).Seconds() / float64(n)
}

// MeasureKernels times sgemm at BenchSgemmShapes and conv1d forward and
// forward+backward at BenchConvCases, spending about minTime on each.
func MeasureKernels(minTime time.Duration) []KernelResult {
	rng := rand.New(rand.NewPCG(1, 1))
	var out []KernelResult
	for _, s := range BenchSgemmShapes {
		a := Randn(rng, s.M, s.K).Data()
		b := Randn(rng, s.K, s.N).Data()
		c := make([]float32, s.M*s.N)
		sec := timeIt(minTime, func() { sgemm.Sgemm(false, false, s.M, s.N, s.K, 1, a, s.K, b, s.N, 0, c, s.N) })
		out = append(out, KernelResult{Name: fmt.Sprintf("sgemm/%dx%dx%d", s.M, s.K, s.N), Seconds: sec, GFLOPS: 2 * float64(s.M*s.K*s.N) / sec / 1e9})
	}
	for _, c := range BenchConvCases {
		x, w, b := c.Inputs(rng)
		kind := "conv1d"
		if c.Transposed {
			kind = "conv_transpose1d"
		}
		sec := timeIt(minTime, func() { c.Run(nil, x, w, b) })
		out = append(out, KernelResult{Name: kind + "/forward/" + c.Name, Seconds: sec, GFLOPS: c.Flops() / sec / 1e9})
		tp := NewTape()
		sec = timeIt(minTime, func() {
			tp.Reset()
			y := c.Run(tp, x, w, b)
			seed := make([]float32, y.Len())
			seed[0] = 1
			tp.BackwardFrom(y, seed)
		})
		out = append(out, KernelResult{Name: kind + "/forward+backward/" + c.Name, Seconds: sec, GFLOPS: 3 * c.Flops() / sec / 1e9})
	}
	return out
}

// SgemmKernel names the sgemm micro-kernel in use ("avx512", "avx2" or
// "generic").
func SgemmKernel() string { return sgemm.Kernel() }
