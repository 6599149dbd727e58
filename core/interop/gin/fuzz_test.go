package gin_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ravestation/rave/core/internal/fixtures"
	"github.com/ravestation/rave/core/interop/gin"
)

// fuzzLimit is the time one input may take before the fuzz target calls
// it a hang (generous: fuzz workers share the machine).
const fuzzLimit = 5 * time.Second

// FuzzParse feeds arbitrary text to Parse and resolves every binding and
// macro of what it accepts. Neither may panic or hang, errors are one
// line prefixed "gin: ", and an accepted file formats and parses back.
// The seeds are the reference's configs (v2, noise, causal, blocks) and,
// when present, the fixture run's operative config.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s ./core/interop/gin/
func FuzzParse(f *testing.F) {
	fixtures.AddSeeds(f, filepath.Join("rave-v2-small", "ts", "run_config.gin"),
		"CAPACITY = 8\nblocks.EncoderV2.capacity = %CAPACITY\n",
		"from __gin__ import dynamic_registration\nimport cached_conv as cc\ncc.get_padding.mode = \"causal\"\n",
		"blocks.GeneratorV2:\n    noise_module = @blocks.NoiseGeneratorV2\n\nblocks.NoiseGeneratorV2:\n    hidden_size = 128\n    ratios = [2, 2, 2]\n",
		"discriminator.CombineDiscriminators.discriminators = \\\n    [@discriminator.MultiPeriodDiscriminator,\n     @discriminator.MultiScaleDiscriminator]\n",
		"model.RAVE.weights = {'feature_matching': 20}\nperiods/discriminator.ConvNet.kernel_size = (5, 1)\nx.y.z = -1e-07\n",
		"A = %B\nB = %A\nm.C.p = [%A, '''t\n''', 0x1f, None, True]\n",
		"include 'configs/v1.gin'\nRAVE:\n    valid_signal_crop = True\n",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan error, 1)
		go func() {
			file, err := gin.Parse(data)
			if err != nil {
				done <- err
				return
			}
			for _, b := range file.Bindings {
				v, err := file.Resolve(b.Value)
				if err != nil {
					continue
				}
				// What was read formats to text that reads back.
				if _, err := gin.Parse([]byte("m.C.p = " + gin.Format(v) + "\n")); err != nil {
					t.Errorf("%s = %s: formatted value does not parse: %v", b.Key(), gin.Format(v), err)
				}
			}
			for _, m := range file.Macros {
				file.Resolve(m)
			}
			done <- nil
		}()
		select {
		case err := <-done:
			if err != nil && (strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "gin: ")) {
				t.Fatalf("error not one line prefixed \"gin: \": %q", err)
			}
		case <-time.After(fuzzLimit):
			t.Fatalf("parsing %d bytes has not returned after %v", len(data), fuzzLimit)
		}
	})
}
