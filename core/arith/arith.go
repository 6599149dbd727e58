// Package arith is a 32-bit integer arithmetic coder (Witten, Neal & Cleary
// 1987, "Arithmetic coding for data compression", CACM 30(6), with the
// usual E1/E2/E3 renormalisation and pending underflow bits).
//
// Symbols are coded against cumulative frequency tables: a table for n
// symbols is a slice cum of n+1 non-decreasing integers with cum[0] = 0;
// symbol s has frequency cum[s+1] − cum[s] and the total is cum[n], at most
// [MaxTotal]. [Frequencies] turns a probability vector into such a table,
// giving every symbol a frequency of at least 1 so that nothing the model
// deems impossible becomes uncodable.
//
// The encoder and the decoder must see exactly the same sequence of
// tables. Malformed tables and symbols of zero frequency are programmer
// errors and panic; a corrupt or truncated stream makes [Decoder.Decode]
// return [ErrCorrupt] (or decode garbage symbols) but never panic.
package arith

import (
	"errors"
	"fmt"
	"math"
)

const (
	precision = 32
	whole     = uint64(1) << precision
	half      = whole / 2
	quarter   = whole / 4
	// MaxTotal is the largest table total: with the range kept above a
	// quarter of 2^32 after renormalisation, every symbol of frequency ≥ 1
	// keeps a non-empty sub-range.
	MaxTotal = uint32(quarter)
)

// ErrCorrupt is returned by Decode when the stream cannot have been made by
// the encoder with the same tables.
var ErrCorrupt = errors.New("arith: corrupt stream")

// checkTable panics on a malformed cumulative frequency table.
func checkTable(cum []uint32) {
	if len(cum) < 2 || cum[0] != 0 {
		panic(fmt.Sprintf("arith: table of %d entries must start at 0 and describe at least one symbol", len(cum)))
	}
	total := cum[len(cum)-1]
	if total == 0 || total > MaxTotal {
		panic(fmt.Sprintf("arith: table total %d outside [1, %d]", total, MaxTotal))
	}
}

// Encoder writes symbols to a bit stream. The zero value is not usable;
// call [NewEncoder].
type Encoder struct {
	low, high uint64
	pending   int
	buf       []byte
	cur       byte
	nbits     int // bits written so far
}

// NewEncoder returns an encoder with an empty stream.
func NewEncoder() *Encoder { return &Encoder{high: whole - 1} }

func (e *Encoder) bit(b uint64) {
	e.cur = e.cur<<1 | byte(b)
	e.nbits++
	if e.nbits%8 == 0 {
		e.buf = append(e.buf, e.cur)
		e.cur = 0
	}
}

func (e *Encoder) bitPlusPending(b uint64) {
	e.bit(b)
	for ; e.pending > 0; e.pending-- {
		e.bit(1 - b)
	}
}

// Encode codes symbol s with the cumulative frequency table cum. It panics
// if the table is malformed or s has frequency zero.
func (e *Encoder) Encode(cum []uint32, s int) {
	checkTable(cum)
	if s < 0 || s >= len(cum)-1 || cum[s+1] <= cum[s] {
		panic(fmt.Sprintf("arith: symbol %d has no frequency in a table of %d symbols", s, len(cum)-1))
	}
	total := uint64(cum[len(cum)-1])
	rng := e.high - e.low + 1
	e.high = e.low + rng*uint64(cum[s+1])/total - 1
	e.low += rng * uint64(cum[s]) / total
	for {
		switch {
		case e.high < half:
			e.bitPlusPending(0)
		case e.low >= half:
			e.bitPlusPending(1)
			e.low -= half
			e.high -= half
		case e.low >= quarter && e.high < 3*quarter:
			e.pending++
			e.low -= quarter
			e.high -= quarter
		default:
			return
		}
		e.low <<= 1
		e.high = e.high<<1 | 1
	}
}

// Bits returns the number of bits written so far, not counting the two or
// so that Finish adds.
func (e *Encoder) Bits() int { return e.nbits + e.pending }

