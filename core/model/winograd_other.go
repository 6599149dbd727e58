//go:build !amd64 || purego

package model

// useWinoAsm is false: no assembly transforms in this build.
var useWinoAsm = false

func winoIn16(row, v0, v1, v2, v3, v4, v5 *float32, chunks int) {
	panic("model: winoIn16 without assembly")
}

func winoOut16(m0, m1, m2, m3, m4, m5, y *float32, bias float32, acc, chunks int) {
	panic("model: winoOut16 without assembly")
}
