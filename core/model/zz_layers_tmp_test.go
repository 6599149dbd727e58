package model

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"time"
)

func TestTmpLayerTimes(t *testing.T) {
	if os.Getenv("TMP_LAYERS") == "" {
		t.Skip()
	}
	size := 2048
	if os.Getenv("TMP_SIZE") == "8192" {
		size = 8192
	}
	cfg, _ := Preset("v1")
	m, _ := New(cfg, rand.New(rand.NewPCG(1, 1)))
	s, err := NewStreamer(m, StreamOptions{MaxBuffer: size, Weights: WeightsInt8})
	if err != nil {
		t.Fatal(err)
	}
	x := testSignal(size, 48000, rand.New(rand.NewPCG(2, 2)))
	y := make([]float32, size)
	s.Process(y, x)
	type rec struct {
		name string
		d    time.Duration
	}
	var recs []rec
	med := func(f func()) time.Duration {
		var ds []time.Duration
		for range 200 {
			t0 := time.Now()
			f()
			ds = append(ds, time.Since(t0))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	desc := func(c *sconv, n int) string {
		kind := "sgemm"
		if c.pm != nil {
			kind = "panel"
		} else if c.bf != nil {
			kind = "bf16"
		}
		return fmt.Sprintf("conv %4d->%4d k%d s%d g%d nIn %4d nOut %4d %s", c.cin, c.cout, c.k, c.stride, c.groups, n, n/c.stride, kind)
	}
	nSub := size / 16
	in := make([]float32, 4096*2048)
	for i := range in {
		in[i] = float32(i%7) * 0.1
	}
	out := make([]float32, 4096*2048)
	T := nSub
	recs = append(recs, rec{desc(s.ana, T), med(func() { s.ana.run(out, in[:16*T], T, false) })})
	for _, c := range s.enc {
		c := c
		TT := T
		recs = append(recs, rec{desc(c, T), med(func() { c.run(out, in[:c.cin*TT], TT, false) })})
		T /= c.stride
	}
	T = size / 2048
	recs = append(recs, rec{desc(s.din, T), med(func() { s.din.run(out, in[:s.din.cin*T], T, false) })})
	for i := range s.stages {
		st := &s.stages[i]
		TT := T
		if st.upT != nil {
			u := st.upT
			kind := "panel"
			if u.bf != nil {
				kind = "bf16"
			} else if u.pm == nil {
				kind = "sgemm"
			}
			recs = append(recs, rec{fmt.Sprintf("convT %4d->%4d k%d r%d nIn %4d %s", u.cin, u.cout, u.k, u.r, TT, kind), med(func() { u.run(out, in[:u.cin*TT], TT) })})
		} else {
			recs = append(recs, rec{desc(st.up, T), med(func() { st.up.run(out, in[:st.up.cin*TT], TT, false) })})
		}
		T *= st.r
		TT = T
		for _, r := range st.res {
			r := r
			recs = append(recs, rec{desc(r.c1, T), med(func() { r.c1.run(out, in[:r.c1.cin*TT], TT, false) })})
			recs = append(recs, rec{desc(r.c2, T), med(func() { r.c2.run(out, in[:r.c2.cin*TT], TT, true) })})
		}
	}
	recs = append(recs, rec{desc(s.wave, T), med(func() { s.wave.run(out, in[:s.wave.cin*T], T, false) })})
	recs = append(recs, rec{desc(s.loud, T), med(func() { s.loud.run(out, in[:s.loud.cin*T], T, false) })})
	recs = append(recs, rec{desc(s.syn, T), med(func() { s.syn.run(out, in[:s.syn.cin*T], T, false) })})
	var tot time.Duration
	for _, r := range recs {
		fmt.Printf("%-70s %8.1f us\n", r.name, float64(r.d.Nanoseconds())/1e3)
		tot += r.d
	}
	fmt.Printf("total %8.1f us; process %v\n", float64(tot.Nanoseconds())/1e3, med(func() { s.Process(y, x) }))
}
