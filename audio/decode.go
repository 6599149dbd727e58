package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format identifies a container/codec recognised by its magic bytes.
type Format int

// Formats recognised by Sniff.
const (
	FormatUnknown   Format = iota
	FormatWAV              // RIFF/WAVE or RF64/WAVE
	FormatFLAC             // native FLAC ("fLaC"), optionally behind an ID3v2 tag
	FormatMP3              // MPEG-1/2/2.5 layer III, optionally behind an ID3v2 tag
	FormatOggVorbis        // Ogg container whose first stream is Vorbis
	FormatAIFF             // AIFF or uncompressed AIFF-C
)

// String returns the format's short lower-case name.
func (f Format) String() string {
	switch f {
	case FormatWAV:
		return "wav"
	case FormatFLAC:
		return "flac"
	case FormatMP3:
		return "mp3"
	case FormatOggVorbis:
		return "ogg vorbis"
	case FormatAIFF:
		return "aiff"
	}
	return "unknown"
}

// sniffLen is how many leading bytes Sniff needs at most (beyond an ID3v2 tag).
const sniffLen = 64

// Sniff identifies the format of r from its leading bytes and seeks r back to
// where it started. It returns FormatUnknown with a nil error for content it
// does not recognise, and an ErrUnsupportedFormat error for recognised but
// unsupported content (for example Ogg Opus or big-endian RIFX).
func Sniff(r io.ReadSeeker) (Format, error) {
	f, _, err := sniff(r)
	return f, err
}

// sniff is Sniff that also returns the size of a leading ID3v2 tag, which the
// decoder should skip.
func sniff(r io.ReadSeeker) (f Format, skip int64, err error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return FormatUnknown, 0, err
	}
	defer func() {
		if _, serr := r.Seek(start, io.SeekStart); serr != nil && err == nil {
			err = serr
		}
	}()
	head, err := readHead(r, sniffLen)
	if err != nil {
		return FormatUnknown, 0, err
	}
	// An ID3v2 tag may precede MP3 (common) and FLAC (tolerated by decoders).
	size, ok := id3v2Size(head)
	if !ok {
		f, err = sniffHead(head)
		return f, 0, err
	}
	if _, err := r.Seek(start+size, io.SeekStart); err != nil {
		return FormatUnknown, 0, err
	}
	if head, err = readHead(r, sniffLen); err != nil {
		return FormatUnknown, 0, err
	}
	switch {
	case bytes.HasPrefix(head, []byte("fLaC")):
		return FormatFLAC, size, nil
	case len(head) == 0 || mp3Sync(head):
		return FormatMP3, size, nil // nothing after the tag decodes to ErrEmpty
	}
	return FormatUnknown, 0, nil
}

// readHead reads up to n bytes; a short stream is not an error.
func readHead(r io.Reader, n int) ([]byte, error) {
	head := make([]byte, n)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:n], nil
}

// sniffHead classifies a header that does not start with an ID3v2 tag.
func sniffHead(head []byte) (Format, error) {
	switch {
	case len(head) >= 12 && (bytes.HasPrefix(head, []byte("RIFF")) || bytes.HasPrefix(head, []byte("RF64"))) &&
		string(head[8:12]) == "WAVE":
		return FormatWAV, nil
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("RIFX")) && string(head[8:12]) == "WAVE":
		return FormatUnknown, fmt.Errorf("%w: big-endian wav (RIFX)", ErrUnsupportedFormat)
	case bytes.HasPrefix(head, []byte("fLaC")):
		return FormatFLAC, nil
	case bytes.HasPrefix(head, []byte("OggS")):
		return sniffOgg(head)
	case len(head) >= 12 && bytes.HasPrefix(head, []byte("FORM")) &&
		(string(head[8:12]) == "AIFF" || string(head[8:12]) == "AIFC"):
		return FormatAIFF, nil
	case mp3Sync(head):
		return FormatMP3, nil
	}
	return FormatUnknown, nil
}

// sniffOgg looks at the first packet of the first Ogg page to name the codec.
func sniffOgg(head []byte) (Format, error) {
	// Page header: 27 bytes, then nsegs lacing values, then the packet.
	if len(head) < 27 {
		return FormatOggVorbis, nil // let the decoder report the truncation
	}
	body := int(27) + int(head[26])
	if body+8 > len(head) {
		return FormatOggVorbis, nil
	}
	p := head[body:]
	switch {
	case bytes.HasPrefix(p, []byte("\x01vorbis")):
		return FormatOggVorbis, nil
	case bytes.HasPrefix(p, []byte("OpusHead")):
		return FormatUnknown, fmt.Errorf("%w: ogg opus", ErrUnsupportedFormat)
	case bytes.HasPrefix(p, []byte("\x7fFLAC")):
		return FormatUnknown, fmt.Errorf("%w: ogg flac", ErrUnsupportedFormat)
	case bytes.HasPrefix(p, []byte("Speex")):
		return FormatUnknown, fmt.Errorf("%w: ogg speex", ErrUnsupportedFormat)
	}
	return FormatUnknown, fmt.Errorf("%w: ogg stream with unknown codec", ErrUnsupportedFormat)
}

// id3v2Size returns the total size of a leading ID3v2 tag (header, body and
// optional footer).
func id3v2Size(b []byte) (int64, bool) {
	if len(b) < 10 || !bytes.HasPrefix(b, []byte("ID3")) || b[3] == 0xff || b[4] == 0xff {
		return 0, false
	}
	for _, c := range b[6:10] {
		if c&0x80 != 0 {
			return 0, false
		}
	}
	size := int64(b[6])<<21 | int64(b[7])<<14 | int64(b[8])<<7 | int64(b[9])
	size += 10
	if b[5]&0x10 != 0 { // footer present
		size += 10
	}
	return size, true
}

