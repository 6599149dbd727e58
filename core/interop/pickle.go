package interop

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Argument kinds of the pickle opcodes (Python's pickletools).
const (
	argNone   = iota
	argFixed  // n bytes
	argLine   // up to a newline
	argLines2 // two lines (module and name)
	argLen1   // a 1-byte length, then that many bytes
	argLen4   // a 4-byte length
	argLen8   // an 8-byte length
	argFrame  // an 8-byte frame length (protocol 4)
)

type pickleOp struct {
	kind int
	n    int  // argFixed: bytes
	long bool // an integer whose decoding is quadratic in its length
}

// pickleOps is every opcode of pickle protocols 0 to 5.
var pickleOps = func() [256]*pickleOp {
	var ops [256]*pickleOp
	set := func(codes string, op pickleOp) {
		for i := range len(codes) {
			o := op
			ops[codes[i]] = &o
		}
	}
	set("(.0123NRabd}el]ost)u\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98Q", pickleOp{kind: argNone})
	set("Khq\x80\x82", pickleOp{kind: argFixed, n: 1})
	set("M\x83", pickleOp{kind: argFixed, n: 2})
	set("Jjr\x84", pickleOp{kind: argFixed, n: 4})
	set("G", pickleOp{kind: argFixed, n: 8})
	set("FSVPgp", pickleOp{kind: argLine})
	set("IL", pickleOp{kind: argLine, long: true})
	set("ci", pickleOp{kind: argLines2})
	set("UC\x8c", pickleOp{kind: argLen1})
	set("\x8a", pickleOp{kind: argLen1, long: true})
	set("TBX", pickleOp{kind: argLen4})
	set("\x8b", pickleOp{kind: argLen4, long: true})
	set("\x8d\x8e\x96", pickleOp{kind: argLen8})
	set("\x95", pickleOp{kind: argFrame})
	return ops
}()

const errPickleCut = damage("its table of contents is cut short")

// scanPickle walks the opcodes of a pickle up to its STOP without running
// them, and returns it without its FRAME opcodes (which only group other
// opcodes for buffering). It refuses an unknown opcode, an argument that
// runs past the end, a length that is negative, and an integer longer than
// maxLongBytes. So the unpickler never allocates more than the pickle
// holds, and every opcode it runs is read through one reader.
func scanPickle(data []byte) ([]byte, error) {
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); {
		code := data[i]
		op := pickleOps[code]
		if op == nil {
			return nil, damage(fmt.Sprintf("its table of contents is unreadable (byte %d)", i))
		}
		start := i
		i++
		var argLen int
		switch op.kind {
		case argFixed:
			argLen = op.n
		case argLine:
			argLen = bytes.IndexByte(data[i:], '\n') + 1
			if argLen == 0 {
				return nil, errPickleCut
			}
		case argLines2:
			a := bytes.IndexByte(data[i:], '\n') + 1
			if a == 0 {
				return nil, errPickleCut
			}
			b := bytes.IndexByte(data[i+a:], '\n') + 1
			if b == 0 {
				return nil, errPickleCut
			}
			argLen = a + b
		case argLen1, argLen4, argLen8, argFrame:
			w := 8
			switch op.kind {
			case argLen1:
				w = 1
			case argLen4:
				w = 4
			}
			if len(data)-i < w {
				return nil, errPickleCut
			}
			var n uint64
			switch w {
			case 1:
				n = uint64(data[i])
			case 4:
				n = uint64(binary.LittleEndian.Uint32(data[i:]))
				if code == 'T' || code == 0x8b { // signed lengths
					n = uint64(int64(int32(n)))
				}
			case 8:
				n = binary.LittleEndian.Uint64(data[i:])
			}
			if n > uint64(len(data)-i-w) {
				return nil, errPickleCut
			}
			if op.kind == argFrame {
				i += w // drop the FRAME and its length; the frame's opcodes follow
				continue
			}
			if op.long && n == 0 {
				return nil, damage("its table of contents is unreadable (an empty integer)")
			}
			argLen = w + int(n)
		}
		if len(data)-i < argLen {
			return nil, errPickleCut
		}
		if op.long && argLen > maxLongBytes {
			return nil, damage(fmt.Sprintf("its table of contents is unreadable (an integer of %d bytes)", argLen))
		}
		i += argLen
		out = append(out, data[start:i]...)
		if code == '.' {
			return out, nil
		}
	}
	return nil, errPickleCut
}
