package interop

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/ravestation/rave/core/interop/gin"
	"github.com/ravestation/rave/core/modelv2"
)

// The configurables of a v2.3.1 run's config.gin that this importer
// reads, with the module paths they may be spelled with (gin accepts any
// suffix of the full path; cc and nn are the reference's import aliases).
var ginConfigurables = []struct {
	name    string // the name the rules below use
	class   string
	modules []string
}{
	{"RAVE", "RAVE", []string{"rave.model"}},
	{"BetaWarmupCallback", "BetaWarmupCallback", []string{"rave.model"}},
	{"CachedPQMF", "CachedPQMF", []string{"rave.pqmf"}},
	{"VariationalEncoder", "VariationalEncoder", []string{"rave.blocks"}},
	{"EncoderV2", "EncoderV2", []string{"rave.blocks"}},
	{"GeneratorV2", "GeneratorV2", []string{"rave.blocks"}},
	{"NoiseGeneratorV2", "NoiseGeneratorV2", []string{"rave.blocks"}},
	{"normalization", "normalization", []string{"rave.blocks"}},
	{"CombineDiscriminators", "CombineDiscriminators", []string{"rave.discriminator"}},
	{"MultiPeriodDiscriminator", "MultiPeriodDiscriminator", []string{"rave.discriminator"}},
	{"MultiScaleDiscriminator", "MultiScaleDiscriminator", []string{"rave.discriminator"}},
	{"ConvNet", "ConvNet", []string{"rave.discriminator"}},
	{"AudioDistanceV1", "AudioDistanceV1", []string{"rave.core"}},
	{"MultiScaleSTFT", "MultiScaleSTFT", []string{"rave.core"}},
	{"get_augmented_latent_size", "get_augmented_latent_size", []string{"rave.core"}},
	{"mean_difference", "mean_difference", []string{"rave.core"}},
	{"hinge_gan", "hinge_gan", []string{"rave.core"}},
	{"get_padding", "get_padding", []string{"cached_conv.convs", "cached_conv"}},
	{"cc.Conv1d", "Conv1d", []string{"cached_conv.convs", "cached_conv"}},
	{"cc.ConvTranspose1d", "ConvTranspose1d", []string{"cached_conv.convs", "cached_conv"}},
	{"torch.Conv1d", "Conv1d", []string{"torch.nn.modules.conv", "torch.nn"}},
	{"torch.Conv2d", "Conv2d", []string{"torch.nn.modules.conv", "torch.nn"}},
}

// ginNeutralModules are the modules whose configurables do not shape the
// model (data loading and augmentation); their bindings are listed as
// ignored.
var ginNeutralModules = []string{"dataset", "transforms", "augmentations", "udls"}

// ginRule says what a parameter of a configurable means: apply sets the
// configuration from it, want lists the only values the model can follow
// (as gin.Format writes them), and a rule with neither is a parameter
// that does not change the model (one the caller always passes, a device).
type ginRule struct {
	apply func(g *ginConfig, b ginBinding) error
	want  []string
}

// ginBinding is a binding of a known configurable, its value resolved.
type ginBinding struct {
	gin.Binding
	name  string // the configurable's name in ginConfigurables
	value gin.Value
}

// where names the binding in an error: "config.gin line 12:
// blocks.EncoderV2.capacity = 8".
func (b ginBinding) where() string {
	return fmt.Sprintf("%s line %d: %s = %s", RunConfigName, b.Line, b.Key(), gin.Format(b.value))
}

// ginConfig is a run's config.gin read for a v2 import.
type ginConfig struct {
	path     string
	bindings []ginBinding
	ignored  []string
	// The configuration being built, and which binding set each field.
	c     modelv2.Config
	setBy map[string]ginBinding
}

// readRunConfig reads and checks a config.gin: every binding must belong
// to a configurable this importer knows (or to the data pipeline), and
// every macro it uses must be defined.
func readRunConfig(path string) (*ginConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxGinBytes+1))
	if err != nil {
		return nil, err
	}
	return parseRunConfig(src, path)
}

