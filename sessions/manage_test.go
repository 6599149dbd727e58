package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/train"
)

func TestSummaryStates(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	s, err := Create("states")
	if err != nil {
		t.Fatal(err)
	}
	touch := func(elem ...string) {
		t.Helper()
		p := s.Path(elem...)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	status := func(state string, stage train.Stage) {
		t.Helper()
		if err := train.WriteStatus(s.Path(layout.StatusFile), train.Status{State: state, Stage: stage, Step: 5}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		do   func()
		want State
	}{
		{func() {}, StateEmpty},
		{func() { touch(layout.DatasetBinFile) }, StatePreprocessed},
		{func() { touch(layout.CheckpointDir, "step-000000000100", layout.CheckpointModelFile) }, StateTraining},
		{func() { status("stopped", train.StageAdversarial) }, StateStage2},
		{func() { touch(layout.ModelFile); status("done", train.StageAdversarial) }, StateTrained},
	}
	for i, st := range steps {
		st.do()
		if got := s.Summary(); got.State != st.want {
			t.Errorf("step %d: State = %q, want %q (%+v)", i, got.State, st.want, got)
		}
	}
	if sum := s.Summary(); sum.Checkpoints != 1 || !sum.HasModel || !sum.HasDataset || sum.Status == nil || sum.Running {
		t.Errorf("Summary = %+v", sum)
	}
}

func TestListRenameDelete(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	if names, err := List(); err != nil || len(names) != 0 {
		t.Fatalf("List of a fresh home = %v, %v", names, err)
	}
	for _, n := range []string{"violin", "cello"} {
		if _, err := Create(n); err != nil {
			t.Fatal(err)
		}
	}
	root, _ := Root()
	os.MkdirAll(filepath.Join(root, "not-a-session"), 0o755)
	if names, _ := List(); !slices.Equal(names, []string{"cello", "violin"}) {
		t.Fatalf("List = %v, want [cello violin]", names)
	}
	if err := Rename("cello", "viola"); err != nil {
		t.Fatal(err)
	}
	s, err := Open("viola")
	if err != nil || s.Manifest.Name != "viola" {
		t.Fatalf("Open after rename = %+v, %v", s, err)
	}
	if err := Rename("viola", "violin"); !errors.Is(err, ErrExists) {
		t.Errorf("Rename onto an existing session = %v, want ErrExists", err)
	}
	if err := Rename("viola", "../escape"); err == nil {
		t.Error("Rename to ../escape: no error")
	}
	if err := Delete("viola"); err != nil {
		t.Fatal(err)
	}
	if names, _ := List(); !slices.Equal(names, []string{"violin"}) {
		t.Errorf("List after delete = %v", names)
	}
	if err := Delete("viola"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete of a deleted session = %v, want ErrNotFound", err)
	}
}

func TestFidelityFile(t *testing.T) {
	t.Setenv(HomeEnv, t.TempDir())
	s, _ := Create("fid")
	if _, err := s.ReadFidelity(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFidelity before any = %v, want ErrNotExist", err)
	}
	want := Fidelity{Fidelity: 0.95, Dims: 7, Rule: "exact", Bits: 8, KbitPerSec: 1.3}
	if err := s.SaveFidelity(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadFidelity()
	if err != nil || got.Dims != 7 || got.Rule != "exact" || got.Chosen.IsZero() {
		t.Errorf("ReadFidelity = %+v, %v", got, err)
	}
}
