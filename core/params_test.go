package core

import (
	"strings"
	"testing"
)

func twoParams() *ParamSet {
	ps := NewParamSet()
	ps.Add("a", 2, 3)
	ps.Add("b", 4)
	return ps
}

func TestParamSetShareData(t *testing.T) {
	src, rep := twoParams(), twoParams()
	src.Alloc()
	rep.Alloc()
	for i := range src.Data() {
		src.Data()[i] = float32(i + 1)
	}
	if err := rep.ShareData(src); err != nil {
		t.Fatal(err)
	}
	// The replica sees the source's weights, also after an update.
	if got := rep.Get("b").Data()[0]; got != 7 {
		t.Errorf("replica b[0] = %v, want 7", got)
	}
	src.Data()[0] = 42
	if got := rep.Get("a").Data()[0]; got != 42 {
		t.Errorf("replica a[0] after an update = %v, want 42", got)
	}
	// Gradients stay separate.
	rep.Get("a").Grad()[1] = 5
	if src.Grad()[1] != 0 {
		t.Errorf("source gradient changed to %v by the replica's", src.Grad()[1])
	}

	tests := []struct {
		name string
		make func() *ParamSet
		want string
	}{
		{"other names", func() *ParamSet { ps := NewParamSet(); ps.Add("a", 2, 3); ps.Add("c", 4); ps.Alloc(); return ps }, "parameter 1"},
		{"other shape", func() *ParamSet { ps := NewParamSet(); ps.Add("a", 3, 2); ps.Add("b", 4); ps.Alloc(); return ps }, "parameter 0"},
		{"fewer", func() *ParamSet { ps := NewParamSet(); ps.Add("a", 2, 3); ps.Alloc(); return ps }, "1 parameters"},
		{"not allocated", twoParams, "before Alloc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.make().ShareData(src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
