package train

import (
	"fmt"
	"strconv"

	"github.com/ravestation/rave/core"
)

// Trainer-state files (the RAVE trainer's and the prior's) share these
// helpers: an Adam optimiser is stored as two tensors, prefix.m and
// prefix.v, with its step count in the metadata under prefix.step.

// adamState returns the tensors holding a's moments and records its step
// count in meta.
func adamState(prefix string, a *core.Adam, meta map[string]string) []*core.Tensor {
	m := core.New(a.M, len(a.M))
	m.Name = prefix + ".m"
	v := core.New(a.V, len(a.V))
	v.Name = prefix + ".v"
	meta[prefix+".step"] = strconv.FormatInt(a.Step, 10)
	return []*core.Tensor{m, v}
}

// restoreAdam copies a's moments and step count back from st.
func restoreAdam(st *core.TensorFile, prefix string, a *core.Adam) error {
	for _, mom := range []struct {
		name string
		dst  []float32
	}{{prefix + ".m", a.M}, {prefix + ".v", a.V}} {
		src, err := st.Tensor(mom.name)
		if err != nil {
			return err
		}
		if src.Len() != len(mom.dst) {
			return fmt.Errorf("%s has %d values, the optimiser needs %d", mom.name, src.Len(), len(mom.dst))
		}
		copy(mom.dst, src.Data())
	}
	a.Step, _ = strconv.ParseInt(st.Metadata()[prefix+".step"], 10, 64)
	return nil
}

// readTrainerState reads a trainer-state file and checks that it has the
// given format and our format version.
func readTrainerState(path, format string) (*core.TensorFile, error) {
	st, err := core.ReadSafetensors(path)
	if err != nil {
		return nil, err
	}
	md := st.Metadata()
	if md["format"] != format {
		return nil, fmt.Errorf("trainer state has format %q, want %q", md["format"], format)
	}
	if md["format_version"] != CheckpointVersion {
		return nil, fmt.Errorf("trainer state is format version %s; this rave reads version %s (upgrade rave)", md["format_version"], CheckpointVersion)
	}
	return st, nil
}
