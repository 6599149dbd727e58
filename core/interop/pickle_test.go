package interop

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/ravestation/rave/core/internal/fixtures"
)

// TestUnpickleTorchWrittenPickle runs the checked unpickler on the
// data.pkl that PyTorch 1.13 wrote into the fixture TorchScript export
// (the module's attributes, with its tensors as persistent storages), so
// that scanPickle's opcode table is tried on a real torch pickle, and
// reads every storage it refers to.
func TestUnpickleTorchWrittenPickle(t *testing.T) {
	zr, err := zip.OpenReader(fixtures.File(t, fixtures.V1Small, "ts/rave_v1_small.ts"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	ck := &checkpointArchive{records: map[string]*zip.File{}, storages: map[string]*ckptStorage{}}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			ck.pkl = f
		}
		if _, key, ok := strings.Cut(f.Name, "/data/"); ok {
			ck.records[key] = f
		}
	}
	if ck.pkl == nil {
		t.Fatal("no data.pkl in the export")
	}
	obj, err := ck.unpickle()
	if err != nil {
		t.Fatalf("unpickle(data.pkl) = %v", err)
	}
	if obj == nil {
		t.Fatal("unpickle(data.pkl) = nil")
	}
	if len(ck.storages) < 10 {
		t.Fatalf("data.pkl refers to %d storages, want the export's tensors", len(ck.storages))
	}
	for key, s := range ck.storages {
		if err := ck.load(key, s); err != nil {
			t.Errorf("storage %s: %v", key, err)
		}
	}
}

// TestScanPickle checks that scanPickle drops FRAME opcodes and refuses
// what would make the unpickler allocate more than the pickle holds.
func TestScanPickle(t *testing.T) {
	frame := "\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x05."
	got, err := scanPickle([]byte(frame))
	if err != nil || string(got) != "\x80\x04K\x05." {
		t.Fatalf("scanPickle(framed) = %q, %v, want %q", got, err, "\x80\x04K\x05.")
	}
	v, err := runUnpickler(got, nil, time.Second)
	if err != nil || v != 5 {
		t.Errorf("unpickle(framed) = %v, %v, want 5", v, err)
	}
	for _, tt := range []struct{ name, pkl, problem string }{
		{"string longer than the pickle", "\x80\x02X\xff\xff\xff\x7fabc.", "its table of contents is cut short"},
		{"8-byte length", "\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7fabc.", "its table of contents is cut short"},
		{"negative length", "\x80\x02T\xff\xff\xff\xffabc.", "its table of contents is cut short"},
		{"frame longer than the pickle", "\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x05.", "its table of contents is cut short"},
		{"huge integer", "\x80\x02\x8b\x00\x10\x00\x00" + strings.Repeat("\x01", 4096) + ".", "its table of contents is unreadable (an integer of 4100 bytes)"},
		{"empty integer", "\x80\x02\x8a\x00.", "its table of contents is unreadable (an empty integer)"},
		{"unknown opcode", "\x80\x02\xff.", "its table of contents is unreadable (byte 2)"},
		{"no STOP", "\x80\x02K\x05", "its table of contents is cut short"},
		{"line without its end", "\x80\x02cos\nsystem", "its table of contents is cut short"},
	} {
		if _, err := scanPickle([]byte(tt.pkl)); err == nil || err.Error() != tt.problem {
			t.Errorf("scanPickle(%s) = %v, want %q", tt.name, err, tt.problem)
		}
	}
}

// TestUnpickleTimeLimit checks that an unpickling that overstays its
// limit returns an error at the limit, and that a stopped reader fails.
func TestUnpickleTimeLimit(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	// A persistent id, whose loading blocks until released, then more
	// opcodes to read.
	pkl := "\x80\x02X\x01\x00\x00\x00aQ0K\x01."
	start := time.Now()
	_, err := runUnpickler([]byte(pkl), func(any) (any, error) {
		<-release
		return types.NewDict(), nil
	}, 50*time.Millisecond)
	var d damage
	if !errors.As(err, &d) || err.Error() != "reading its table of contents took longer than 50ms" {
		t.Fatalf("runUnpickler(blocked) = %v, want the time limit", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("runUnpickler(blocked) returned after %v", el)
	}
	s := stopReader{r: bytes.NewReader([]byte("K\x01."))}
	s.stop.Store(true)
	if _, err := s.ReadByte(); !errors.Is(err, errStopped) {
		t.Errorf("stopped reader: ReadByte = %v, want errStopped", err)
	}
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, errStopped) {
		t.Errorf("stopped reader: Read = %v, want errStopped", err)
	}
}