// parseRunConfig is readRunConfig of the text src of the file path.
func parseRunConfig(src []byte, path string) (*ginConfig, error) {
	gf, err := gin.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(gf.Includes) > 0 {
		return nil, fmt.Errorf("%s includes %q, which rave does not read (a run's %s holds every binding)", path, gf.Includes[0], RunConfigName)
	}
	g := &ginConfig{path: path}
	for _, b := range gf.Bindings {
		name, neutral := ginClassify(b.Configurable)
		if neutral {
			g.ignored = append(g.ignored, b.Key())
			continue
		}
		v, err := gf.Resolve(b.Value)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %s: %w", RunConfigName, b.Line, b.Key(), err)
		}
		gb := ginBinding{Binding: b, name: name, value: v}
		if name == "" {
			return nil, fmt.Errorf("%s: rave does not know %s, which may change the model", gb.where(), b.Configurable)
		}
		if _, ok := ginRules[name][b.Param]; !ok {
			return nil, fmt.Errorf("%s: rave does not know this parameter of %s, which may change the model", gb.where(), b.Configurable)
		}
		// A later binding of the same parameter (in any spelling of the
		// configurable) overrides an earlier one.
		g.bindings = slices.DeleteFunc(g.bindings, func(o ginBinding) bool {
			return o.Scope == b.Scope && o.name == name && o.Param == b.Param
		})
		g.bindings = append(g.bindings, gb)
	}
	return g, nil
}

// ginClassify returns the name in ginConfigurables of a configurable as
// written in a binding, "" if unknown, or neutral for the data pipeline's.
func ginClassify(configurable string) (name string, neutral bool) {
	parts := strings.Split(configurable, ".")
	switch parts[0] {
	case "cc":
		parts = append([]string{"cached_conv"}, parts[1:]...)
	case "nn":
		parts = append([]string{"torch", "nn"}, parts[1:]...)
	}
	class, mod := parts[len(parts)-1], parts[:len(parts)-1]
	for _, m := range mod {
		if slices.Contains(ginNeutralModules, m) {
			return "", true
		}
	}
	for _, k := range ginConfigurables {
		if k.class != class {
			continue
		}
		for _, full := range k.modules {
			fp := strings.Split(full, ".")
			if len(mod) <= len(fp) && slices.Equal(fp[len(fp)-len(mod):], mod) {
				return k.name, false
			}
		}
	}
	return "", false
}

// apply sets the fields of c that config.gin binds, checks the bindings
// the model cannot follow, and returns the configuration and the
// assumptions left.
func (g *ginConfig) apply(c modelv2.Config, assumed map[string]string) (modelv2.Config, map[string]string, error) {
	g.c, g.setBy = c, map[string]ginBinding{}
	// Requirements first, so that another class is refused by name before
	// its parameters are read as ours.
	for _, b := range g.bindings {
		r := ginRules[b.name][b.Param]
		if r.want != nil && !slices.Contains(r.want, canonical(b.value)) {
			return c, nil, fmt.Errorf("%s: not supported (rave builds %s)", b.where(), strings.Join(r.want, " or "))
		}
	}
	for _, b := range g.bindings {
		if r := ginRules[b.name][b.Param]; r.apply != nil {
			if err := r.apply(g, b); err != nil {
				return c, nil, err
			}
		}
	}
	if err := g.noise(); err != nil {
		return c, nil, err
	}
	if err := g.discriminatorScopes(); err != nil {
		return c, nil, err
	}
	out := map[string]string{}
	for k, v := range assumed {
		if _, ok := g.setBy[k]; !ok {
			out[k] = v
		}
	}
	return g.c, out, nil
}

// set records that b sets field, refusing a value that disagrees with an
// earlier binding of the same field.
func (g *ginConfig) set(field string, b ginBinding, same bool) error {
	if prev, ok := g.setBy[field]; ok && !same {
		return fmt.Errorf("%s: disagrees with %s", b.where(), prev.where())
	}
	g.setBy[field] = b
	return nil
}

func (g *ginConfig) setInt(field string, dst *int, b ginBinding, min int) error {
	n, ok := gin.Int(b.value)
	if !ok || n < min || n > 1<<30 {
		return fmt.Errorf("%s: want an integer ≥ %d", b.where(), min)
	}
	if err := g.set(field, b, *dst == n); err != nil {
		return err
	}
	*dst = n
	return nil
}

func (g *ginConfig) setInts(field string, dst *[]int, b ginBinding) error {
	xs, ok := gin.Ints(b.value)
	if !ok || len(xs) == 0 || len(xs) > 64 {
		return fmt.Errorf("%s: want a list of integers", b.where())
	}
	if err := g.set(field, b, slices.Equal(*dst, xs)); err != nil {
		return err
	}
	*dst = xs
	return nil
}

