package audio

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// WAVWriter writes a WAV file whose samples arrive block by block, so that
// a long render never holds its output: Write appends frames, Close
// patches the lengths into the header and renames the file into place.
// Like WriteWAV it writes to a temporary file in the same folder and
// renames it over the path only once complete (Abort, or an error, removes
// it), and the bytes are those WriteWAV writes for the same samples.
type WAVWriter struct {
	path   string
	tmp    *os.File
	bw     *bufio.Writer
	ch     int
	rate   int
	format SampleFormat
	frames int64
	buf    []byte
	done   bool
}

// CreateWAV starts a WAV file of the given shape at path (see WAVWriter).
func CreateWAV(path string, channels, rate int, format SampleFormat) (*WAVWriter, error) {
	h, err := wavHeader(channels, rate, format, 0)
	if err != nil {
		return nil, fmt.Errorf("audio: write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("audio: write %s: %w", path, err)
	}
	w := &WAVWriter{path: path, tmp: tmp, bw: bufio.NewWriterSize(tmp, 256<<10), ch: channels, rate: rate, format: format}
	if _, err := w.bw.Write(h); err != nil {
		w.Abort()
		return nil, fmt.Errorf("audio: write %s: %w", path, err)
	}
	return w, nil
}

// Write appends frames (planar: one slice per channel, equal lengths). It
// fails, leaving the file unfinished, once the samples would exceed the
// 4 GiB a WAV file can hold.
func (w *WAVWriter) Write(channels [][]float32) error {
	if w.done {
		panic("audio: WAVWriter.Write after Close or Abort")
	}
	if len(channels) != w.ch {
		panic(fmt.Sprintf("audio: WAVWriter.Write: %d channels, the file has %d", len(channels), w.ch))
	}
	n := len(channels[0])
	for c, x := range channels {
		if len(x) != n {
			panic(fmt.Sprintf("audio: WAVWriter.Write: channel %d has %d frames, channel 0 has %d", c, len(x), n))
		}
	}
	if _, err := wavHeader(w.ch, w.rate, w.format, w.frames+int64(n)); err != nil {
		return fmt.Errorf("audio: write %s: %w", w.path, err)
	}
	blockAlign := w.ch * w.format.bytes()
	const block = 4096
	if len(w.buf) < block*blockAlign {
		w.buf = make([]byte, block*blockAlign)
	}
	for start := 0; start < n; start += block {
		m := min(block, n-start)
		p := w.buf[:m*blockAlign]
		interleave(p, channels, start, m, w.format)
		if _, err := w.bw.Write(p); err != nil {
			return fmt.Errorf("audio: write %s: %w", w.path, err)
		}
	}
	w.frames += int64(n)
	return nil
}

// Frames returns the number of frames written so far.
func (w *WAVWriter) Frames() int64 { return w.frames }

// Close finishes the file: it pads the data chunk to an even size, writes
// the final lengths into the header, syncs the file and renames it over
// the path. A failed Close removes the temporary file. Closing twice does
// nothing.
func (w *WAVWriter) Close() error {
	if w.tmp == nil {
		return nil
	}
	if err := w.finish(); err != nil {
		w.Abort()
		return fmt.Errorf("audio: write %s: %w", w.path, err)
	}
	tmp := w.tmp
	w.tmp, w.done = nil, true
	if err := commitTemp(tmp, w.path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("audio: write %s: %w", w.path, err)
	}
	return nil
}

// finish pads the data, flushes and patches the header.
func (w *WAVWriter) finish() error {
	h, err := wavHeader(w.ch, w.rate, w.format, w.frames)
	if err != nil {
		return err
	}
	if (w.frames*int64(w.ch*w.format.bytes()))&1 != 0 {
		if err := w.bw.WriteByte(0); err != nil {
			return err
		}
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	_, err = w.tmp.WriteAt(h, 0)
	return err
}

// Abort abandons the file: the temporary file is closed and removed and
// nothing is written at the path. After Close it does nothing.
func (w *WAVWriter) Abort() {
	if w.tmp != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
	}
	w.tmp, w.done = nil, true
}
