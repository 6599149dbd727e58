package audio

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ravestation/rave/sessions/layout"
)

// Dataset defaults and rules (rave-spec.md §11).
const (
	// DefaultDatasetRate is the sample rate of a new dataset (the v1 model's).
	DefaultDatasetRate = 48000
	// DefaultChunkLen is the chunk length of a new dataset: 2·n_signal =
	// 131072 samples, as the reference v1 preprocessing stores.
	DefaultChunkLen = 131072

	// PadRule is how BuildDataset cuts a file into chunks; it is recorded in
	// dataset.json.
	PadRule = "a file shorter than one chunk is zero-padded to one chunk; " +
		"in longer files a trailing partial chunk is zero-padded when it holds at least half a chunk, otherwise dropped"

	// Size warnings. RAVE v1 makes one latent frame per 2048 samples and
	// keeps 128 latent dimensions; fitting the latent PCA well wants at least
	// 4 frames per dimension, so fewer than 4·128 frames draws a warning.
	latentHop       = 2048
	latentDims      = 128
	minLatentFrames = 4 * latentDims
	minSeconds      = 60       // below: too short to train well
	advisedSeconds  = 3 * 3600 // the RAVE documentation's advice
)

// audioExts are the extensions collected from folder walks.
var audioExts = map[string]bool{
	".wav": true, ".wave": true, ".flac": true, ".mp3": true, ".ogg": true, ".oga": true,
	".aif": true, ".aiff": true, ".aifc": true,
}

// otherAudioExts look like audio but are not decoded here; folder walks list
// them as rejected so the user knows they were seen.
var otherAudioExts = map[string]bool{
	".opus": true, ".m4a": true, ".aac": true, ".wma": true, ".alac": true, ".ape": true,
	".wv": true, ".mp2": true, ".mka": true, ".caf": true, ".au": true, ".w64": true,
}

// DatasetOptions configures BuildDataset. Zero fields take the existing
// dataset's values, or else the defaults.
type DatasetOptions struct {
	// SampleRate is the rate the audio is resampled to (DefaultDatasetRate).
	SampleRate int
	// ChunkLen is the number of samples per chunk (DefaultChunkLen).
	ChunkLen int
	// Seed is recorded in dataset.json for the trainer (train/validation
	// split). Building itself uses no randomness.
	Seed uint64
	// Workers is the number of files decoded in parallel (GOMAXPROCS).
	Workers int
}

// Progress reports BuildDataset's advance. Stage is "hash" while files are
// read and fingerprinted, then "decode" while they are decoded, resampled and
// written.
type Progress struct {
	Stage      string // "hash" or "decode"
	FilesDone  int    // files finished in this stage
	FilesTotal int    // files this stage will handle
	BytesDone  int64  // size of the files finished
	BytesTotal int64  // size of all files of this stage
	Path       string // the file just finished
}

// Duplicate is an input skipped because the dataset already holds its content.
type Duplicate struct {
	Path string `json:"path"` // the input skipped
	Of   string `json:"of"`   // the kept file with the same content (may equal Path)
}

// DatasetReport summarises one BuildDataset run.
type DatasetReport struct {
	Dir           string        // the session folder
	Added         []DatasetFile // files added by this run
	Rejected      []Rejection   // inputs left out by this run, with reasons
	Duplicates    []Duplicate   // inputs already present (same content, or same path, size and mtime)
	Replaced      []string      // paths whose content changed: their old chunks were dropped
	Files         int           // files in the dataset after the run
	Chunks        int           // chunks in the dataset after the run
	AddedChunks   int           // chunks this run added
	Duration      time.Duration // audio stored (chunks × chunk length)
	AddedDuration time.Duration // audio this run added
	Warnings      []string      // advice about the dataset size and content
}

