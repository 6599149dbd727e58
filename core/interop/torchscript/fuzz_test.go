package torchscript_test

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ravestation/rave/core/interop/torchscript"
)

// fuzzTimeout is the time one input may take before the fuzz target calls
// it a hang.
const fuzzTimeout = 10 * time.Second

// FuzzTorchScript feeds arbitrary bytes to Read, once as an archive and
// once as the data.pkl of the small archive (most mutations of a whole
// archive only break a zip checksum, so the second form is what explores
// the pickle and the module tree). Read must return an archive or an
// error, never panic, hang or allocate without bound, and what it returns
// must be consistent (every tensor as many values as its shape says). The
// seed corpus is testdata/tiny_conv.ts, its data.pkl and
// testdata/fuzz/FuzzTorchScript (the archive re-zipped without its debug
// records, stored and deflated).
//
//	go test -run '^$' -fuzz FuzzTorchScript -fuzztime 30s ./core/interop/torchscript/
func FuzzTorchScript(f *testing.F) {
	tiny, err := os.ReadFile(tinyArchive)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tiny)
	zr, err := zip.NewReader(bytes.NewReader(tiny), int64(len(tiny)))
	if err != nil {
		f.Fatal(err)
	}
	records := map[string][]byte{}
	var names []string
	for _, r := range zr.File {
		if strings.HasSuffix(r.Name, ".debug_pkl") {
			continue
		}
		rc, err := r.Open()
		if err != nil {
			f.Fatal(err)
		}
		records[r.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			f.Fatal(err)
		}
		names = append(names, r.Name)
	}
	f.Add(records["tiny_conv/data.pkl"])
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			exercise(t, data)
			exercise(t, archiveWith(t, names, records, data))
		}()
		select {
		case <-done:
		case <-time.After(fuzzTimeout):
			t.Fatalf("Read of %d bytes took more than %v", len(data), fuzzTimeout)
		}
	})
}

// archiveWith returns the zip of the records (in the order of names) with
// data.pkl replaced by pkl.
func archiveWith(t *testing.T, names []string, records map[string][]byte, pkl []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if name == "tiny_conv/data.pkl" {
			w.Write(pkl)
		} else {
			w.Write(records[name])
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// exercise reads data and walks what Read returns.
func exercise(t *testing.T, data []byte) {
	a, err := torchscript.Read(bytes.NewReader(data), int64(len(data)), "fuzz.ts")
	if err != nil {
		return
	}
	if a.Root == nil {
		t.Error("Read returned no root module and no error")
		return
	}
	err = a.Root.Walk(func(m *torchscript.Module) error {
		_ = m.Type()
		if m.Decl != nil {
			for name := range m.Decl.Constants {
				_, _ = m.Decl.Ints(name)
				_, _ = m.Decl.Float(name)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	for _, nt := range a.Root.Tensors() {
		if got := len(nt.Float64()); got != nt.Len() || len(nt.Float32()) != got {
			t.Errorf("tensor %s of shape %v has %d values", nt.Name, nt.Shape, got)
		}
		if v, ok := nt.Int64(); ok && len(v) != nt.Len() {
			t.Errorf("tensor %s of shape %v has %d int values", nt.Name, nt.Shape, len(v))
		}
	}
}