// mp3Sync reports whether b starts with a plausible MPEG audio layer III frame
// header: 11 sync bits, a valid version, layer III, a bitrate index other
// than "bad" and a valid sample rate index. ADTS AAC (layer bits 00) is not
// matched.
func mp3Sync(b []byte) bool {
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return false
	}
	version := (b[1] >> 3) & 3
	layer := (b[1] >> 1) & 3
	bitrate := b[2] >> 4
	rate := (b[2] >> 2) & 3
	return version != 1 && layer == 1 && bitrate != 15 && rate != 3
}

// Decode reads and decodes the audio file at path. The format is chosen from
// the file's content, not its extension. Errors name the file and wrap one of
// ErrUnsupportedFormat, ErrCorrupt, ErrTruncated, ErrEmpty or ErrTooLarge
// (or an *fs.PathError from opening the file).
func Decode(path string) (*Buffer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: decode %s: %w", path, err)
	}
	defer f.Close()
	return DecodeReader(f, path)
}

// DecodeReader decodes audio from r, using name (typically the file path) in
// error messages and as a hint when the content is not recognised. Decoding
// starts at r's current offset. Panics inside third-party decoders are
// recovered and reported as ErrCorrupt.
func DecodeReader(r io.ReadSeeker, name string) (*Buffer, error) {
	b, _, err := decodeReader(r, name)
	if err != nil {
		return nil, fmt.Errorf("audio: decode %s: %w", name, err)
	}
	return b, nil
}

// decodeReader is DecodeReader without the outer error context; it also
// returns the detected format.
func decodeReader(r io.ReadSeeker, name string) (b *Buffer, format Format, err error) {
	format, skip, err := sniff(r)
	if err != nil {
		return nil, format, err
	}
	start, err := r.Seek(skip, io.SeekCurrent)
	if err != nil {
		return nil, format, err
	}
	// Decoders see a stream that starts at the audio data: offset 0 is start.
	sr := &offsetReader{r: r, base: start}
	switch format {
	case FormatWAV:
		b, err = guard(format, func() (*Buffer, error) { return decodeWAV(sr) })
	case FormatAIFF:
		b, err = guard(format, func() (*Buffer, error) { return decodeAIFF(sr) })
	case FormatFLAC:
		b, err = guard(format, func() (*Buffer, error) { return decodeFLAC(sr) })
	case FormatMP3:
		b, err = guard(format, func() (*Buffer, error) { return decodeMP3(sr) })
	case FormatOggVorbis:
		b, err = guard(format, func() (*Buffer, error) { return decodeOgg(sr) })
	default:
		return nil, format, unknownContent(r, name)
	}
	if err != nil {
		return nil, format, fmt.Errorf("%s: %w", format, err)
	}
	if b.Frames() == 0 {
		return nil, format, fmt.Errorf("%s: %w", format, ErrEmpty)
	}
	return b, format, nil
}

// unknownContent builds the error for content Sniff does not recognise,
// mentioning the extension and whether the data looks like text.
func unknownContent(r io.ReadSeeker, name string) error {
	head := make([]byte, 512)
	n, _ := io.ReadFull(r, head)
	head = head[:n]
	what := "unrecognised content"
	switch {
	case n == 0:
		return fmt.Errorf("%w: file is empty (0 bytes)", ErrEmpty)
	case looksLikeText(head):
		what = "content looks like text, not audio"
	}
	if ext := strings.ToLower(filepath.Ext(name)); ext != "" {
		return fmt.Errorf("%w: %s despite the %s extension", ErrUnsupportedFormat, what, ext)
	}
	return fmt.Errorf("%w: %s", ErrUnsupportedFormat, what)
}

// looksLikeText reports whether b is mostly printable ASCII or UTF-8.
func looksLikeText(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	bad := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			bad++
		}
	}
	return bad*20 < len(b)
}

// guard runs a decoder and converts a panic into ErrCorrupt, so that garbage
// input never crashes the program. Third-party decoders are known to panic on
// some corrupt input; our own parsers are fuzzed unguarded (see fuzz_test.go)
// and guarded here only as defence in depth.
func guard(f Format, decode func() (*Buffer, error)) (b *Buffer, err error) {
	defer func() {
		if p := recover(); p != nil {
			b = nil
			err = fmt.Errorf("%w: %s decoder panicked: %v", ErrCorrupt, f, p)
		}
	}()
	return decode()
}

// guardErr is guard for a step that returns only an error.
func guardErr(f Format, step func() error) error {
	_, err := guard(f, func() (*Buffer, error) { return nil, step() })
	return err
}

// streamSize returns the number of bytes from r's current offset to its end,
// leaving the offset unchanged.
func streamSize(r io.Seeker) (int64, error) {
	cur, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := r.Seek(cur, io.SeekStart); err != nil {
		return 0, err
	}
	return end - cur, nil
}

// offsetReader presents r from offset base onwards as a stream starting at 0.
type offsetReader struct {
	r    io.ReadSeeker
	base int64
}

func (o *offsetReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func (o *offsetReader) Seek(offset int64, whence int) (int64, error) {
	if whence == io.SeekStart {
		offset += o.base
	}
	pos, err := o.r.Seek(offset, whence)
	return pos - o.base, err
}
