// Package isa chooses the instruction-set path of every hot kernel in core:
// "avx512", "avx2", "neon" or "generic" (pure Go). One switch for the whole
// engine: the kernel packages (sgemm, panel, the model's Winograd
// transforms) register a hook with [Register] and follow the path in use,
// so the product of a whole model never mixes paths.
//
// The path is the best the CPU and the build support, unless the
// RAVE_KERNELS environment variable names another one (generic, avx2,
// avx512, neon; empty or "auto" means the best). A path the CPU lacks is
// refused: [EnvError] says why, and the best path is used meanwhile, so a
// program that reports the error (the rave command does, at start) never
// runs a kernel the CPU cannot execute. [Use] switches the path at run time
// for tests and benchmarks.
//
// What each path means:
//
//   - avx512: amd64 with AVX-512 F, BW, VL and DQ (VNNI and BF16 kernels
//     when the CPU also has them) — and AVX2, FMA, F16C, which every such CPU has;
//   - avx2: amd64 with AVX2, FMA and F16C (Haswell, Zen 1 and later);
//   - neon: arm64 (Advanced SIMD is part of the architecture);
//   - generic: portable Go, on every CPU, and the only path with the
//     purego build tag.
package isa

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// Path names an instruction-set path.
type Path string

const (
	// Generic is the portable Go path.
	Generic Path = "generic"
	// AVX2 is amd64 with AVX2, FMA and F16C.
	AVX2 Path = "avx2"
	// AVX512 is amd64 with AVX-512 F, BW, VL and DQ.
	AVX512 Path = "avx512"
	// NEON is arm64's Advanced SIMD.
	NEON Path = "neon"
)

// Known lists every path, whatever the CPU.
var Known = []Path{Generic, AVX2, AVX512, NEON}

// EnvVar is the environment variable that forces a path.
const EnvVar = "RAVE_KERNELS"

var (
	mu       sync.Mutex
	current  Path
	hooks    []func(Path)
	envError error
)

func init() {
	current = Best()
	if v := strings.TrimSpace(os.Getenv(EnvVar)); v != "" && v != "auto" {
		p, err := Parse(v)
		if err == nil {
			current = p
		} else {
			envError = fmt.Errorf("%s=%s: %w", EnvVar, v, err)
		}
	}
}

// Supported returns the paths this CPU and build can run, worst first.
func Supported() []Path { return supported }

// Best returns the fastest supported path.
func Best() Path { return supported[len(supported)-1] }

// Has reports whether p is supported here.
func Has(p Path) bool {
	for _, s := range supported {
		if s == p {
			return true
		}
	}
	return false
}

// Parse returns the path named s, or an error naming the paths there are
// when s is unknown or not supported by this CPU or build.
func Parse(s string) (Path, error) {
	p := Path(strings.ToLower(strings.TrimSpace(s)))
	known := false
	for _, k := range Known {
		known = known || k == p
	}
	switch {
	case !known:
		return "", fmt.Errorf("unknown kernel path %q (choose one of %s)", s, list(Known))
	case !Has(p):
		return "", fmt.Errorf("this CPU (%s) cannot run the %s kernels (paths available here: %s)", cpuName(), p, list(supported))
	}
	return p, nil
}

// EnvError returns the reason RAVE_KERNELS was refused, or nil.
func EnvError() error { return envError }

// Current returns the path in use.
func Current() Path {
	mu.Lock()
	defer mu.Unlock()
	return current
}

// Register calls fn with the path in use now and again after every change
// by [Use]. Kernel packages call it from init to set their dispatch.
func Register(fn func(Path)) {
	mu.Lock()
	defer mu.Unlock()
	hooks = append(hooks, fn)
	fn(current)
}

// Use switches every kernel package to path p and returns a function that
// restores the previous path. A path this CPU lacks returns an error and
// changes nothing. Use must not run concurrently with kernels (tests and
// benchmarks call it between products).
func Use(p Path) (restore func(), err error) {
	if !Has(p) {
		if _, err := Parse(string(p)); err != nil {
			return func() {}, fmt.Errorf("isa: %w", err)
		}
	}
	mu.Lock()
	prev := current
	set(p)
	mu.Unlock()
	return func() {
		mu.Lock()
		set(prev)
		mu.Unlock()
	}, nil
}

// set makes p current and tells the hooks; mu is held.
func set(p Path) {
	current = p
	for _, fn := range hooks {
		fn(p)
	}
}

// Describe returns the path in use and the CPU, e.g. "avx2 (AMD EPYC 7B13;
// available: generic, avx2)", for version and benchmark reports.
func Describe() string {
	return fmt.Sprintf("%s (%s; available: %s)", Current(), cpuName(), list(supported))
}

// CPU returns the processor's brand string where the CPU reports one, else
// its architecture.
func CPU() string { return cpuName() }

func list(ps []Path) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
