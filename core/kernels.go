package core

import "github.com/ravestation/rave/core/internal/isa"

// KernelPath returns the instruction-set path every hot kernel uses:
// "avx512", "avx2", "neon" or "generic". It is the best this CPU supports
// unless the RAVE_KERNELS environment variable forced another one.
func KernelPath() string { return string(isa.Current()) }

// KernelPaths returns the paths this CPU and build support, worst first.
func KernelPaths() []string {
	ps := isa.Supported()
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// KernelReport describes the path in use, the CPU and the paths available,
// e.g. "avx2 (AMD EPYC 7B13; available: generic, avx2)".
func KernelReport() string { return isa.Describe() }

// KernelsEnvError returns why RAVE_KERNELS was refused (unknown path, or
// one this CPU cannot run), or nil. The best path is in use meanwhile.
func KernelsEnvError() error { return isa.EnvError() }

// UseKernelPath switches every kernel to the named path and returns a
// function restoring the previous one; a path this CPU lacks is refused.
// Call it between computations, never during one.
func UseKernelPath(name string) (restore func(), err error) {
	p, err := isa.Parse(name)
	if err != nil {
		return func() {}, err
	}
	return isa.Use(p)
}
