package interop

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/ravestation/rave/core/dsp"
	"github.com/ravestation/rave/core/model"
)

// configFromHparams converts a reference hyper-parameter dict (JSON-like
// values: numbers, bools, strings, lists) to a Config: the keys present
// override base (the configuration inferred from the tensors, or the v1
// defaults).
func configFromHparams(hp map[string]any, base model.Config) (model.Config, error) {
	clean := map[string]any{}
	for k, v := range hp {
		switch v.(type) {
		case nil, bool, string, float64, float32, int, int64, []any, []int, []float64:
			clean[k] = v
		}
	}
	js, err := json.Marshal(clean)
	if err != nil {
		return model.Config{}, fmt.Errorf("hyper_parameters: %w", err)
	}
	c := base
	c.Ratios, c.NoiseRatios = nil, nil
	if err := json.Unmarshal(js, &c); err != nil {
		return model.Config{}, fmt.Errorf("hyper_parameters: %w", err)
	}
	if c.Ratios == nil {
		c.Ratios = base.Ratios
	}
	if c.NoiseRatios == nil {
		c.NoiseRatios = base.NoiseRatios
	}
	if err := c.Validate(); err != nil {
		return model.Config{}, fmt.Errorf("hyper_parameters: %w", err)
	}
	return c, nil
}

// inferConfig derives the configuration from the tensor shapes of a
// reference v1 state dict. What shapes cannot tell is taken from the v1
// defaults: the noise ratios are the integer root of target_size, the
// sample rate is recognised from the loudness A-weighting table, and
// no_latency from a 70 dB PQMF prototype.
func inferConfig(sd *stateDict) (model.Config, error) {
	c, _ := model.Preset("v1")
	c.Preset = ""
	shape := func(name string) []int {
		if t, ok := sd.tensors[name]; ok {
			return t.shape
		}
		return nil
	}
	w0 := shape("encoder.net.0.weight")
	if len(w0) != 3 {
		return c, fmt.Errorf("cannot infer the configuration: no encoder.net.0.weight (is this a RAVE v1 state dict?)")
	}
	c.Capacity, c.DataSize = w0[0], w0[1]
	_, c.Bias = sd.tensors["encoder.net.0.bias"]
	c.Ratios = nil
	for i := 0; ; i++ {
		if shape(fmt.Sprintf("encoder.net.%d.weight", 1+3*i)) == nil {
			break
		}
		w := shape(fmt.Sprintf("encoder.net.%d.weight", 3+3*i))
		if len(w) != 3 || w[2]%2 != 1 {
			return c, fmt.Errorf("cannot infer the encoder ratios: encoder.net.%d.weight has shape %v", 3+3*i, w)
		}
		c.Ratios = append(c.Ratios, (w[2]-1)/2)
	}
	if len(c.Ratios) == 0 {
		return c, fmt.Errorf("cannot infer the encoder ratios: no BatchNorm at encoder.net.1")
	}
	v0 := shape("decoder.net.0.weight_v")
	if v0 == nil {
		v0 = shape("decoder.net.0.weight")
	}
	if len(v0) != 3 {
		return c, fmt.Errorf("cannot infer latent_size: no decoder.net.0.weight_v")
	}
	c.LatentSize = v0[1]
	if out := shape(fmt.Sprintf("encoder.net.%d.weight", 3*len(c.Ratios)+2)); len(out) == 3 && out[0]/2 != c.LatentSize {
		c.CroppedLatentSize = out[0] / 2
	}
	if l := shape("decoder.synth.branches.1.weight_v"); len(l) == 3 {
		c.LoudStride = (l[2] - 1) / 2
	}
	c.UseNoise = shape("decoder.synth.branches.2.net.0.weight") != nil
	if c.UseNoise {
		n := 0
		for shape(fmt.Sprintf("decoder.synth.branches.2.net.%d.weight", 2*n)) != nil {
			n++
		}
		last := shape(fmt.Sprintf("decoder.synth.branches.2.net.%d.weight", 2*(n-1)))
		c.NoiseBands = last[0] / c.DataSize
		target := 64
		if t, ok := sd.tensors["decoder.synth.branches.2.target_size"]; ok && len(t.data) == 1 {
			target = int(t.data[0])
		}
		r := int(math.Round(math.Pow(float64(target), 1/float64(n))))
		p := 1
		for range n {
			p *= r
		}
		if p != target {
			return c, fmt.Errorf("cannot infer noise_ratios: target_size %d is not a %d-th power; import with hyper-parameters", target, n)
		}
		c.NoiseRatios = make([]int, n)
		for i := range c.NoiseRatios {
			c.NoiseRatios[i] = r
		}
	}
	if err := inferDiscConfig(sd, &c); err != nil {
		return c, err
	}
	if h := shape("pqmf.h"); len(h) == 1 {
		n70, _ := model.PQMFSizes(c.DataSize, 70)
		n100, _ := model.PQMFSizes(c.DataSize, 100)
		if h[0] == n70 && n70 != n100 {
			c.NoLatency = true
		}
	}
	if a, ok := sd.tensors["loudness.a_weight"]; ok {
		c.SR = guessSampleRate(a.data, c.SR)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("inferred configuration: %w", err)
	}
	return c, nil
}

// inferDiscConfig sets d_capacity, d_n_layers and d_multiplier from the
// discriminator tensors of sd, if it has any.
func inferDiscConfig(sd *stateDict, c *model.Config) error {
	shape := func(layer int, suffix string) []int {
		p := fmt.Sprintf("discriminator.discriminators.0.net.%d.", layer)
		if t, ok := sd.tensors[p+suffix+"_v"]; ok {
			return t.shape
		}
		if t, ok := sd.tensors[p+suffix]; ok {
			return t.shape
		}
		return nil
	}
	d := shape(0, "weight")
	if d == nil {
		return nil
	}
	c.DCapacity = d[0]
	n := 0
	for shape(2*(n+1), "weight") != nil {
		n++
	}
	c.DNLayers = n - 2
	d2 := shape(2, "weight")
	if c.DNLayers < 1 || len(d2) != 3 {
		return fmt.Errorf("cannot infer the discriminator layout")
	}
	c.DMultiplier = d2[0] / c.DCapacity
	return nil
}

// guessSampleRate returns the common sample rate whose A-weighting table
// matches table (the loudness.a_weight buffer), or def.
func guessSampleRate(table []float32, def int) int {
	best, bestErr := def, math.Inf(1)
	for _, sr := range []int{48000, 44100, 32000, 24000, 22050, 16000, 96000, 88200} {
		ref := dsp.LoudnessAWeight(float64(sr), 2*(len(table)-1))
		var e float64
		for i, v := range table {
			e = max(e, math.Abs(float64(v-ref[i])))
		}
		if e < bestErr {
			best, bestErr = sr, e
		}
	}
	if bestErr > 1e-2 {
		return def
	}
	return best
}
