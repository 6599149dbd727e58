package audio

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ravestation/rave/sessions/layout"
)

// Small chunks and a low rate keep the dataset tests fast.
const (
	testRate     = 16000
	testChunkLen = 4096
)

var testOpts = DatasetOptions{SampleRate: testRate, ChunkLen: testChunkLen, Seed: 7}

// tone returns a mono or multichannel sine buffer's channels.
func tone(channels, frames, rate int, f float64) [][]float32 {
	out := make([][]float32, channels)
	for c := range out {
		out[c] = sine(frames, f*float64(c+1), float64(rate), 0.3)
	}
	return out
}

// makeSourceFolder writes good and bad inputs into a new folder.
func makeSourceFolder(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	write := func(name string, ch [][]float32, rate int, f SampleFormat) {
		if err := WriteWAV(filepath.Join(src, name), ch, rate, f); err != nil {
			t.Fatal(err)
		}
	}
	write("a.wav", tone(2, 44100, 44100, 440), 44100, Int16) // 1 s → 16000 samples: 3 chunks + 3712 ≥ half → 4
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("sub/c.wav", tone(3, 6615, 22050, 300), 22050, Float32) // 0.3 s → 4800: 1 chunk + 704 dropped
	write("short.wav", tone(1, 400, 8000, 1000), 8000, Int24)     // 0.05 s → 800: padded to 1 chunk
	ints, _ := intSine(24000, 1, 24, 48000)
	writeTemp(t, src, "b.flac", encodeFLAC(t, ints, 48000, 24)) // 0.5 s → 8000: 1 chunk + 3904 → 2

	good := wavBytes(t, tone(1, 1000, 44100, 440), 44100, Int16)
	corrupt := bytes.Clone(good[:1000]) // data chunk says 2000 bytes, 956 present
	writeTemp(t, src, "corrupt.wav", corrupt)
	writeTemp(t, src, "text.wav", []byte("this is a text file renamed to .wav\n"))
	writeTemp(t, src, "empty.wav", wavBytes(t, [][]float32{{}}, 44100, Int16))
	writeTemp(t, src, "notes.txt", []byte("ignored in a folder walk"))
	writeTemp(t, src, "song.opus", []byte("OggS not really"))
	writeTemp(t, src, ".hidden.wav", good)
	writeTemp(t, src, ".git/x.wav", good)
	return src
}

// expectedChunks computes, independently of BuildDataset, the int16 chunks a
// file should produce.
func expectedChunks(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := Decode(path)
	if err != nil {
		t.Fatal(err)
	}
	x, err := Resample(b.Mono(), b.SampleRate, testRate)
	if err != nil {
		t.Fatal(err)
	}
	n := len(x) / testChunkLen
	if tail := len(x) % testChunkLen; n == 0 || tail >= testChunkLen/2 {
		n++
	}
	out := make([]int16, n*testChunkLen)
	for i := range out {
		if i < len(x) {
			v := math.Round(float64(x[i]) * 32768)
			out[i] = int16(max(-32768, min(32767, v)))
		}
	}
	return out
}

