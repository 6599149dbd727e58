package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/modelv2"
	"github.com/ravestation/rave/core/stream"
)

// RunV2 is Run for a RAVE v2 configuration (core/modelv2): encode, the
// posterior mean and decode, tape-free. v2 infers in float32 only; another
// precision is an error.
func RunV2(cfg modelv2.Config, seconds float64, prec model.Precision) (Result, error) {
	if seconds <= 0 {
		return Result{}, fmt.Errorf("bench: %g seconds", seconds)
	}
	if prec != model.Float32 {
		return Result{}, errors.New("bench: v2 inference is float32 only")
	}
	m, err := modelv2.New(cfg, false)
	if err != nil {
		return Result{}, err
	}
	rng := rand.New(rand.NewPCG(1, 1))
	m.Init(rng)
	res := Result{Preset: cfg.Preset, Seconds: seconds, Threads: runtime.GOMAXPROCS(0), Precision: prec.String()}
	res.EncoderParams, res.DecoderParams, _ = m.ParamCount()
	res.DiscriminatorParams = modelv2.DiscriminatorParamCount(cfg)

	timeCodec(&res, seconds, cfg.SampleRate, cfg.CompressionRatio(), rng,
		func(x *core.Tensor) *core.Tensor { mean, _, _ := modelv2.Posterior(nil, m.Encode(nil, x)); return mean },
		func(z *core.Tensor) { m.Decode(nil, z, nil) })
	return res, nil
}

// StreamV2 is StreamWith for a RAVE v2 configuration: a randomly
// initialised model streamed by stream.V2.
func StreamV2(cfg modelv2.Config, bufferSizes []int, seconds float64, opts stream.Options) ([]StreamResult, error) {
	m, err := modelv2.New(cfg, false)
	if err != nil {
		return nil, err
	}
	m.Init(rand.New(rand.NewPCG(1, 1)))
	return StreamModelV2(m, bufferSizes, seconds, opts)
}

// StreamModelV2 is StreamModel for the v2 model m.
func StreamModelV2(m *modelv2.Model, bufferSizes []int, seconds float64, opts stream.Options) ([]StreamResult, error) {
	cfg := m.Config
	return streamSizes(cfg.Preset, cfg.SampleRate, cfg.CompressionRatio(), bufferSizes, seconds, opts, asStreamer(func(o stream.Options) (*stream.V2, error) {
		return stream.NewV2(m, o)
	}))
}
