//go:build !amd64 || purego

package sgemm

// useBF16Asm is false: there are no BF16 assembly kernels in this build.
var useBF16Asm = false

func bdot12x32(kp int, a, b *uint32, c *float32, ldc int, acc int) {
	panic("sgemm: bdot12x32 without assembly")
}

func packBF16(dst *uint32, base *float32, offs *int, kp, odd int) {
	panic("sgemm: packBF16 without assembly")
}
