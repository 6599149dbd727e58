package interop

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/modelv2"
)

// FuzzRunConfig feeds arbitrary text to the config.gin reader of ImportV2
// (gin.Parse, then the bindings applied to the v2-small configuration).
// It must return a configuration or a one-line error prefixed with the
// file's name or "config.gin", never panic or hang, and a configuration
// it returns is only used after Validate and the size check of importV2,
// which must not allocate by it either. The seeds are small configs of
// the reference's shapes and, when present, the fixture run's config.gin.
//
//	go test -run '^$' -fuzz FuzzRunConfig -fuzztime 30s ./core/interop/
func FuzzRunConfig(f *testing.F) {
	fixtures.AddSeeds(f, filepath.Join("rave-v2-small", "ts", "run_config.gin"),
		"CAPACITY = 8\nvariational/blocks.EncoderV2.capacity = %CAPACITY\nblocks.GeneratorV2.capacity = %CAPACITY\n",
		"blocks.GeneratorV2:\n    noise_module = @blocks.NoiseGeneratorV2\nblocks.NoiseGeneratorV2:\n    hidden_size = 128\n    ratios = [2, 2, 2]\n    noise_bands = 5\n",
		"convs.get_padding.mode = 'causal'\nmodel.RAVE.weights = {'feature_matching': 20}\nperiods/discriminator.ConvNet.kernel_size = (5, 1)\n",
		"discriminator.MultiPeriodDiscriminator.convnet = @p/discriminator.ConvNet\np/discriminator.ConvNet.stride = 2\ndataset.get_dataset.n = 1\n",
		"RATIOS = [4, 2]\nDIL = [[1], [1, 3]]\nblocks.EncoderV2.ratios = %RATIOS\nblocks.EncoderV2.dilations = %DIL\n",
	)
	base, err := modelv2.Preset("v2-small")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan error, 1)
		go func() {
			g, err := parseRunConfig(data, "run/config.gin")
			if err == nil {
				var c modelv2.Config
				c, _, err = g.apply(base, v2Assumptions())
				if err == nil && c.Validate() == nil {
					v2ParamValues(c)
				}
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "config.gin")) {
				t.Fatalf("error not one line naming config.gin: %q", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("reading %d bytes of config.gin has not returned after 5s", len(data))
		}
	})
}