func (g *ginConfig) setFloat(field string, dst *float64, b ginBinding) error {
	x, ok := gin.Float(b.value)
	if !ok {
		return fmt.Errorf("%s: want a number", b.where())
	}
	if err := g.set(field, b, *dst == x); err != nil {
		return err
	}
	*dst = x
	return nil
}

func (g *ginConfig) setBool(field string, dst *bool, b ginBinding) error {
	x, ok := b.value.(bool)
	if !ok {
		return fmt.Errorf("%s: want True or False", b.where())
	}
	if err := g.set(field, b, *dst == x); err != nil {
		return err
	}
	*dst = x
	return nil
}

// refClass returns the class of an @reference ("ConvNet" for
// @periods/discriminator.ConvNet) and its scope.
func refClass(v gin.Value) (class, scope string, ok bool) {
	r, ok := v.(gin.Ref)
	if !ok {
		return "", "", false
	}
	name := r.Name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		scope, name = name[:i], name[i+1:]
	}
	return name[strings.LastIndexByte(name, '.')+1:], scope, true
}

// wantRef accepts a reference to one of classes (not evaluated), in any
// scope and module spelling.
func wantRef(classes ...string) []string {
	var out []string
	for _, c := range classes {
		out = append(out, "@"+c)
	}
	return out
}

// canonical formats v as the rules' want lists spell values: references
// by their class alone ("@VariationalEncoder" for
// @rave.blocks.VariationalEncoder), so that any spelling gin accepts
// matches.
func canonical(v gin.Value) string {
	return gin.Format(canonicalRefs(v, 0))
}

func canonicalRefs(v gin.Value, depth int) gin.Value {
	if depth > gin.MaxDepth {
		return v
	}
	switch x := v.(type) {
	case gin.Ref:
		class, _, _ := refClass(x)
		return gin.Ref{Name: class, Evaluate: x.Evaluate}
	case gin.List:
		out := make(gin.List, len(x))
		for i, e := range x {
			out[i] = canonicalRefs(e, depth+1)
		}
		return out
	case gin.Tuple:
		out := make(gin.Tuple, len(x))
		for i, e := range x {
			out[i] = canonicalRefs(e, depth+1)
		}
		return out
	}
	return v
}

func (g *ginConfig) dilations(b ginBinding) error {
	l, ok := b.value.(gin.List)
	if !ok || len(l) == 0 || len(l) > 64 {
		return fmt.Errorf("%s: want a list of lists of dilations", b.where())
	}
	ds := make([][]int, len(l))
	for i, x := range l {
		if ds[i], ok = gin.Ints(x); !ok || len(ds[i]) > 64 {
			return fmt.Errorf("%s: want a list of lists of dilations", b.where())
		}
	}
	same := len(ds) == len(g.c.Dilations) && slices.EqualFunc(ds, g.c.Dilations, func(a, b []int) bool { return slices.Equal(a, b) })
	if err := g.set(assumeDilations, b, same); err != nil {
		return err
	}
	g.c.Dilations = ds
	return nil
}

// latentSize reads GeneratorV2.latent_size: a number, or
// @core.get_augmented_latent_size() (latent_size + noise_augmentation,
// the latter required to be 0 by its own rule).
func (g *ginConfig) latentSize(b ginBinding) error {
	if class, _, ok := refClass(b.value); ok {
		if r := b.value.(gin.Ref); class != "get_augmented_latent_size" || !r.Evaluate {
			return fmt.Errorf("%s: not supported (rave builds @core.get_augmented_latent_size() or a number)", b.where())
		}
		return nil
	}
	return g.setInt("latent_size", &g.c.LatentSize, b, 1)
}

// noise builds the noise generator from GeneratorV2.noise_module and
// NoiseGeneratorV2's bindings.
func (g *ginConfig) noise() error {
	var module *ginBinding
	for i, b := range g.bindings {
		if b.name == "GeneratorV2" && b.Param == "noise_module" {
			module = &g.bindings[i]
		}
	}
	if module == nil {
		return nil // not bound: as the tensors say
	}
	g.setBy["noise"] = *module
	if module.value == nil {
		g.c.Noise = nil
		return nil
	}
	n := &modelv2.NoiseConfig{}
	var have []string
	for _, b := range g.bindings {
		if b.name != "NoiseGeneratorV2" {
			continue
		}
		var err error
		switch b.Param {
		case "hidden_size":
			err = g.setInt("noise.hidden_size", &n.HiddenSize, b, 1)
		case "ratios":
			err = g.setInts("noise.ratios", &n.Ratios, b)
		case "noise_bands":
			err = g.setInt("noise.noise_bands", &n.NoiseBands, b, 1)
		default:
			continue
		}
		if err != nil {
			return err
		}
		have = append(have, b.Param)
	}
	for _, p := range []string{"hidden_size", "ratios", "noise_bands"} {
		if !slices.Contains(have, p) {
			return fmt.Errorf("%s: but %s binds no blocks.NoiseGeneratorV2.%s (it has no default)", module.where(), RunConfigName, p)
		}
	}
	g.c.Noise = n
	return nil
}

