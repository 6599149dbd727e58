//go:build amd64 && !purego

package model

import "github.com/ravestation/rave/core/internal/isa"

// useWinoAsm selects the AVX-512 Winograd transforms (a variable for
// tests); it follows the isa path.
var useWinoAsm bool

func init() { isa.Register(func(p isa.Path) { useWinoAsm = p == isa.AVX512 }) }

//go:noescape
func winoIn16(row, v0, v1, v2, v3, v4, v5 *float32, chunks int)

//go:noescape
func winoOut16(m0, m1, m2, m3, m4, m5, y *float32, bias float32, acc, chunks int)
