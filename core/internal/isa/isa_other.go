//go:build !(amd64 || arm64) || purego

package isa

import "runtime"

// Only the portable path exists on this architecture or with purego.
var supported = []Path{Generic}

// HasVNNI is false: no assembly kernels in this build.
func HasVNNI() bool { return false }

// HasBF16 is false: no assembly kernels in this build.
func HasBF16() bool { return false }

func cpuName() string { return runtime.GOARCH }

// L2Bytes returns a conservative 1 MiB for the per-core L2 cache size,
// which this build does not query (amd64 reads it with CPUID); the
// kernels' cache blocking follows it.
func L2Bytes() int { return 1 << 20 }