// discriminatorScopes applies the ConvNet bindings by the scope that the
// period and scale discriminators give their ConvNet.
func (g *ginConfig) discriminatorScopes() error {
	scopes := map[string]string{"periods": "periods", "scales": "scales"} // scope → kind
	for _, b := range g.bindings {
		if b.Param != "convnet" {
			continue
		}
		_, scope, _ := refClass(b.value)
		kind := "periods"
		if b.name == "MultiScaleDiscriminator" {
			kind = "scales"
		}
		delete(scopes, kind)
		scopes[scope] = kind
	}
	d := &g.c.Discriminator
	for _, b := range g.bindings {
		if b.name != "ConvNet" {
			continue
		}
		kinds := []string{"periods", "scales"} // unscoped: both
		if b.Scope != "" {
			k, ok := scopes[b.Scope]
			if !ok {
				continue // a ConvNet that no discriminator uses
			}
			kinds = []string{k}
		}
		for _, kind := range kinds {
			var err error
			switch b.Param {
			case "capacity":
				err = g.setInt("discriminator.capacity", &d.Capacity, b, 1)
			case "n_layers":
				err = g.setInt("discriminator.n_layers", &d.Layers, b, 1)
			case "stride":
				err = g.setInt(assumeDiscStride, &d.Stride, b, 1)
			case "kernel_size":
				err = g.convNetKernel(kind, b)
			case "conv":
				want := "Conv2d"
				if kind == "scales" {
					want = "Conv1d"
				}
				if class, _, ok := refClass(b.value); !ok || class != want {
					err = fmt.Errorf("%s: not supported (the %s discriminators use torch.nn.%s)", b.where(), strings.TrimSuffix(kind, "s"), want)
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// convNetKernel reads a ConvNet's kernel_size: (k, 1) or k for the period
// discriminators, k for the scale ones.
func (g *ginConfig) convNetKernel(kind string, b ginBinding) error {
	k, ok := gin.Int(b.value)
	if xs, isList := gin.Ints(b.value); isList && kind == "periods" && len(xs) == 2 && xs[1] == 1 {
		k, ok = xs[0], true
	}
	if !ok || k < 1 || k > 1<<16 {
		return fmt.Errorf("%s: not supported (want k or (k, 1))", b.where())
	}
	if kind == "periods" {
		return g.setInt("discriminator.period_kernel", &g.c.Discriminator.PeriodKernel, ginBinding{Binding: b.Binding, name: b.name, value: int64(k)}, 1)
	}
	return g.setInt("discriminator.scale_kernel", &g.c.Discriminator.ScaleKernel, ginBinding{Binding: b.Binding, name: b.name, value: int64(k)}, 1)
}

// ginRules are the parameters of each known configurable.
var ginRules = map[string]map[string]ginRule{
	"RAVE": {
		"sampling_rate": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInt(assumeSampleRate, &g.c.SampleRate, b, 1)
		}},
		"n_bands": {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("n_band", &g.c.Bands, b, 1) }},
		"latent_size": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInt("latent_size", &g.c.LatentSize, b, 1)
		}},
		"phase_1_duration": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInt(assumeTraining, &g.c.Training.Phase1Steps, b, 0)
		}},
		"num_skipped_features": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInt("num_skipped_features", &g.c.Training.SkippedFeatures, b, 0)
		}},
		"update_discriminator_every": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInt("update_discriminator_every", &g.c.Training.UpdateDiscriminatorEvery, b, 1)
		}},
		"valid_signal_crop": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setBool("valid_signal_crop", &g.c.Training.ValidSignalCrop, b)
		}},
		"weights":                  {apply: (*ginConfig).lossWeights},
		"encoder":                  {want: wantRef("VariationalEncoder")},
		"decoder":                  {want: wantRef("GeneratorV2")},
		"discriminator":            {want: wantRef("CombineDiscriminators")},
		"pqmf":                     {want: wantRef("CachedPQMF")},
		"audio_distance":           {want: wantRef("AudioDistanceV1")},
		"multiband_audio_distance": {want: wantRef("AudioDistanceV1")},
		"gan_loss":                 {want: wantRef("hinge_gan")},
		"feature_matching_fun":     {want: wantRef("mean_difference")},
		"input_mode":               {want: []string{`"pqmf"`}},
		"output_mode":              {want: []string{`"pqmf"`}},
		"n_channels":               {want: []string{"1"}},
		"balancer":                 {want: []string{"None"}},
		"loss_weights":             {want: []string{"None"}},
		"spectrogram":              {want: []string{"None"}},
		"is_mel_input":             {want: []string{"None", "False"}},
		"enable_pqmf_encode":       {want: []string{"None", "True"}},
		"enable_pqmf_decode":       {want: []string{"None", "True"}},
		"warmup_quantize":          {want: []string{"None"}},
		"audio_monitor_epochs":     {},
	},
	"BetaWarmupCallback": {
		"initial_value": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setFloat("beta_initial_value", &g.c.Training.BetaInitial, b)
		}},
		"target_value": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setFloat("beta_target_value", &g.c.Training.BetaTarget, b)
		}},
		"warmup_len": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInt("beta_warmup_len", &g.c.Training.BetaWarmup, b, 1)
		}},
		"log": {want: []string{"True"}},
	},
	"CachedPQMF": {
		"attenuation": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setFloat(assumeAttenuation, &g.c.PQMFAttenuation, b)
		}},
		"n_band": {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("n_band", &g.c.Bands, b, 1) }},
	},
	"VariationalEncoder": {
		"encoder": {want: wantRef("EncoderV2")},
		"beta":    {want: []string{"1", "1.0"}},
	},
	"EncoderV2": {
		"capacity":        {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("capacity", &g.c.Capacity, b, 1) }},
		"data_size":       {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("n_band", &g.c.Bands, b, 1) }},
		"latent_size":     {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("latent_size", &g.c.LatentSize, b, 1) }},
		"kernel_size":     {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("kernel_size", &g.c.KernelSize, b, 1) }},
		"ratios":          {apply: func(g *ginConfig, b ginBinding) error { return g.setInts("ratios", &g.c.Ratios, b) }},
		"dilations":       {apply: (*ginConfig).dilations},
		"adain":           {want: []string{"None"}},
		"keep_dim":        {want: []string{"False"}},
		"n_out":           {want: []string{"2"}},
		"recurrent_layer": {want: []string{"None"}},
		"spectrogram":     {want: []string{"None"}},
	},
	"GeneratorV2": {
		"capacity":    {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("capacity", &g.c.Capacity, b, 1) }},
		"data_size":   {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("n_band", &g.c.Bands, b, 1) }},
		"latent_size": {apply: (*ginConfig).latentSize},
		"kernel_size": {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("kernel_size", &g.c.KernelSize, b, 1) }},
		"ratios":      {apply: func(g *ginConfig, b ginBinding) error { return g.setInts("ratios", &g.c.Ratios, b) }},
		"dilations":   {apply: (*ginConfig).dilations},
		"amplitude_modulation": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setBool("amplitude_modulation", &g.c.AmplitudeModulation, b)
		}},
		"noise_module":    {want: append([]string{"None"}, wantRef("NoiseGeneratorV2")...)},
		"adain":           {want: []string{"None"}},
		"keep_dim":        {want: []string{"False"}},
		"recurrent_layer": {want: []string{"None"}},
	},
	"NoiseGeneratorV2": {
		"hidden_size": {}, "ratios": {}, "noise_bands": {}, // read by ginConfig.noise
		"data_size":  {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("n_band", &g.c.Bands, b, 1) }},
		"n_channels": {want: []string{"1"}},
	},
	"get_augmented_latent_size": {
		"latent_size":        {apply: func(g *ginConfig, b ginBinding) error { return g.setInt("latent_size", &g.c.LatentSize, b, 1) }},
		"noise_augmentation": {want: []string{"0"}},
	},
	"normalization": {"mode": {want: []string{`"weight_norm"`}}},
	"CombineDiscriminators": {
		"discriminators": {want: []string{"[@MultiPeriodDiscriminator, @MultiScaleDiscriminator]"}},
	},
	"MultiPeriodDiscriminator": {
		"periods": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInts(assumePeriods, &g.c.Discriminator.Periods, b)
		}},
		"convnet": {apply: func(g *ginConfig, b ginBinding) error { return wantConvNet(b) }},
	},
	"MultiScaleDiscriminator": {
		"n_discriminators": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInt("n_discriminators", &g.c.Discriminator.Scales, b, 0)
		}},
		"convnet": {apply: func(g *ginConfig, b ginBinding) error { return wantConvNet(b) }},
	},
	// ConvNet's parameters are read by ginConfig.discriminatorScopes.
	"ConvNet": {"capacity": {}, "n_layers": {}, "stride": {}, "kernel_size": {}, "conv": {}, "out_size": {want: []string{"1"}}},
	"AudioDistanceV1": {
		"log_epsilon": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setFloat("log_epsilon", &g.c.Training.LogEpsilon, b)
		}},
		"multiscale_stft": {want: wantRef("MultiScaleSTFT")},
	},
	"MultiScaleSTFT": {
		"scales": {apply: func(g *ginConfig, b ginBinding) error {
			return g.setInts("spectral_scales", &g.c.Training.SpectralScales, b)
		}},
		"magnitude":   {want: []string{"True"}},
		"normalized":  {want: []string{"False"}},
		"num_mels":    {want: []string{"None"}},
		"sample_rate": {},
	},
	"mean_difference": {"norm": {want: []string{`"L1"`}}, "relative": {want: []string{"True"}}},
	"hinge_gan":       {},
	"get_padding": {
		"mode":     {apply: (*ginConfig).padding},
		"dilation": {}, "stride": {}, // passed by every caller
	},
	"cc.Conv1d":          {"bias": {want: []string{"False"}}},
	"cc.ConvTranspose1d": {"bias": {want: []string{"False"}}},
	"torch.Conv1d":       torchConvRules,
	"torch.Conv2d":       torchConvRules,
}