// checkDataset verifies that the dataset in dir matches its index and the
// sources, and returns the index.
func checkDataset(t *testing.T, dir string) *DatasetInfo {
	t.Helper()
	info, err := ReadDatasetInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := OpenDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Len() != info.ChunkCount || d.ChunkLen() != testChunkLen || d.SampleRate() != testRate {
		t.Fatalf("OpenDataset: %d chunks × %d at %d Hz; index says %d × %d at %d",
			d.Len(), d.ChunkLen(), d.SampleRate(), info.ChunkCount, info.ChunkLen, info.SampleRate)
	}
	next := 0
	for _, f := range info.Files {
		if f.FirstChunk != next {
			t.Errorf("%s starts at chunk %d, want %d (contiguous)", f.Path, f.FirstChunk, next)
		}
		next = f.EndChunk
		want := expectedChunks(t, f.Path)
		var got []int16
		for i := f.FirstChunk; i < f.EndChunk; i++ {
			got = append(got, d.Chunk(i)...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: stored chunks differ from decode → mono → resample → int16 (%d vs %d samples)", f.Path, len(got), len(want))
		}
	}
	if next != d.Len() {
		t.Errorf("files cover %d chunks, dataset has %d", next, d.Len())
	}
	return info
}

func rejectedPaths(r []Rejection) map[string]string {
	m := map[string]string{}
	for _, x := range r {
		m[filepath.Base(x.Path)] = x.Reason
	}
	return m
}

func TestBuildDataset(t *testing.T) {
	src := makeSourceFolder(t)
	dir := filepath.Join(t.TempDir(), "session")
	var prog []Progress
	rep, err := BuildDataset(context.Background(), dir, []string{src}, testOpts, func(p Progress) { prog = append(prog, p) })
	if err != nil {
		t.Fatal(err)
	}

	// Kept: a.wav (4 chunks), b.flac (2), short.wav (1), sub/c.wav (1), in path order.
	var kept []string
	for _, f := range rep.Added {
		kept = append(kept, strings.TrimPrefix(f.Path, src+"/"))
	}
	if want := []string{"a.wav", "b.flac", "short.wav", "sub/c.wav"}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	if rep.Chunks != 8 || rep.AddedChunks != 8 || rep.Files != 4 {
		t.Errorf("report: %d chunks (%d added), %d files; want 8, 8, 4", rep.Chunks, rep.AddedChunks, rep.Files)
	}
	wantRejected := map[string]string{
		"corrupt.wav": "truncated",
		"text.wav":    "looks like text",
		"empty.wav":   "no audio frames",
		"song.opus":   "not supported",
	}
	got := rejectedPaths(rep.Rejected)
	if len(got) != len(wantRejected) {
		t.Errorf("rejected %v, want %v", got, wantRejected)
	}
	for name, reason := range wantRejected {
		if !strings.Contains(got[name], reason) {
			t.Errorf("rejection of %s: reason %q, want it to mention %q", name, got[name], reason)
		}
	}
	byName := map[string]DatasetFile{}
	for _, f := range rep.Added {
		byName[filepath.Base(f.Path)] = f
	}
	if f := byName["a.wav"]; f.PaddedSamples != 384 || f.Channels != 2 || f.SourceRate != 44100 || f.Format != "wav" {
		t.Errorf("a.wav entry %+v: want 384 padded samples, 2 channels, 44100 Hz, wav", f)
	}
	if f := byName["c.wav"]; f.DroppedSamples != 704 || f.EndChunk-f.FirstChunk != 1 {
		t.Errorf("c.wav entry %+v: want 704 dropped samples, 1 chunk", f)
	}
	if f := byName["short.wav"]; f.PaddedSamples != testChunkLen-800 {
		t.Errorf("short.wav padded %d samples, want %d", f.PaddedSamples, testChunkLen-800)
	}
	if f := byName["b.flac"]; f.Format != "flac" || len(f.SHA256) != 64 || f.Size == 0 || f.ModTime.IsZero() {
		t.Errorf("b.flac entry %+v: want format flac with size, mtime and sha256", f)
	}
	for _, w := range []string{"too short to train well", "latent frames", "short.wav: 0.05 s is shorter than half a chunk"} {
		if !slices.ContainsFunc(rep.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("warnings %q: want one mentioning %q", rep.Warnings, w)
		}
	}
	if want := time.Duration(8 * testChunkLen * int64(time.Second) / testRate); rep.Duration != want {
		t.Errorf("Duration = %v, want %v", rep.Duration, want)
	}

	// Progress: hashing then decoding, monotonic, ending complete.
	last := prog[len(prog)-1]
	if last.Stage != "decode" || last.FilesDone != last.FilesTotal || last.FilesTotal != 7 || last.BytesDone != last.BytesTotal {
		t.Errorf("last progress %+v: want decode stage complete over 7 files", last)
	}
	for i := 1; i < len(prog); i++ {
		if prog[i].Stage == prog[i-1].Stage && prog[i].FilesDone < prog[i-1].FilesDone {
			t.Errorf("progress went backwards: %+v then %+v", prog[i-1], prog[i])
		}
	}

	info := checkDataset(t, dir)
	if info.Seed != 7 || info.Int16Scale != 32768 || info.PadRule != PadRule || len(info.Rejected) != 4 || info.BuildID == "" {
		t.Errorf("dataset.json: seed %d, scale %d, %d rejected, build %q", info.Seed, info.Int16Scale, len(info.Rejected), info.BuildID)
	}
	if math.Abs(info.SourceSeconds-(1+0.3+0.05+0.5)) > 1e-6 {
		t.Errorf("source seconds = %v, want 1.85", info.SourceSeconds)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("session folder holds %d entries, want dataset.bin and dataset.json only", len(entries))
	}
}

func TestBuildDatasetIncremental(t *testing.T) {
	src := makeSourceFolder(t)
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := BuildDataset(ctx, dir, []string{src}, testOpts, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, layout.DatasetBinFile))
	first := checkDataset(t, dir)

	// Add a new file, a renamed copy of a kept one, and name an existing one
	// again explicitly.
	if err := WriteWAV(filepath.Join(src, "d.wav"), tone(1, 20000, 16000, 500), 16000, Int16); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(src, "a.wav"))
	copyPath := writeTemp(t, t.TempDir(), "a_copy.wav", a)
	rep, err := BuildDataset(ctx, dir, []string{src, copyPath, filepath.Join(src, "a.wav")}, DatasetOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 1 || filepath.Base(rep.Added[0].Path) != "d.wav" {
		t.Fatalf("second run added %v, want only d.wav", rep.Added)
	}
	dups := map[string]string{}
	for _, d := range rep.Duplicates {
		dups[filepath.Base(d.Path)] = filepath.Base(d.Of)
	}
	want := map[string]string{"a.wav": "a.wav", "b.flac": "b.flac", "short.wav": "short.wav", "c.wav": "c.wav", "a_copy.wav": "a.wav"}
	if len(dups) != len(want) {
		t.Errorf("duplicates %v, want %v", dups, want)
	}
	for k, v := range want {
		if dups[k] != v {
			t.Errorf("duplicate %s of %q, want of %q", k, dups[k], v)
		}
	}
	// d.wav: 20000 samples → 4 chunks + 3616 ≥ half → 5.
	if rep.Chunks != 13 || rep.AddedChunks != 5 {
		t.Errorf("chunks %d (+%d), want 13 (+5)", rep.Chunks, rep.AddedChunks)
	}
	after, _ := os.ReadFile(filepath.Join(dir, layout.DatasetBinFile))
	if !bytes.Equal(after[datasetHeaderSize:len(before)], before[datasetHeaderSize:]) {
		t.Error("old chunks changed when appending")
	}
	second := checkDataset(t, dir)
	if !second.Created.Equal(first.Created) || !second.Updated.After(first.Created) && !second.Updated.Equal(first.Created) {
		t.Errorf("created %v → %v, updated %v: created must be kept", first.Created, second.Created, second.Updated)
	}
	if got := rejectedPaths(second.Rejected); len(got) != 4 {
		t.Errorf("index keeps %d rejections, want 4 (%v)", len(got), got)
	}

	// Changing a kept file replaces its chunks.
	time.Sleep(10 * time.Millisecond)
	if err := WriteWAV(filepath.Join(src, "sub", "c.wav"), tone(1, 2*testChunkLen, testRate, 200), testRate, Int16); err != nil {
		t.Fatal(err)
	}
	rep, err = BuildDataset(ctx, dir, []string{src}, DatasetOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Replaced) != 1 || len(rep.Added) != 1 || rep.Chunks != 13-1+2 {
		t.Errorf("after changing c.wav: replaced %v, added %d, %d chunks; want [c.wav], 1, 14", rep.Replaced, len(rep.Added), rep.Chunks)
	}
	checkDataset(t, dir)

	// A run with nothing new leaves dataset.bin untouched.
	st1, _ := os.Stat(filepath.Join(dir, layout.DatasetBinFile))
	rep, err = BuildDataset(ctx, dir, []string{src}, DatasetOptions{}, nil)
	if err != nil || len(rep.Added) != 0 {
		t.Fatalf("no-op run: %v, added %d", err, len(rep.Added))
	}
	st2, _ := os.Stat(filepath.Join(dir, layout.DatasetBinFile))
	if !os.SameFile(st1, st2) {
		t.Error("a run with no new input rewrote dataset.bin")
	}

	// Options that contradict the existing dataset are refused.
	if _, err := BuildDataset(ctx, dir, []string{src}, DatasetOptions{SampleRate: 44100}, nil); err == nil ||
		!strings.Contains(err.Error(), "use a new session folder") {
		t.Errorf("BuildDataset with another rate: %v, want a refusal", err)
	}
}

