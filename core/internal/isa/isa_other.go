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