// torchConvRules are the parameters of the discriminators' torch.nn
// convolutions: biases, no dilation or groups, zero padding; the others
// are passed by ConvNet.
var torchConvRules = map[string]ginRule{
	"bias": {want: []string{"True"}}, "dilation": {want: []string{"1"}}, "groups": {want: []string{"1"}},
	"padding_mode": {want: []string{`"zeros"`}},
	"padding":      {}, "stride": {}, "device": {}, "dtype": {},
}

// wantConvNet refuses a discriminator built of something else than
// discriminator.ConvNet.
func wantConvNet(b ginBinding) error {
	if class, _, ok := refClass(b.value); !ok || class != "ConvNet" {
		return fmt.Errorf("%s: not supported (rave builds @discriminator.ConvNet)", b.where())
	}
	return nil
}

// lossWeights reads RAVE.weights: the feature-matching and adversarial
// weights; any other key is refused.
func (g *ginConfig) lossWeights(b ginBinding) error {
	d, ok := b.value.(gin.Dict)
	if !ok {
		return fmt.Errorf("%s: not supported (rave reads a dict of feature_matching and adversarial weights)", b.where())
	}
	t := &g.c.Training
	t.AdversarialWeight = 1 // weights.get(k, 1)
	fm := false
	for _, e := range d {
		k, _ := e.Key.(string)
		x, ok := gin.Float(e.Value)
		switch {
		case !ok || x < 0:
			return fmt.Errorf("%s: want non-negative weights", b.where())
		case k == "feature_matching":
			t.FeatureMatchingWeight, fm = x, true
		case k == "adversarial":
			t.AdversarialWeight = x
		default:
			return fmt.Errorf("%s: the weight of %s is not supported (rave weighs feature_matching and adversarial)", b.where(), gin.Format(e.Key))
		}
	}
	if !fm {
		return fmt.Errorf("%s: no feature_matching weight (rave does not know v2.3.1's default)", b.where())
	}
	return g.set("weights", b, false)
}

// padding reads get_padding.mode: "centered", or "causal" for the PQMF,
// the encoder and the generator (configs/causal.gin). The discriminators
// (scopes periods and scales) must stay centred.
func (g *ginConfig) padding(b ginBinding) error {
	mode, _ := b.value.(string)
	if mode != "centered" && mode != "causal" {
		return fmt.Errorf("%s: not supported (rave builds \"centered\" or \"causal\")", b.where())
	}
	if b.Scope == "periods" || b.Scope == "scales" {
		if mode != "centered" {
			return fmt.Errorf("%s: not supported (the discriminators are centred)", b.where())
		}
		return nil
	}
	causal := mode == "causal"
	if err := g.set(assumeCausal, b, g.c.Causal == causal); err != nil {
		return err
	}
	g.c.Causal = causal
	return nil
}