func TestBuildDatasetDeterministic(t *testing.T) {
	src := makeSourceFolder(t)
	var bins [][]byte
	for _, workers := range []int{1, 3} {
		dir := t.TempDir()
		opts := testOpts
		opts.Workers = workers
		if _, err := BuildDataset(context.Background(), dir, []string{src}, opts, nil); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, layout.DatasetBinFile))
		bins = append(bins, b)
	}
	if !bytes.Equal(bins[0], bins[1]) {
		t.Error("dataset.bin differs between 1 and 3 workers")
	}
}

func TestBuildDatasetNoUsableAudio(t *testing.T) {
	src := t.TempDir()
	text := writeTemp(t, src, "readme.md", []byte("# not audio\n"))
	dir := t.TempDir()
	rep, err := BuildDataset(context.Background(), dir, []string{text, filepath.Join(src, "missing.wav")}, testOpts, nil)
	if !errors.Is(err, ErrEmpty) {
		t.Fatalf("BuildDataset = %v, want ErrEmpty", err)
	}
	got := rejectedPaths(rep.Rejected)
	if !strings.Contains(got["readme.md"], "text") || !strings.Contains(got["missing.wav"], "no such file") {
		t.Errorf("rejections %v: want readme.md as text and missing.wav as missing", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed build left %d files in the session folder", len(entries))
	}
}

func TestBuildDatasetCancelled(t *testing.T) {
	src := makeSourceFolder(t)
	dir := t.TempDir()
	if _, err := BuildDataset(context.Background(), dir, []string{filepath.Join(src, "a.wav")}, testOpts, nil); err != nil {
		t.Fatal(err)
	}
	bin, _ := os.ReadFile(filepath.Join(dir, layout.DatasetBinFile))
	js, _ := os.ReadFile(filepath.Join(dir, layout.DatasetJSONFile))

	// Cancel as soon as decoding starts.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := BuildDataset(ctx, dir, []string{src}, testOpts, func(p Progress) {
		if p.Stage == "decode" {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("BuildDataset = %v, want context.Canceled", err)
	}
	bin2, _ := os.ReadFile(filepath.Join(dir, layout.DatasetBinFile))
	js2, _ := os.ReadFile(filepath.Join(dir, layout.DatasetJSONFile))
	if !bytes.Equal(bin, bin2) || !bytes.Equal(js, js2) {
		t.Error("a cancelled build changed the existing dataset")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("a cancelled build left %d entries, want 2", len(entries))
	}
}

func TestBuildDatasetInterruptedUpdate(t *testing.T) {
	src := makeSourceFolder(t)
	dir := t.TempDir()
	ctx := context.Background()
	a, b := filepath.Join(src, "a.wav"), filepath.Join(src, "b.flac")
	if _, err := BuildDataset(ctx, dir, []string{a}, testOpts, nil); err != nil {
		t.Fatal(err)
	}
	oldJSON, _ := os.ReadFile(filepath.Join(dir, layout.DatasetJSONFile))
	if _, err := BuildDataset(ctx, dir, []string{b}, testOpts, nil); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash between the two renames: new dataset.bin, old index.
	if err := os.WriteFile(filepath.Join(dir, layout.DatasetJSONFile), oldJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := BuildDataset(ctx, dir, []string{a, b}, testOpts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 1 || rep.Chunks != 6 ||
		!slices.ContainsFunc(rep.Warnings, func(s string) bool { return strings.Contains(s, "interrupted update") }) {
		t.Errorf("recovery run: added %d, %d chunks, warnings %q; want 1, 6, an interrupted-update warning", len(rep.Added), rep.Chunks, rep.Warnings)
	}
	checkDataset(t, dir)

	// A mismatch that is not a plain append is refused with advice.
	other := t.TempDir()
	if _, err := BuildDataset(ctx, other, []string{b}, testOpts, nil); err != nil {
		t.Fatal(err)
	}
	otherJSON, _ := os.ReadFile(filepath.Join(other, layout.DatasetJSONFile))
	os.WriteFile(filepath.Join(dir, layout.DatasetJSONFile), otherJSON, 0o644)
	if _, err := BuildDataset(ctx, dir, []string{a}, testOpts, nil); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "delete both") {
		t.Errorf("BuildDataset with a foreign index = %v, want ErrCorrupt advising to delete both", err)
	}
}

func TestOpenDatasetErrors(t *testing.T) {
	src := makeSourceFolder(t)
	dir := t.TempDir()
	if _, err := BuildDataset(context.Background(), dir, []string{filepath.Join(src, "b.flac")}, testOpts, nil); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(filepath.Join(dir, layout.DatasetBinFile))
	mutate := func(f func(b []byte) []byte) string {
		d := t.TempDir()
		writeTemp(t, d, layout.DatasetBinFile, f(bytes.Clone(good)))
		return d
	}
	tests := []struct {
		name string
		dir  string
		want error
		text string
	}{
		{"wrong magic", mutate(func(b []byte) []byte { copy(b, "LMDBDATA"); return b }), ErrDatasetVersion, `magic "LMDBDATA"`},
		{"newer version", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 2); return b }), ErrDatasetVersion, "format version 2, this build reads version 1: it was written by a newer rave"},
		{"old version", mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 0); return b }), ErrDatasetVersion, "rebuild it"},
		{"truncated", mutate(func(b []byte) []byte { return b[:len(b)-100] }), ErrCorrupt, "interrupted write"},
		{"tiny", mutate(func(b []byte) []byte { return b[:5] }), ErrDatasetVersion, "not a dataset.bin"},
		{"missing", t.TempDir(), os.ErrNotExist, "dataset.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenDataset(tt.dir)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("OpenDataset = %v, want %v mentioning %q", err, tt.want, tt.text)
			}
		})
	}
}

