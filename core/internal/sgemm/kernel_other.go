//go:build !(amd64 || arm64) || purego

package sgemm

import "github.com/ravestation/rave/core/internal/isa"

// archKernels returns no assembly kernels: on this architecture, or with the
// purego build tag, Sgemm always uses the pure-Go micro-kernel.
func archKernels() []*kernel { return nil }

// setArchPath has nothing to set: there are no assembly helpers.
func setArchPath(isa.Path) {}

// hasAsmPack is false: there is no assembly packing routine.
const hasAsmPack = false

// packT4x8 is never called when hasAsmPack is false.
func packT4x8(dst, src *float32, ld, kc, w int) { panic("sgemm: packT4x8 without assembly") }

// packRows is never called when hasAsmPack is false.
func packRows(dst, src *float32, ld, kc, np, w int) { panic("sgemm: packRows without assembly") }
