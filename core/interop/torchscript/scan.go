package torchscript

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// argKind is how a pickle opcode's argument is laid out.
type argKind int

const (
	argNone    argKind = iota
	argFixed           // fixed number of bytes (n)
	argLen1            // 1-byte length, then that many bytes
	argLen4            // 4-byte little-endian length, then that many bytes
	argLen8            // 8-byte little-endian length, then that many bytes
	argLine            // one newline-terminated line
	argTwoLine         // two newline-terminated lines
)

type opcodeArg struct {
	kind argKind
	n    int
}

// opcodes lists every opcode of pickle protocols 0 to 5 with the layout of
// its argument (Python's Lib/pickletools.py).
var opcodes = func() [256]*opcodeArg {
	var t [256]*opcodeArg
	set := func(kind argKind, n int, ops ...byte) {
		for _, op := range ops {
			t[op] = &opcodeArg{kind: kind, n: n}
		}
	}
	set(argNone, 0, '(', '.', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
		0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98)
	set(argFixed, 1, 'K', 'q', 'h', 0x80, 0x82)
	set(argFixed, 2, 'M', 0x83)
	set(argFixed, 4, 'J', 'r', 'j', 0x84)
	set(argFixed, 8, 'G', 0x95)
	set(argLen1, 0, 'U', 'C', 0x8c, 0x8a)
	set(argLen4, 0, 'T', 'X', 'B', 0x8b)
	set(argLen8, 0, 0x8d, 0x8e, 0x96)
	set(argLine, 0, 'I', 'L', 'F', 'S', 'V', 'P', 'g', 'p')
	set(argTwoLine, 0, 'c', 'i')
	return t
}()

// scanPickle walks the opcodes of a pickle up to its STOP and checks that
// every argument, and every length-prefixed string or bytes, lies within
// p. gopickle allocates a length it reads before reading the data, so an
// unchecked length of a few bytes could allocate gigabytes.
func scanPickle(p []byte) error {
	i := 0
	for i < len(p) {
		op := p[i]
		a := opcodes[op]
		if a == nil {
			return fmt.Errorf("unknown pickle opcode 0x%02x at byte %d", op, i)
		}
		at := i
		i++
		rest := len(p) - i
		switch a.kind {
		case argFixed:
			if rest < a.n {
				return fmt.Errorf("pickle cut short at byte %d", at)
			}
			if op == 0x95 && binary.LittleEndian.Uint64(p[i:]) > uint64(rest-8) {
				return fmt.Errorf("pickle frame at byte %d is longer than the data", at)
			}
			i += a.n
		case argLen1:
			if rest < 1 || int(p[i]) > rest-1 {
				return fmt.Errorf("pickle string at byte %d is longer than the data", at)
			}
			i += 1 + int(p[i])
		case argLen4:
			if rest < 4 {
				return fmt.Errorf("pickle cut short at byte %d", at)
			}
			n := int64(int32(binary.LittleEndian.Uint32(p[i:])))
			if op != 0x8b { // LONG4 is signed; the others are unsigned
				n = int64(binary.LittleEndian.Uint32(p[i:]))
			}
			if n < 0 || n > int64(rest-4) {
				return fmt.Errorf("pickle string at byte %d is longer than the data", at)
			}
			i += 4 + int(n)
		case argLen8:
			if rest < 8 {
				return fmt.Errorf("pickle cut short at byte %d", at)
			}
			n := binary.LittleEndian.Uint64(p[i:])
			if n > uint64(rest-8) {
				return fmt.Errorf("pickle string at byte %d is longer than the data", at)
			}
			i += 8 + int(n)
		case argLine, argTwoLine:
			lines := 1
			if a.kind == argTwoLine {
				lines = 2
			}
			for range lines {
				nl := bytes.IndexByte(p[i:], '\n')
				if nl < 0 {
					return fmt.Errorf("pickle line at byte %d is not terminated", at)
				}
				i += nl + 1
			}
		}
		if op == '.' {
			return nil
		}
	}
	return fmt.Errorf("pickle has no STOP opcode")
}
