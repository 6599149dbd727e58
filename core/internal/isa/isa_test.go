package isa

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Path
		wantErr string
	}{
		{in: "generic", want: Generic},
		{in: " Generic ", want: Generic},
		{in: "sse9", wantErr: "unknown kernel path"},
		{in: "", wantErr: "unknown kernel path"},
	} {
		got, err := Parse(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, p := range Known {
		_, err := Parse(string(p))
		if Has(p) != (err == nil) {
			t.Errorf("Parse(%q) error %v, but Has = %v", p, err, Has(p))
		}
		if err != nil && !strings.Contains(err.Error(), "paths available here: generic") {
			t.Errorf("Parse(%q) error %q does not list the available paths", p, err)
		}
	}
}

func TestSupportedOrder(t *testing.T) {
	s := Supported()
	if len(s) == 0 || s[0] != Generic {
		t.Fatalf("Supported() = %v, want generic first", s)
	}
	if Best() != s[len(s)-1] {
		t.Fatalf("Best() = %q, want the last of %v", Best(), s)
	}
}

func TestUseCallsHooks(t *testing.T) {
	var seen []Path
	Register(func(p Path) { seen = append(seen, p) })
	start := Current()
	if len(seen) != 1 || seen[0] != start {
		t.Fatalf("Register called the hook with %v, want [%s]", seen, start)
	}
	restore, err := Use(Generic)
	if err != nil {
		t.Fatal(err)
	}
	if Current() != Generic || seen[len(seen)-1] != Generic {
		t.Fatalf("after Use(generic): current %s, hooks saw %v", Current(), seen)
	}
	restore()
	if Current() != start || seen[len(seen)-1] != start {
		t.Fatalf("after restore: current %s, hooks saw %v; want %s", Current(), seen, start)
	}
	for _, p := range Known {
		if Has(p) {
			continue
		}
		before := len(seen)
		if _, err := Use(p); err == nil || !strings.Contains(err.Error(), "cannot run") {
			t.Errorf("Use(%s) on a CPU without it: error %v", p, err)
		}
		if len(seen) != before || Current() != start {
			t.Errorf("a refused Use(%s) changed the path", p)
		}
	}
}

func TestDescribeNamesCPU(t *testing.T) {
	d := Describe()
	if !strings.HasPrefix(d, string(Current())+" (") || !strings.Contains(d, "available: generic") {
		t.Fatalf("Describe() = %q", d)
	}
	t.Log(d)
}
