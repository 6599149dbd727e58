package train

import (
	"fmt"

	"github.com/ravestation/rave/core"
)

// emaSlabs are the parameter sets whose exponential moving average the
// trainer keeps: the decoder's. The encoder keeps its trained weights: its
// batch-norm statistics are those of the trained weights, and an averaged
// encoder normalised with them puts its latents off the scale the decoder
// knows (on the piano set at step 7 000: output 34–37 dB too quiet, against
// 6–8 dB with the trained encoder and the averaged decoder, whose pitch
// agreement was 83 % and 61 % against the trained decoder's 73 % and
// 66 %). The discriminator is a training device, never exported.
var emaSlabs = []string{"dec"}

// emaDecay returns the decay of the moving average at step: Config.EMA,
// or less during the first steps, (1 + step)/(10 + step), so that the
// average does not drag the untrained start along (the warm-up of
// TensorFlow's ExponentialMovingAverage with num_updates).
func (c Config) emaDecay(step int64) float32 {
	return float32(min(c.EMA, float64(1+step)/float64(10+step)))
}

// EMAOn reports whether the run keeps a moving average of the weights.
func (c Config) EMAOn() bool { return c.EMA > 0 && c.EMA < 1 }

// emaState is the moving average of the generator's weights, and the
// scratch that holds the trained weights while the average stands in.
type emaState struct {
	avg, held map[string][]float32
	swapped   bool
}

// newEMA starts the moving average at the model's current weights.
func (t *trainer) newEMA() {
	if !t.cfg.EMAOn() {
		t.ema = nil
		return
	}
	t.ema = &emaState{avg: map[string][]float32{}, held: map[string][]float32{}}
	for _, name := range emaSlabs {
		d := slab(t.m, name).Data()
		t.ema.avg[name] = append([]float32(nil), d...)
		t.ema.held[name] = make([]float32, len(d))
	}
}

// updateEMA moves the average towards the weights of the step just taken:
// avg ← d·avg + (1 − d)·w for the slabs the step updated.
func (t *trainer) updateEMA(step int64, slabs []string) {
	if t.ema == nil {
		return
	}
	d := t.cfg.emaDecay(step)
	for _, name := range slabs {
		avg, ok := t.ema.avg[name]
		if !ok {
			continue
		}
		emaUpdate(avg, slab(t.m, name).Data(), d)
	}
}

// withAverage runs f with the moving average in place of the trained
// weights (validation, the model files), then puts the trained weights
// back; without a moving average it just runs f.
func (t *trainer) withAverage(f func() error) error {
	if t.ema == nil || t.ema.swapped {
		return f()
	}
	t.swap()
	defer t.swap()
	return f()
}

// swap exchanges the trained weights and the moving average in place, so
// that the replicas sharing the model's slabs see the change too.
func (t *trainer) swap() {
	for _, name := range emaSlabs {
		d := slab(t.m, name).Data()
		held, avg := t.ema.held[name], t.ema.avg[name]
		if !t.ema.swapped {
			copy(held, d)
			copy(d, avg)
		} else {
			copy(avg, d)
			copy(d, held)
		}
	}
	t.ema.swapped = !t.ema.swapped
	t.m.ParamsChanged()
	for _, r := range t.reps {
		r.m.ParamsChanged()
	}
}

// emaTensors returns the trained weights of the averaged slabs as tensors
// named "trained.<slab>" for the trainer-state file, while the model file
// holds the average.
func (t *trainer) emaTensors() []*core.Tensor {
	if t.ema == nil {
		return nil
	}
	var out []*core.Tensor
	for _, name := range emaSlabs {
		d := t.ema.held[name]
		if !t.ema.swapped {
			d = slab(t.m, name).Data()
		}
		x := core.New(append([]float32(nil), d...), len(d))
		x.Name = "trained." + name
		out = append(out, x)
	}
	return out
}

// restoreEMA takes the checkpoint's model weights as the moving average
// and puts the trained weights of st in the model: the state a run
// stopped in.
func (t *trainer) restoreEMA(st *core.TensorFile) error {
	t.ema = nil
	if !t.cfg.EMAOn() {
		return nil
	}
	t.newEMA()
	for _, name := range emaSlabs {
		src, err := st.Tensor("trained." + name)
		if err != nil {
			return fmt.Errorf("the run keeps a moving average but the trainer state has no trained weights: %w", err)
		}
		d := slab(t.m, name).Data()
		if src.Len() != len(d) {
			return fmt.Errorf("trained.%s has %d values, the model %d", name, src.Len(), len(d))
		}
		copy(d, src.Data())
	}
	t.m.ParamsChanged()
	return nil
}

// emaUpdate sets avg ← d·avg + (1 − d)·w.
func emaUpdate(avg, w []float32, d float32) {
	a := 1 - d
	w = w[:len(avg)]
	for i, v := range w {
		avg[i] += a * (v - avg[i])
	}
}