// Finish flushes the final bits and returns the stream, padded with zero
// bits to whole bytes. The encoder must not be used afterwards.
func (e *Encoder) Finish() []byte {
	e.pending++
	if e.low < quarter {
		e.bitPlusPending(0)
	} else {
		e.bitPlusPending(1)
	}
	if r := e.nbits % 8; r != 0 {
		e.buf = append(e.buf, e.cur<<(8-r))
	}
	return e.buf
}

// Decoder reads symbols from a stream made by [Encoder]. Reading past the
// end of the data yields zero bits.
type Decoder struct {
	low, high, value uint64
	data             []byte
	pos              int // next bit to read
}

// NewDecoder returns a decoder over data.
func NewDecoder(data []byte) *Decoder {
	d := &Decoder{high: whole - 1, data: data}
	for range precision {
		d.value = d.value<<1 | d.next()
	}
	return d
}

func (d *Decoder) next() uint64 {
	i := d.pos >> 3
	d.pos++
	if i >= len(d.data) {
		return 0
	}
	return uint64(d.data[i]>>(7-uint(d.pos-1)&7)) & 1
}

// Decode returns the next symbol coded with table cum. It panics if the
// table is malformed and returns ErrCorrupt if the stream is inconsistent.
func (d *Decoder) Decode(cum []uint32) (int, error) {
	checkTable(cum)
	n := len(cum) - 1
	total := uint64(cum[n])
	rng := d.high - d.low + 1
	if d.value < d.low || d.value > d.high {
		return 0, ErrCorrupt
	}
	count := ((d.value-d.low+1)*total - 1) / rng
	if count >= total {
		return 0, ErrCorrupt
	}
	// First s with cum[s+1] > count; symbols of zero frequency are skipped.
	lo, hi := 0, n-1
	for lo < hi {
		mid := (lo + hi) / 2
		if uint64(cum[mid+1]) > count {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	s := lo
	if uint64(cum[s]) > count || uint64(cum[s+1]) <= count {
		return 0, ErrCorrupt // non-monotone table
	}
	d.high = d.low + rng*uint64(cum[s+1])/total - 1
	d.low += rng * uint64(cum[s]) / total
	for {
		switch {
		case d.high < half:
		case d.low >= half:
			d.value -= half
			d.low -= half
			d.high -= half
		case d.low >= quarter && d.high < 3*quarter:
			d.value -= quarter
			d.low -= quarter
			d.high -= quarter
		default:
			return s, nil
		}
		d.low <<= 1
		d.high = d.high<<1 | 1
		d.value = (d.value<<1 | d.next()) & (whole - 1)
	}
}

// Frequencies returns the cumulative frequency table (len(p)+1 entries,
// summing to total) of the probability vector p. Each symbol gets
// 1 + ⌊p_i/Σp · (total − n)⌋ and the rounding remainder goes to the most
// probable symbol, so every symbol is codable and the result depends only
// on p. Negative, NaN and infinite entries count as zero; if none is
// positive the table is uniform. It panics if total < len(p) or total >
// MaxTotal.
func Frequencies(p []float64, total uint32) []uint32 {
	n := len(p)
	if n == 0 || uint64(total) < uint64(n) || total > MaxTotal {
		panic(fmt.Sprintf("arith: Frequencies: total %d for %d symbols (max %d)", total, n, MaxTotal))
	}
	var sum, top float64
	best := 0
	for i, v := range p {
		if v > 0 && !math.IsInf(v, 1) {
			sum += v
			if v > top {
				top, best = v, i
			}
		}
	}
	// The tiny shrink keeps Σ⌊·⌋ ≤ spare despite floating-point rounding.
	spare := (float64(total) - float64(n)) * (1 - 1e-12)
	cum := make([]uint32, n+1)
	var used uint32
	freq := make([]uint32, n)
	for i, v := range p {
		f := uint32(1)
		if sum > 0 && v > 0 && !math.IsInf(v, 1) {
			f += uint32(math.Floor(v / sum * spare))
		}
		freq[i] = f
		used += f
	}
	freq[best] += total - used
	for i, f := range freq {
		cum[i+1] = cum[i] + f
	}
	return cum
}
