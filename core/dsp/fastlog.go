package dsp

import "math"

// logTable holds, for the 256 intervals [1 + i/256, 1 + (i+1)/256) of a
// float32 mantissa, 1/c_i and ln c_i for the centre c_i = 1 + (i + ½)/256.
var logTable = func() (t [256][2]float32) {
	for i := range t {
		c := 1 + (float64(i)+0.5)/256
		t[i] = [2]float32{float32(1 / c), float32(math.Log(c))}
	}
	return t
}()

// log32 returns ln x for a normal, finite float32 x > 0 (no checks), to
// within 3 float32 ulps or 2.5e-7 absolute (below 1, where e·ln 2 and
// ln c_i nearly cancel) of math.Log, and several times
// faster (it inlines):
// with x = m·2^e, m ∈ [1, 2),
//
//	ln x = e·ln 2 + ln c_i + ln(1 + r),  r = m/c_i − 1,  |r| < 1/511,
//
// c_i the centre of m's 1/256-wide interval (logTable) and ln(1 + r) summed
// to r³/3 (truncation < r⁴/4 ≈ 4e-12). Subnormal inputs (below 1.2e-38)
// lose accuracy; the spectral losses add ε ≥ 1e-7 before taking logs.
func log32(x float32) float32 {
	b := math.Float32bits(x)
	t := &logTable[b>>15&0xff]
	r := math.Float32frombits(b&0x7fffff|0x3f800000)*t[0] - 1
	return float32(int32(b>>23)-127)*math.Ln2 + (t[1] + r*(1-r*(0.5-r*(1.0/3))))
}