func TestOpenDatasetFallbackRead(t *testing.T) {
	src := makeSourceFolder(t)
	dir := t.TempDir()
	if _, err := BuildDataset(context.Background(), dir, []string{filepath.Join(src, "a.wav")}, testOpts, nil); err != nil {
		t.Fatal(err)
	}
	mapped, err := OpenDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer mapped.Close()
	hostLittleEndian = false // force the read-and-convert path
	read, err := OpenDataset(dir)
	hostLittleEndian = true
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	if read.Mapped() || !mapped.Mapped() {
		t.Fatalf("Mapped() = %v (fallback), %v (mmap)", read.Mapped(), mapped.Mapped())
	}
	for i := range mapped.Len() {
		if !slices.Equal(mapped.Chunk(i), read.Chunk(i)) {
			t.Fatalf("chunk %d differs between mmap and fallback read", i)
		}
	}
	f := read.ChunkFloat(nil, 0)
	for j, v := range read.Chunk(0) {
		if f[j] != float32(v)/32768 {
			t.Fatalf("ChunkFloat[%d] = %v, want %v", j, f[j], float32(v)/32768)
		}
	}
	for _, bad := range []func(){
		func() { read.Chunk(read.Len()) },
		func() { read.Chunk(-1) },
		func() { read.ChunkFloat(make([]float32, 3), 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("want a panic")
				}
			}()
			bad()
		}()
	}
	read.Close()
	if err := read.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func BenchmarkDatasetChunk(b *testing.B) {
	src := b.TempDir()
	if err := WriteWAV(filepath.Join(src, "x.wav"), tone(1, 10*testRate, testRate, 440), testRate, Int16); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if _, err := BuildDataset(context.Background(), dir, []string{src}, testOpts, nil); err != nil {
		b.Fatal(err)
	}
	d, err := OpenDataset(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	dst := make([]float32, d.ChunkLen())
	b.SetBytes(int64(2 * d.ChunkLen()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d.ChunkFloat(dst, i%d.Len())
	}
}