// BuildDataset creates or extends the dataset in folder dir (dataset.bin and
// dataset.json) from inputs: files, or folders walked recursively for files
// with an audio extension (.wav .wave .flac .mp3 .ogg .oga .aif .aiff .aifc;
// hidden files are ignored). A file named directly is always tried, whatever
// its extension.
//
// Each file is decoded (in parallel, opts.Workers at a time), mixed to mono,
// resampled to opts.SampleRate, cut into chunks of opts.ChunkLen samples as
// PadRule says, and stored as int16 (round(x·32768), clipped). Files are added
// in sorted path order, so the output does not depend on timing. Running again
// appends only new content: an input whose path, size and mtime match a kept
// file, or whose SHA-256 matches one, is reported as a duplicate; a kept path
// whose content changed has its old chunks replaced. Both files are rewritten
// atomically (temporary file, fsync, rename; dataset.bin first), so a crash or
// kill leaves the previous dataset readable.
//
// Unreadable, corrupt, truncated, empty or non-audio inputs are listed in the
// report with the reason and do not stop the build; only a failure to write
// the dataset, a cancelled ctx, or having no usable audio at all (ErrEmpty)
// returns an error. progress, if not nil, is called from the calling goroutine.
func BuildDataset(ctx context.Context, dir string, inputs []string, opts DatasetOptions, progress func(Progress)) (*DatasetReport, error) {
	b := &builder{ctx: ctx, dir: dir, opts: opts, progress: progress, report: &DatasetReport{Dir: dir}}
	if b.progress == nil {
		b.progress = func(Progress) {}
	}
	if err := b.run(inputs); err != nil {
		return b.report, fmt.Errorf("audio: build dataset %s: %w", dir, err)
	}
	return b.report, nil
}

type builder struct {
	ctx      context.Context
	dir      string
	opts     DatasetOptions
	progress func(Progress)
	report   *DatasetReport

	old    *DatasetInfo // nil for a new dataset
	oldBin *Dataset
}

// candidate is one input file with its identity.
type candidate struct {
	path  string
	size  int64
	mtime time.Time
	sha   string
}

func (b *builder) run(inputs []string) error {
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return err
	}
	if err := b.loadExisting(); err != nil {
		return err
	}
	if b.oldBin != nil {
		defer b.oldBin.Close()
	}
	if b.opts.SampleRate == 0 {
		b.opts.SampleRate = DefaultDatasetRate
	}
	if b.opts.ChunkLen == 0 {
		b.opts.ChunkLen = DefaultChunkLen
	}
	if b.opts.Workers <= 0 {
		b.opts.Workers = runtime.GOMAXPROCS(0)
	}
	if err := checkFormat(1, b.opts.SampleRate); err != nil {
		return fmt.Errorf("dataset sample rate: %w", err)
	}
	if b.opts.ChunkLen < 1 || b.opts.ChunkLen > 1<<28 {
		return fmt.Errorf("chunk length %d outside 1..%d", b.opts.ChunkLen, 1<<28)
	}

	cands := b.collect(inputs)
	if err := b.fingerprint(cands); err != nil {
		return err
	}
	keep, jobs := b.decide(cands)
	return b.write(keep, jobs)
}

