//go:build arm64 && !purego

package isa

import "runtime"

// Advanced SIMD is mandatory on arm64: every arm64 CPU has the neon path.
var supported = []Path{Generic, NEON}

// HasVNNI is false: AVX512-VNNI is an amd64 extension.
func HasVNNI() bool { return false }

// HasBF16 is false: AVX512_BF16 is an amd64 extension.
func HasBF16() bool { return false }

func cpuName() string { return runtime.GOOS + "/arm64" }

// L2Bytes returns a conservative 1 MiB for the per-core L2 cache size,
// which this build does not query (amd64 reads it with CPUID); the
// kernels' cache blocking follows it.
func L2Bytes() int { return 1 << 20 }
