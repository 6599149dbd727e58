//go:build amd64 && !purego

package sgemm

// useBF16Asm selects the AVX512_BF16 kernels (a variable for tests); it
// follows the isa path (setArchPath).
var useBF16Asm = false

//go:noescape
func bdot12x32(kp int, a, b *uint32, c *float32, ldc int, acc int)

//go:noescape
func packBF16(dst *uint32, base *float32, offs *int, kp, odd int)