// loadExisting reads a previous dataset, if any, and reconciles options.
func (b *builder) loadExisting() error {
	_, errJSON := os.Stat(layout.DatasetJSON(b.dir))
	_, errBin := os.Stat(layout.DatasetBin(b.dir))
	switch {
	case errors.Is(errJSON, fs.ErrNotExist) && errors.Is(errBin, fs.ErrNotExist):
		return nil
	case errors.Is(errJSON, fs.ErrNotExist):
		return fmt.Errorf("%s exists without %s: remove it to build a new dataset", layout.DatasetBinFile, layout.DatasetJSONFile)
	case errors.Is(errBin, fs.ErrNotExist):
		return fmt.Errorf("%s exists without %s: remove it to build a new dataset", layout.DatasetJSONFile, layout.DatasetBinFile)
	}
	info, err := ReadDatasetInfo(b.dir)
	if err != nil {
		return err
	}
	bin, err := OpenDataset(b.dir)
	if err != nil {
		return err
	}
	b.old, b.oldBin = info, bin
	jsonID, _ := strconv.ParseUint(info.BuildID, 16, 64)
	h := bin.hdr
	switch {
	case bin.SampleRate() != info.SampleRate || bin.ChunkLen() != info.ChunkLen:
		return fmt.Errorf("%w: %s (%d Hz, %d samples) and %s (%d Hz, %d samples) disagree",
			ErrCorrupt, layout.DatasetBinFile, bin.SampleRate(), bin.ChunkLen(), layout.DatasetJSONFile, info.SampleRate, info.ChunkLen)
	case h.buildID == jsonID && bin.Len() == info.ChunkCount:
		// consistent
	case h.baseID == jsonID && h.baseCount == uint64(info.ChunkCount) && bin.Len() >= info.ChunkCount:
		// dataset.bin was renamed but dataset.json was not: an append was
		// interrupted. The first ChunkCount chunks are the indexed ones.
		b.report.Warnings = append(b.report.Warnings, fmt.Sprintf(
			"%s held %d unindexed chunks from an interrupted update; they were discarded", layout.DatasetBinFile, bin.Len()-info.ChunkCount))
	default:
		return fmt.Errorf("%w: %s (build %016x, %d chunks) and %s (build %s, %d chunks) are from different builds, "+
			"probably an interrupted update: delete both files and run preprocess again",
			ErrCorrupt, layout.DatasetBinFile, h.buildID, bin.Len(), layout.DatasetJSONFile, info.BuildID, info.ChunkCount)
	}
	for _, f := range info.Files {
		if f.FirstChunk < 0 || f.EndChunk < f.FirstChunk || f.EndChunk > info.ChunkCount {
			return fmt.Errorf("%w: %s: chunk range [%d, %d) of %s", ErrCorrupt, layout.DatasetJSONFile, f.FirstChunk, f.EndChunk, f.Path)
		}
	}
	if b.opts.SampleRate != 0 && b.opts.SampleRate != info.SampleRate ||
		b.opts.ChunkLen != 0 && b.opts.ChunkLen != info.ChunkLen {
		return fmt.Errorf("the dataset in %s is %d Hz with %d-sample chunks, the options ask for %d Hz and %d: use a new session folder",
			b.dir, info.SampleRate, info.ChunkLen, b.opts.SampleRate, b.opts.ChunkLen)
	}
	b.opts.SampleRate, b.opts.ChunkLen = info.SampleRate, info.ChunkLen
	if b.opts.Seed == 0 {
		b.opts.Seed = info.Seed
	}
	return nil
}

// collect expands inputs into sorted, de-duplicated candidate files.
func (b *builder) collect(inputs []string) []candidate {
	seen := map[string]bool{}
	var out []candidate
	add := func(path string, st fs.FileInfo) {
		if seen[path] {
			return
		}
		seen[path] = true
		out = append(out, candidate{path: path, size: st.Size(), mtime: st.ModTime().UTC()})
	}
	for _, in := range inputs {
		abs, err := filepath.Abs(in)
		if err != nil {
			b.reject(in, err.Error())
			continue
		}
		st, err := os.Stat(abs)
		if err != nil {
			b.reject(abs, errReason(err))
			continue
		}
		if !st.IsDir() {
			if !st.Mode().IsRegular() {
				b.reject(abs, "not a regular file")
				continue
			}
			add(abs, st)
			continue
		}
		filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if b.ctx.Err() != nil {
				return filepath.SkipAll // fingerprint reports the cancellation
			}
			if err != nil {
				b.reject(path, errReason(err))
				return nil
			}
			name := d.Name()
			if path != abs && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			ext := strings.ToLower(filepath.Ext(name))
			if otherAudioExts[ext] {
				b.reject(path, fmt.Sprintf("%s files are not supported (convert to wav or flac)", ext))
				return nil
			}
			if !audioExts[ext] {
				return nil
			}
			st, err := os.Stat(path) // follows symlinks
			if err != nil {
				b.reject(path, errReason(err))
				return nil
			}
			if st.Mode().IsRegular() {
				add(path, st)
			}
			return nil
		})
	}
	slices.SortFunc(out, func(a, b candidate) int { return strings.Compare(a.path, b.path) })
	return out
}

