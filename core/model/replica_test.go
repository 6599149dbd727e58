package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ravestation/rave/core"
)

// TestReplica checks that a replica computes what its source does, shares
// its weights, keeps its own gradients and BatchNorm statistics, and takes
// the source's statistics again with SyncBuffers.
func TestReplica(t *testing.T) {
	cfg, err := Preset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	m.AddDiscriminator(rand.New(rand.NewPCG(4, 4)))
	r, err := m.Replica()
	if err != nil {
		t.Fatal(err)
	}
	n := 32768 // the 2048-point distance needs bands longer than 1024 samples
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(float64(i)*0.05))
	}
	loss := func(mm *Model) (float64, []float32) {
		tp := core.NewTape()
		mm.Encoder.Training = true
		l, _ := mm.Stage1DetLoss(tp, core.New(append([]float32(nil), x...), 1, 1, n))
		mm.Enc.ZeroGrad()
		mm.Dec.ZeroGrad()
		tp.Backward(l)
		return float64(l.Item()), mm.Dec.Grad()
	}
	lm, gm := loss(m)
	lr, gr := loss(r)
	if lm != lr {
		t.Fatalf("loss %v on the source, %v on the replica", lm, lr)
	}
	if &gm[0] == &gr[0] {
		t.Fatal("replica shares the gradient slab")
	}
	for i := range gm {
		if gm[i] != gr[i] {
			t.Fatalf("decoder gradient %d: %v vs %v", i, gm[i], gr[i])
		}
	}
	// Weights are shared: an update of the source changes the replica.
	m.Dec.Data()[0] += 1
	m.ParamsChanged()
	r.ParamsChanged()
	if r.Dec.Data()[0] != m.Dec.Data()[0] || r.Disc.Data()[5] != m.Disc.Data()[5] {
		t.Error("replica does not see the source's weights")
	}
	// Both forward passes in training mode moved their own statistics the
	// same way; move the source's again and sync.
	name := m.Encoder.bns[0].mean.Name
	loss(m)
	if m.Buffer(name).Data()[0] == r.Buffer(name).Data()[0] {
		t.Fatalf("%s: replica's statistics moved with the source's", name)
	}
	r.SyncBuffers(m)
	for i, b := range m.Buffers() {
		rb := r.Buffers()[i]
		for j := range b.Data() {
			if math.Float32bits(b.Data()[j]) != math.Float32bits(rb.Data()[j]) {
				t.Fatalf("buffer %s[%d] after SyncBuffers: %v vs %v", b.Name, j, rb.Data()[j], b.Data()[j])
			}
		}
	}
}
