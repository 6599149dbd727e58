package panel

import "math"

// FromFloat32 returns the binary16 nearest to f (ties to even); values
// beyond the largest half (65504) become ±Inf, NaN stays NaN.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23)&0xff - 127
	man := b & 0x7fffff
	switch {
	case exp == 128: // Inf or NaN
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp > 15: // overflow
		return sign | 0x7c00
	case exp >= -14: // normal half
		h := uint32(exp+15)<<10 | man>>13
		rest := man & 0x1fff
		if rest > 0x1000 || (rest == 0x1000 && h&1 == 1) {
			h++ // may carry into the exponent, up to Inf: still the nearest
		}
		return sign | uint16(h)
	case exp >= -25: // subnormal half, or rounds up to the smallest one
		m := man | 0x800000
		shift := uint(-14-exp) + 13
		h := m >> shift
		rest := m & (1<<shift - 1)
		tie := uint32(1) << (shift - 1)
		if rest > tie || (rest == tie && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	return sign // underflow to ±0
}

// ToFloat32 returns the float32 equal to the binary16 h.
func ToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
	}
	f := float32(man) * (1.0 / (1 << 24)) // subnormal (or zero): man·2⁻²⁴
	if sign != 0 {
		f = -f
	}
	return f
}