func (b *builder) reject(path, reason string) {
	b.report.Rejected = append(b.report.Rejected, Rejection{Path: path, Reason: reason})
}

// errReason turns an error into a reason without repeating the path.
func errReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// fingerprint hashes the candidates that do not match a kept file by path,
// size and mtime, in parallel.
func (b *builder) fingerprint(cands []candidate) error {
	kept := b.keptByPath()
	var todo []int
	var total int64
	for i, c := range cands {
		if f, ok := kept[c.path]; ok && f.Size == c.size && f.ModTime.Equal(c.mtime) {
			cands[i].sha = f.SHA256 // unchanged: trust the recorded hash
			continue
		}
		todo = append(todo, i)
		total += c.size
	}
	type result struct {
		i   int
		sha string
		err error
	}
	results := make(chan result)
	next := make(chan int)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(b.opts.Workers, max(1, len(todo))) {
		wg.Go(func() {
			for i := range next {
				sha, err := hashFile(ctx, cands[i].path)
				select {
				case results <- result{i, sha, err}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(next)
		for _, i := range todo {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	p := Progress{Stage: "hash", FilesTotal: len(todo), BytesTotal: total}
	b.progress(p)
	for r := range results {
		if r.err != nil {
			cands[r.i].sha = "" // rejected in decide
			b.reject(cands[r.i].path, errReason(r.err))
		} else {
			cands[r.i].sha = r.sha
		}
		p.FilesDone++
		p.BytesDone += cands[r.i].size
		p.Path = cands[r.i].path
		b.progress(p)
	}
	return b.ctx.Err()
}

// hashFile returns the hex SHA-256 of a file's bytes.
func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
	}
}

func (b *builder) keptByPath() map[string]DatasetFile {
	m := map[string]DatasetFile{}
	if b.old != nil {
		for _, f := range b.old.Files {
			m[f.Path] = f
		}
	}
	return m
}

// decide classifies candidates in sorted order: duplicates of kept or
// earlier content, and files to decode. It returns the kept old files (those
// not replaced) and the jobs.
func (b *builder) decide(cands []candidate) (keep []DatasetFile, jobs []candidate) {
	byHash := map[string]string{} // sha → path of the file holding it
	byPath := b.keptByPath()
	replaced := map[string]bool{}
	if b.old != nil {
		for _, f := range b.old.Files {
			byHash[f.SHA256] = f.Path
		}
	}
	for _, c := range cands {
		if c.sha == "" {
			continue // could not be read; already rejected
		}
		if of, ok := byHash[c.sha]; ok {
			b.report.Duplicates = append(b.report.Duplicates, Duplicate{Path: c.path, Of: of})
			continue
		}
		if _, ok := byPath[c.path]; ok && !replaced[c.path] {
			replaced[c.path] = true
			b.report.Replaced = append(b.report.Replaced, c.path)
		}
		byHash[c.sha] = c.path
		jobs = append(jobs, c)
	}
	if b.old != nil {
		for _, f := range b.old.Files {
			if !replaced[f.Path] {
				keep = append(keep, f)
			}
		}
	}
	return keep, jobs
}

// decoded is a worker's output for one job.
type decoded struct {
	file    DatasetFile
	samples []int16 // whole chunks, file.EndChunk−file.FirstChunk of them
	err     error
}

// prepare decodes one file and cuts it into int16 chunks.
func (b *builder) prepare(ctx context.Context, c candidate) decoded {
	d := decoded{file: DatasetFile{Path: c.path, Size: c.size, ModTime: c.mtime, SHA256: c.sha}}
	f, err := os.Open(c.path)
	if err != nil {
		d.err = errors.New(errReason(err))
		return d
	}
	defer f.Close()
	buf, format, err := decodeReader(f, c.path)
	if err != nil {
		d.err = err
		return d
	}
	d.file.Format = format.String()
	d.file.SourceRate = buf.SampleRate
	d.file.Channels = len(buf.Channels)
	d.file.Seconds = buf.Duration().Seconds()
	if err := ctx.Err(); err != nil {
		d.err = err
		return d
	}
	mono := buf.Mono()
	buf = nil
	x, err := Resample(mono, d.file.SourceRate, b.opts.SampleRate)
	if err != nil {
		d.err = err
		return d
	}
	L := b.opts.ChunkLen
	full, tail := len(x)/L, len(x)%L
	n := full
	switch {
	case tail == 0:
	case full == 0 || tail >= (L+1)/2:
		n++
		d.file.PaddedSamples = L - tail
	default:
		d.file.DroppedSamples = tail
	}
	d.samples = make([]int16, n*L)
	for i, v := range x[:min(len(x), n*L)] {
		q := quantize(v, Int16Scale)
		if q == Int16Scale-1 && v*Int16Scale > Int16Scale-0.5 || q == -Int16Scale && v*Int16Scale < -Int16Scale-0.5 {
			d.file.ClippedSamples++
		}
		d.samples[i] = int16(q)
	}
	d.file.EndChunk = n // relative until written
	return d
}

// write assembles the new dataset.bin: header, kept old chunks, new chunks.
func (b *builder) write(keep []DatasetFile, jobs []candidate) error {
	L := b.opts.ChunkLen
	var tmp *os.File
	var bw *chunkWriter
	count := 0
	files := make([]DatasetFile, 0, len(keep)+len(jobs))
	// dataset.bin is rewritten when chunks are added or dropped: the
	// temporary file starts with the kept old chunks, then new ones follow.
	// Without replacements it starts lazily, at the first file that decodes.
	rewrite := false
	hdr := datasetHeader{version: DatasetVersion, rate: uint32(b.opts.SampleRate), chunkLen: uint32(L), headerSize: datasetHeaderSize}
	if b.old != nil && len(b.report.Replaced) == 0 {
		// A pure append: the old chunks stay where they were.
		hdr.baseID, _ = strconv.ParseUint(b.old.BuildID, 16, 64)
		hdr.baseCount = uint64(b.old.ChunkCount)
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	startRewrite := func() error {
		rewrite = true
		var err error
		tmp, err = os.CreateTemp(b.dir, "."+layout.DatasetBinFile+".tmp-*")
		if err != nil {
			return err
		}
		bw = newChunkWriter(tmp)
		bw.write(make([]byte, datasetHeaderSize)) // patched at the end
		files, count = files[:0], 0
		for _, f := range keep {
			n := f.EndChunk - f.FirstChunk
			for i := range n {
				bw.writeInt16(b.oldBin.Chunk(f.FirstChunk + i))
			}
			f.FirstChunk, f.EndChunk = count, count+n
			count += n
			files = append(files, f)
		}
		return bw.err
	}
	files = append(files, keep...)
	if b.old != nil {
		count = b.old.ChunkCount
	}
	if len(b.report.Replaced) > 0 || b.old != nil && b.oldBin.Len() != b.old.ChunkCount {
		if err := startRewrite(); err != nil {
			return err
		}
	}

	// Decode in parallel, write in job order. A job takes a window slot
	// before it is dispatched and gives it back when written, so at most
	// `window` decoded files wait in memory and the writer never starves.
	workers := min(b.opts.Workers, max(1, len(jobs)))
	window := make(chan struct{}, 2*workers)
	ctx, cancel := context.WithCancel(b.ctx)
	type indexed struct {
		i int
		d decoded
	}
	next := make(chan int)
	results := make(chan indexed)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				d := b.prepare(ctx, jobs[i])
				select {
				case results <- indexed{i, d}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range jobs {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	defer func() {
		// Stop the workers and wait for them, so no file stays open.
		cancel()
		for range results {
		}
	}()

	var total int64
	for _, j := range jobs {
		total += j.size
	}
	p := Progress{Stage: "decode", FilesTotal: len(jobs), BytesTotal: total}
	b.progress(p)
	pending := map[int]decoded{}
	for nextOut := 0; nextOut < len(jobs); {
		var r indexed
		var ok bool
		select {
		case r, ok = <-results:
		case <-b.ctx.Done():
			return b.ctx.Err()
		}
		if !ok { // the workers stopped early, which only cancelling does
			if err := b.ctx.Err(); err != nil {
				return err
			}
			return errors.New("decoders stopped early")
		}
		pending[r.i] = r.d
		for {
			d, ok := pending[nextOut]
			if !ok {
				break
			}
			delete(pending, nextOut)
			job := jobs[nextOut]
			nextOut++
			<-window
			if d.err != nil {
				if errors.Is(d.err, context.Canceled) || errors.Is(d.err, context.DeadlineExceeded) {
					return d.err
				}
				b.reject(job.path, d.err.Error())
				if slices.Contains(b.report.Replaced, job.path) {
					b.report.Warnings = append(b.report.Warnings, fmt.Sprintf(
						"%s changed and no longer decodes; its previous chunks were removed", job.path))
				}
			} else {
				if !rewrite {
					if err := startRewrite(); err != nil {
						return err
					}
				}
				n := d.file.EndChunk
				d.file.FirstChunk, d.file.EndChunk = count, count+n
				count += n
				bw.writeInt16(d.samples)
				if bw.err != nil {
					return bw.err
				}
				files = append(files, d.file)
				b.report.Added = append(b.report.Added, d.file)
				b.report.AddedChunks += n
			}
			p.FilesDone++
			p.BytesDone += job.size
			p.Path = job.path
			b.progress(p)
		}
	}
	if err := b.ctx.Err(); err != nil {
		return err
	}
	if count == 0 {
		return fmt.Errorf("%w: no usable audio (%d inputs rejected)", ErrEmpty, len(b.report.Rejected))
	}

	hdr.count = uint64(count)
	hdr.buildID = buildID(b.opts.SampleRate, L, files)
	if rewrite {
		if err := bw.flush(); err != nil {
			return err
		}
		if _, err := tmp.WriteAt(hdr.marshal(), 0); err != nil {
			return err
		}
		if b.oldBin != nil {
			b.oldBin.Close() // before the rename, for platforms that lock mapped files
		}
		if err := commitTemp(tmp, layout.DatasetBin(b.dir)); err != nil {
			return err
		}
		tmp = nil
	}
	return b.writeIndex(files, count, hdr.buildID)
}

// buildID fingerprints a dataset's layout: rate, chunk length, and each
// file's content hash and chunk range, in order. It is never 0.
func buildID(rate, chunkLen int, files []DatasetFile) uint64 {
	h := sha256.New()
	fmt.Fprintf(h, "%d %d\n", rate, chunkLen)
	for _, f := range files {
		fmt.Fprintf(h, "%s %d %d\n", f.SHA256, f.FirstChunk, f.EndChunk)
	}
	id := binary.LittleEndian.Uint64(h.Sum(nil))
	return max(id, 1)
}

// writeIndex fills in the report and writes dataset.json.
func (b *builder) writeIndex(files []DatasetFile, count int, id uint64) error {
	r := b.report
	rate, L := b.opts.SampleRate, b.opts.ChunkLen
	r.Files, r.Chunks = len(files), count
	r.Duration = samplesDuration(int64(count)*int64(L), rate)
	r.AddedDuration = samplesDuration(int64(r.AddedChunks)*int64(L), rate)

	now := time.Now().UTC()
	info := &DatasetInfo{
		FormatVersion: DatasetVersion,
		BuildID:       fmt.Sprintf("%016x", id),
		SampleRate:    rate,
		ChunkLen:      L,
		ChunkCount:    count,
		Int16Scale:    Int16Scale,
		Seed:          b.opts.Seed,
		PadRule:       PadRule,
		TotalSeconds:  r.Duration.Seconds(),
		Created:       now,
		Updated:       now,
		Files:         files,
	}
	if b.old != nil {
		info.Created = b.old.Created
		// Keep earlier rejections of paths not tried again this run.
		tried := map[string]bool{}
		for _, f := range files {
			tried[f.Path] = true
		}
		for _, rj := range r.Rejected {
			tried[rj.Path] = true
		}
		for _, d := range r.Duplicates {
			tried[d.Path] = true
		}
		for _, rj := range b.old.Rejected {
			if !tried[rj.Path] {
				info.Rejected = append(info.Rejected, rj)
			}
		}
	}
	info.Rejected = append(info.Rejected, r.Rejected...)
	for _, f := range files {
		info.SourceSeconds += f.Seconds
	}
	b.addWarnings(files, count)
	info.Warnings = r.Warnings
	return writeFileAtomic(layout.DatasetJSON(b.dir), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	})
}

// addWarnings appends the size and quality warnings to the report.
func (b *builder) addWarnings(files []DatasetFile, count int) {
	r := b.report
	samples := int64(count) * int64(b.opts.ChunkLen)
	secs := float64(samples) / float64(b.opts.SampleRate)
	switch {
	case secs < minSeconds:
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"only %.1f s of audio: too short to train well (at least a few minutes, ideally %d hours)", secs, advisedSeconds/3600))
	case secs < advisedSeconds:
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"%.1f min of audio: RAVE's authors advise at least %d hours; expect overfitting", secs/60, advisedSeconds/3600))
	}
	if frames := samples / latentHop; frames < minLatentFrames {
		r.Warnings = append(r.Warnings, fmt.Sprintf(
			"only %d latent frames (samples / %d): the latent PCA of the v1 preset wants at least %d (4 per latent dimension, %d dimensions)",
			frames, latentHop, minLatentFrames, latentDims))
	}
	for _, f := range r.Added {
		if f.ClippedSamples > 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d samples clipped to the int16 range", f.Path, f.ClippedSamples))
		}
		if n := (f.EndChunk - f.FirstChunk) * b.opts.ChunkLen; f.PaddedSamples*2 > n {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %.2f s is shorter than half a chunk; it was padded with %.0f%% silence",
				f.Path, f.Seconds, 100*float64(f.PaddedSamples)/float64(n)))
		}
	}
}

func samplesDuration(n int64, rate int) time.Duration {
	return time.Duration(float64(n) / float64(rate) * float64(time.Second))
}

// chunkWriter buffers little-endian int16 writes and remembers the first error.
type chunkWriter struct {
	w   io.Writer
	buf []byte
	err error
}

func newChunkWriter(w io.Writer) *chunkWriter {
	return &chunkWriter{w: w, buf: make([]byte, 0, 1<<20)}
}

func (c *chunkWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	if len(c.buf)+len(p) > cap(c.buf) {
		c.flush()
	}
	if len(p) > cap(c.buf) {
		_, c.err = c.w.Write(p)
		return
	}
	c.buf = append(c.buf, p...)
}

func (c *chunkWriter) writeInt16(s []int16) {
	for len(s) > 0 && c.err == nil {
		if cap(c.buf)-len(c.buf) < 2 {
			c.flush()
		}
		n := min(len(s), (cap(c.buf)-len(c.buf))/2)
		for _, v := range s[:n] {
			c.buf = binary.LittleEndian.AppendUint16(c.buf, uint16(v))
		}
		s = s[n:]
	}
}

func (c *chunkWriter) flush() error {
	if c.err == nil && len(c.buf) > 0 {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
	return c.err
}
