package layout

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// guardedNames returns the names the layout owns, read from layout.go
// itself so that a constant added there is guarded without a change here:
// the values of the string constants whose identifiers end in "File" (the
// file names: folder names such as "prior" or "runs" are ordinary words,
// also used as command names and flags) and of those ending in "Prefix"
// (the starts of checkpoint and run manifest names), as prefixes.
func guardedNames(t *testing.T) (files, prefixes []string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "layout.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: %v", id.Name, err)
				}
				switch {
				case strings.HasSuffix(id.Name, "File"):
					files = append(files, v)
				case strings.HasSuffix(id.Name, "Prefix"):
					prefixes = append(prefixes, v)
				}
			}
		}
	}
	if len(files) < 10 || len(prefixes) < 2 {
		t.Fatalf("layout.go declares %d file names and %d prefixes; the parse missed them", len(files), len(prefixes))
	}
	return files, prefixes
}

// namingLiterals returns the string literals of a Go source that spell one
// of the names: equal to a file name or holding it as a '/'-separated
// element, or starting with a prefix.
func namingLiterals(src []byte, files, prefixes []string) ([]string, error) {
	fset := token.NewFileSet()
	var s scanner.Scanner
	var errs scanner.ErrorList
	s.Init(fset.AddFile("", -1, len(src)), src, errs.Add, 0)
	var out []string
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok != token.STRING {
			continue
		}
		v, err := strconv.Unquote(lit)
		if err != nil {
			continue
		}
		elems := strings.Split(v, "/")
		hit := slices.ContainsFunc(files, func(n string) bool { return slices.Contains(elems, n) }) ||
			slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(v, p) })
		if hit {
			out = append(out, fset.Position(pos).String()+" "+lit)
		}
	}
	if errs.Len() > 0 {
		return out, errs.Err()
	}
	return out, nil
}

// moduleRoot returns the folder of the go.mod above the test's folder.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = up
	}
}

// TestNoFileNamesOutsideLayout fails if a non-test Go file of the module
// outside this package spells a session file name as a string literal:
// every package names session files through the layout.
func TestNoFileNamesOutsideLayout(t *testing.T) {
	files, prefixes := guardedNames(t)
	root := moduleRoot(t)
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	var scanned int
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (p == self || name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		scanned++
		hits, err := namingLiterals(src, files, prefixes)
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		rel, _ := filepath.Rel(root, p)
		for _, h := range hits {
			t.Errorf("%s:%s: a session file name spelt outside sessions/layout; use the layout's constant or path helper", rel, h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned %d Go files under %s; the walk missed the module", scanned, root)
	}
}

// TestNamingLiterals checks the guard itself on a source that spells names
// in each way it catches, and in ways it leaves alone.
func TestNamingLiterals(t *testing.T) {
	files, prefixes := guardedNames(t)
	src := []byte(`package x
// model.safetensors in a comment is fine.
var a = "model.safetensors"
var b = "exports/demo-clip.wav"
var c = ` + "`status.json`" + `
var d = "step-%012d"
var e = "see MODEL_CARD.md for details"
var f = "prior"
var g = ".safetensors"
`)
	hits, err := namingLiterals(src, files, prefixes)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 4 {
		t.Errorf("found %d literals naming files, want 4 (a, b, c, d): %q", len(hits), hits)
	}
}

// TestPaths checks the helpers against the layout they document.
func TestPaths(t *testing.T) {
	d := filepath.Join("home", "sessions", "piano")
	j := func(elem ...string) string { return filepath.Join(append([]string{d}, elem...)...) }
	tests := []struct{ got, want string }{
		{Manifest(d), j("session.json")},
		{Lock(d), j("lock")},
		{DatasetBin(d), j("dataset.bin")},
		{DatasetJSON(d), j("dataset.json")},
		{TrainLog(d), j("train.log")},
		{Control(d), j("control.json")},
		{Model(d), j("model.safetensors")},
		{BestModel(d), j("best.safetensors")},
		{Analysis(d), j("analysis.json")},
		{Fidelity(d), j("fidelity.json")},
		{Card(d), j("MODEL_CARD.md")},
		{Credits(d), j("CREDITS.md")},
		{Status(d), j("status.json")},
		{Metrics(Prior(d)), j("prior", "metrics.jsonl")},
		{Checkpoints(d), j("checkpoints")},
		{filepath.Join(Checkpoints(d), CheckpointName(1200), CheckpointStateFile), j("checkpoints", "step-000000001200", "trainer.safetensors")},
		{PriorModel(d), j("prior", "prior.safetensors")},
		{PriorLatents(d), j("prior", "latents.bin")},
		{Run(d, "20250102T150405Z"), j("runs", "run-20250102T150405Z.json")},
		{RunGlob(d), j("runs", "run-*.json")},
		{Exports(d, "a.wav"), j("exports", "a.wav")},
		{Plots(d), j("exports", "plots")},
		{DemoClip(d), j("exports", "demo-clip.wav")},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
	if step, ok := CheckpointStep(CheckpointName(1200)); !ok || step != 1200 {
		t.Errorf("CheckpointStep(%q) = %d, %v; want 1200, true", CheckpointName(1200), step, ok)
	}
	if _, ok := CheckpointStep(CheckpointName(7) + "x"); ok {
		t.Error("CheckpointStep accepts a name with trailing text")
	}
	if !IsCheckpointName(CheckpointName(7)) || IsCheckpointName(".tmp-step-000000000007") {
		t.Error("IsCheckpointName does not tell checkpoint folders from others")
	}
}
