package stream

import "fmt"

// stateSlot is one of a streamer's caches under the name the reference's
// cached_conv gives it: a convolution's (NAME.cache.pad, cached samples,
// then NAME.downsampling_delay.pad; poly for the analysis PQMF, whose
// cache is raw audio and ours its polyphase form), a transposed
// convolution's overlap (NAME.cache) or a residual identity path's delay
// (NAME, an AlignBranches padding).
type stateSlot struct {
	name   string
	conv   *sconv
	cached int // the convolution's padding: samples of NAME.cache.pad
	poly   bool
	convT  *sconvT
	delay  *sdelay
}

// LoadState resets the stream and then sets its caches to the state a
// reference streaming export saved (v2.3.1's export.py --streaming, whose
// cached_conv buffers keep what its last call left), so that the next
// buffers continue that export's stream. state returns batch row 0 of the
// buffer of a name — a convolution's NAME.cache.pad and
// NAME.downsampling_delay.pad (e.g. "encoder.encoder.net.5.cache.pad"), a
// transposed convolution's NAME.cache, a residual unit's
// NAME.aligned.paddings.1.pad — as (channels × length) values, or nil
// where the export has none (allowed for an empty buffer). It needs
// Options.ReferenceAlignment: other alignments keep other caches. A
// buffer of the wrong size is refused by name.
func (s *V2) LoadState(state func(name string) []float32) error {
	if !s.opts.ReferenceAlignment {
		return fmt.Errorf("stream: LoadState needs ReferenceAlignment (a reference export's caches)")
	}
	s.Reset()
	get := func(name string, n int) ([]float32, error) {
		v := state(name)
		if len(v) != n && !(v == nil && n == 0) {
			if v == nil {
				return nil, fmt.Errorf("stream: state: no %s (%d values)", name, n)
			}
			return nil, fmt.Errorf("stream: state: %s has %d values, the stream keeps %d", name, len(v), n)
		}
		return v, nil
	}
	for _, sl := range s.slots {
		var err error
		switch {
		case sl.conv != nil:
			err = sl.loadConv(get)
		case sl.convT != nil:
			var v []float32
			if v, err = get(sl.name+".cache", len(sl.convT.ov)); err == nil {
				copy(sl.convT.ov, v)
			}
		case sl.delay != nil:
			d := sl.delay
			var v []float32
			if v, err = get(sl.name, d.c*d.d); err == nil {
				for ch := range d.c {
					copy(d.buf[ch*d.ld:ch*d.ld+d.d], v[ch*d.d:(ch+1)*d.d])
				}
			}
		}
		if err != nil {
			s.Reset()
			return err
		}
	}
	return nil
}

// loadConv sets a convolution's cached input from the reference's
// NAME.cache.pad and NAME.downsampling_delay.pad (the latter the newer
// samples).
func (sl stateSlot) loadConv(get func(string, int) ([]float32, error)) error {
	c := sl.conv
	ch := c.cin // channels of the reference's buffers
	if sl.poly {
		ch = 1 // raw audio
	}
	per := c.hist * c.cin / ch // cached samples per reference channel
	cache, err := get(sl.name+".cache.pad", ch*sl.cached)
	if err != nil {
		return err
	}
	dd, err := get(sl.name+".downsampling_delay.pad", ch*(per-sl.cached))
	if err != nil {
		return err
	}
	hist := make([]float32, per)
	for r := range ch {
		copy(hist, cache[r*sl.cached:(r+1)*sl.cached])
		copy(hist[sl.cached:], dd[r*(per-sl.cached):(r+1)*(per-sl.cached)])
		if !sl.poly {
			c.setHistory(r, hist)
			continue
		}
		// phase p's sample m is the raw history's M·m + p
		M := c.cin
		ph := make([]float32, c.hist)
		for p := range M {
			for m := range ph {
				ph[m] = hist[M*m+p]
			}
			c.setHistory(p, ph)
		}
	}
	return nil
}
