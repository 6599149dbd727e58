//go:build amd64 && !purego

package isa

import (
	"runtime"
	"strings"

	"golang.org/x/sys/cpu"
)

var supported = func() []Path {
	ps := []Path{Generic}
	x := cpu.X86
	if x.HasAVX2 && x.HasFMA && hasF16C() {
		ps = append(ps, AVX2)
		if x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ {
			ps = append(ps, AVX512)
		}
	}
	return ps
}()

// HasVNNI reports whether the avx512 path may use AVX512-VNNI.
func HasVNNI() bool { return cpu.X86.HasAVX512VNNI && cpu.X86.HasAVX512BW }

// HasBF16 reports whether the avx512 path may use AVX512_BF16.
func HasBF16() bool { return cpu.X86.HasAVX512BF16 && cpu.X86.HasAVX512F }

// cpuid executes the CPUID instruction (isa_amd64.s).
func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// hasF16C reports CPUID.1:ECX.F16C[bit 29] (x/sys/cpu does not export it).
func hasF16C() bool {
	_, _, c, _ := cpuid(1, 0)
	return c&(1<<29) != 0 && cpu.X86.HasAVX
}

// L2Bytes returns the per-core L2 cache size reported by CPUID leaf
// 0x80000006 (AMD and Intel both fill ECX[31:16] with it, in KiB), or a
// conservative 1 MiB if the leaf is missing or implausible; the kernels'
// cache blocking follows it.
func L2Bytes() int {
	const fallback = 1 << 20
	if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt < 0x80000006 {
		return fallback
	}
	_, _, c, _ := cpuid(0x80000006, 0)
	kb := int(c >> 16)
	if kb < 256 || kb > 16<<10 {
		return fallback
	}
	return kb << 10
}

func cpuName() string {
	if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt >= 0x80000004 {
		var b []byte
		for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
			a, bb, c, d := cpuid(leaf, 0)
			for _, r := range []uint32{a, bb, c, d} {
				b = append(b, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
			}
		}
		if s := strings.Join(strings.Fields(strings.TrimRight(string(b), "\x00")), " "); s != "" {
			return s
		}
	}
	return runtime.GOARCH
}
