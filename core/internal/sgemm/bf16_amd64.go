//go:build amd64 && !purego

package sgemm

import "golang.org/x/sys/cpu"

// useBF16Asm selects the AVX512_BF16 kernels (a variable for tests).
var useBF16Asm = cpu.X86.HasAVX512BF16 && cpu.X86.HasAVX512F

//go:noescape
func bdot12x32(kp int, a, b *uint32, c *float32, ldc int, acc int)

//go:noescape
func packBF16(dst *uint32, base *float32, offs *int, kp, odd int)
