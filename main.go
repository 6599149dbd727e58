// Command rave is RAVE Station: a terminal workstation to train, explore and
// play RAVE models (Caillon & Esling 2021) on a CPU.
//
// Run `rave help` for the list of commands and `rave help COMMAND` (or
// `rave COMMAND --help`) for the flags of one. This file holds flags and
// dispatch only; the work is done by the packages core, audio, train,
// sessions, plots and tui.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/audio/compare"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/core/bench"
	"github.com/ravestation/rave/core/interop"
	"github.com/ravestation/rave/core/interop/tsexport"
	"github.com/ravestation/rave/core/latent"
	"github.com/ravestation/rave/core/model"
	"github.com/ravestation/rave/core/modelfile"
	"github.com/ravestation/rave/core/modelv2"
	"github.com/ravestation/rave/core/render"
	"github.com/ravestation/rave/core/stream"
	"github.com/ravestation/rave/plots"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/sessions/layout"
	"github.com/ravestation/rave/sessions/outpath"
	"github.com/ravestation/rave/train"
	"github.com/ravestation/rave/train/runlog"
	"github.com/ravestation/rave/tui"
)

// version is the binary version, set at build time with
// -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// errUsage marks a command-line mistake: the usage is printed and the exit
// status is 2.
var errUsage = errors.New("usage")

// errNotBuilt is returned by commands that do not exist yet.
var errNotBuilt = errors.New("not built yet")

// command is one subcommand of rave.
type command struct {
	name    string
	summary string
	usage   string // arguments after the command name
	details string
	flags   func(fs *flag.FlagSet) func(args []string) error
}

// commands lists every subcommand in help order. A command whose flags
// function is nil is planned but not built.
func commands() []command {
	return []command{
		{name: "tui", summary: "open the workstation (the default when no command is given)", usage: "[--session NAME] [--clip FILE] [--no-audio]",
			details: "Panes: sessions, training, fidelity, latents, with playback. Press ? inside for every key.\nTraining runs as its own process: quitting the workstation or losing SSH never stops it.", flags: tuiFlags},
		{name: "serve", summary: "serve the workstation over SSH (public-key auth, loopback by default)", usage: "[--listen ADDR] --authorized-keys FILE",
			details: "Each connection gets its own workstation; audio is exported as WAV over SSH. The host key is made once and kept in $RAVE_HOME/ssh.", flags: serveFlags},
		{name: "sessions", summary: "list, rename, duplicate or delete sessions; write model cards", usage: "[--json] [list | new --model MODEL NAME | rename OLD NEW | duplicate NAME COPY | delete NAME --yes | card NAME]",
			details: "new makes a session around a model made elsewhere: MODEL is a model file, a reference state dict or Lightning checkpoint, or a\nTorchScript export (.ts) of RAVE v1; the session then plays it everywhere a trained session's model plays (reconstruct,\ntransfer, export, the Latent pane, streaming, compression).", flags: sessionsFlags},
		{name: "preprocess", summary: "decode, resample and chunk audio into a session's dataset", usage: "--session NAME [--rate HZ] [--chunk N] DIR_OR_FILES...",
			details: "Folders are walked recursively for .wav .flac .mp3 .ogg .aif(f) files; files named directly are always tried.\nRunning it again adds only new files. Corrupt, empty or non-audio files are listed as rejected, with the reason.",
			flags:   preprocessFlags},
		{name: "train", summary: "train a RAVE model (stage 1 VAE, stage 2 adversarial) in a session", usage: "--session NAME [--preset quick|tiny|small|v1] [--stage1-steps N] [--steps N] [--batch B] [--seed S]",
			details: "Resumes from the session's newest checkpoint when there is one. Ctrl-C (SIGINT) or SIGTERM writes a checkpoint and stops;\nrun the same command again to continue exactly where it stopped. Only one trainer may run per session.",
			flags:   trainFlags},
		{name: "analyze", summary: "latent analysis: PCA of posterior means and the fidelity curve", usage: "--session NAME [--json]",
			details: "Stores latent_pca, latent_mean and fidelity in the session's model and writes analysis.json.\nTraining already does this at every validation of stage 1; run it after importing or to refresh.", flags: analyzeFlags},
		{name: "encode", summary: "encode audio to latents (.npy)", usage: "[--raw] [--deterministic] [--fidelity f | --dims k] --out Z.npy MODEL IN.wav",
			details: modelArgHelp + "\nThe latents are a float32 array (dims, frames) in the model's PCA space (posterior means before PCA with --raw).", flags: encodeFlags},
		{name: "decode", summary: "decode latents (.npy) to audio", usage: "[--deterministic] [--seed S] MODEL Z.npy OUT.wav",
			details: modelArgHelp + "\nLatents with fewer dims than the model are completed with N(0,1) noise (zeros with --deterministic).", flags: decodeFlags},
		{name: "reconstruct", summary: "encode then decode audio", usage: "[--fidelity f | --dims k] [--deterministic] MODEL IN.wav OUT.wav",
			details: modelArgHelp + "\nAny length, sample rate and channel count; the output has the input's rate and length (mono).", flags: renderFlags(false)},
		{name: "transfer", summary: "timbre transfer: render any audio with a model trained on other sounds", usage: "[--match-loudness] [--fidelity f | --dims k] MODEL IN.wav OUT.wav",
			details: modelArgHelp + "\nThe input is resampled to the model's rate, encoded and decoded by the model; the output has the input's rate and length.", flags: renderFlags(true)},
		{name: "compress", summary: "compress audio to quantised latents (.rvz)", usage: "[--fidelity f | --dims k] [--bits b] [--noise-fill] MODEL IN.wav OUT.rvz\n       rave compress --sweep [--out TABLE.tsv] MODEL IN.wav",
			details: modelArgHelp + "\nPrints the bitrate (kbit/s) and the full-band spectral distance of the round trip. --sweep measures bitrate against distance\nover dims (1, 2, 4, … up to the latent size) and bits (2, 4, 6, 8, 12) and writes the table.", flags: compressFlags},
		{name: "decompress", summary: "decode a .rvz file to audio", usage: "MODEL IN.rvz OUT.wav", details: modelArgHelp + "\nA .rvz made by another model is refused, naming both model hashes.", flags: decompressFlags},
		{name: "prior", summary: "train the latent prior of a session (for generation and learned compression)", usage: "train --session NAME [--steps N] [--dims k]",
			details: "Encodes the session's dataset with its model, keeps k PCA dims (default: the fidelity chosen in the workstation, else f=0.95)\nand trains a WaveNet-style autoregressive prior over them. Ctrl-C checkpoints; run again to resume.", flags: priorFlags},
		{name: "generate", summary: "generate new audio from a session's prior and model", usage: "--session NAME --seconds S [--temperature t] [--seed s] [--prompt IN.wav] OUT.wav", flags: generateFlags},
		{name: "import", summary: "import reference weights (.npz, .safetensors, Lightning .ckpt, TorchScript .ts)", usage: "--out MODEL.safetensors [--discriminator SRC] SRC",
			details: "SRC is a RAVE v1 state dict (.npz or .safetensors, tensor names = state_dict keys), a PyTorch-Lightning training checkpoint\nor a TorchScript export of RAVE v1 (.ts, export_rave.py, streaming or not; v2 exports cannot be played here yet).\nMissing buffers are filled; mismatched shapes are refused naming the tensor and both shapes.\nRAVE v2 state dicts and v2.3 Lightning checkpoints are read (the architecture from the run's config.gin, next to the checkpoint\nor up to two folders above, else from the tensor shapes), said in one line, and not imported: v2 cannot be played here yet.", flags: importFlags},
		{name: "export", summary: "export a model as TorchScript (.ts) for nn~ (Max, Pure Data), the RAVE VST and torch.jit.load", usage: "--out MODEL.ts [--streaming] [--fidelity f | --dims k] MODEL",
			details: modelArgHelp + "\nWrites the interface of the reference's exporters: encode, decode and forward with their *_params buffers,\nlatent_pca, latent_mean, latent_size, sampling_rate (v1 models: also encode_amortized; RAVE v2 models, given as a v2 .ts,\nstate dict or checkpoint: also fidelity and the reference v2 export's attributes). decode takes the k kept PCA dims and fills the others with noise.\nk: --dims, else --fidelity, else the session's chosen fidelity (Fidelity pane), else fidelity 0.95 (reference rule) of the model's\nlatent analysis, else an imported export's own k, else all.\n--streaming caches every convolution so that nn~ can run it buffer by buffer (buffers of a multiple of the compression ratio\nand of 1024 samples); successive calls continue one signal, delayed by the latency printed.", flags: exportFlags},
		{name: "plot", summary: "write PNG plots of losses, the SVD spectrum and spectrograms", usage: "--session NAME [--out DIR] [--clip FILE] [--width W --height H]",
			details: "Writes loss_<term>.png and losses.png (log scale, stage boundary marked, NaN/Inf dropped and counted), spectrum.png\n(explained variance and the chosen fidelity), spectrogram.png (a clip and its reconstruction) and latents.png.", flags: plotFlags},
		{name: "bench", summary: "measure speed: model encode+decode real-time factor, or the kernels", usage: "[--json] [--seconds S] [--precision f32,bf16] [--stream-weights f32,f16,int8] [--no-stream] (--preset quick|tiny|small|v1|v2|v2-small | MODEL | kernels)", flags: benchFlags},
		{name: "version", summary: "print the version", flags: func(*flag.FlagSet) func([]string) error {
			return func([]string) error {
				fmt.Println("rave", version)
				fmt.Println("kernels:", core.KernelReport())
				return nil
			}
		}},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		// The workstation is the default.
		args = []string{"tui"}
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 {
			if c, ok := lookup(args[1]); ok {
				printCommandHelp(stdout, c, nil)
				return 0
			}
			fmt.Fprintf(stderr, "rave: unknown command %q\n", args[1])
			return 2
		}
		printHelp(stdout)
		return 0
	case "-version", "--version":
		name = "version"
	}
	if err := core.KernelsEnvError(); err != nil {
		fmt.Fprintf(stderr, "rave: %v; unset it or pick an available path\n", err)
		return 2
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "rave: unknown command %q; run 'rave help' for the list\n", name)
		return 2
	}
	fs := flag.NewFlagSet("rave "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.flags == nil {
		if wantsHelp(args[1:]) {
			printCommandHelp(stdout, c, nil)
			return 0
		}
		fmt.Fprintf(stderr, "rave %s: %v. This command is planned (%s) but not part of this build yet; run 'rave help' to see what works now.\n", c.name, errNotBuilt, c.summary)
		return 3
	}
	exec := c.flags(fs)
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, c, fs)
			return 0
		}
		fmt.Fprintf(stderr, "rave %s: %v\n", c.name, err)
		printCommandHelp(stderr, c, fs)
		return 2
	}
	if err := exec(positional); err != nil {
		fmt.Fprintf(stderr, "rave %s: %s\n", c.name, errorText(c.name, err))
		if errors.Is(err, errUsage) {
			printCommandHelp(stderr, c, fs)
			return 2
		}
		return 1
	}
	return 0
}

// parseInterspersed parses args with fs, accepting flags anywhere: before,
// between and after the positional arguments (`rave sessions delete X
// --yes` as well as `rave sessions --yes delete X`), which fs.Parse alone
// stops at. "--" ends the flags: everything after it is positional. It
// returns the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// errorText returns the message of err as rave prints it after "rave
// NAME: ": without a leading "NAME: " that would say the command's name
// twice ("rave train: train: …").
func errorText(name string, err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, name+": "); ok && rest != "" {
		return rest
	}
	return msg
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "--help", "-help":
			return true
		}
	}
	return false
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func printHelp(w io.Writer) {
	fmt.Fprintf(w, "RAVE Station %s: train, explore and play RAVE models in the terminal.\n\n", version)
	fmt.Fprintln(w, "Usage: rave [COMMAND] [FLAGS] [ARGS]")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Commands:")
	for _, c := range commands() {
		if c.flags == nil {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	planned := false
	for _, c := range commands() {
		if c.flags == nil {
			if !planned {
				fmt.Fprintln(tw, "\nPlanned, not in this build yet:")
				planned = true
			}
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nRun 'rave help COMMAND' for the flags of a command.")
}

func printCommandHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: rave %s %s\n\n%s.\n", c.name, c.usage, upperFirst(c.summary))
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", c.details)
	}
	if c.flags == nil {
		fmt.Fprintln(w, "\nThis command is planned but not part of this build yet.")
		return
	}
	if fs == nil {
		fs = flag.NewFlagSet("rave "+c.name, flag.ContinueOnError)
		c.flags(fs)
	}
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// benchFlags declares `rave bench`.
func benchFlags(fs *flag.FlagSet) func(args []string) error {
	asJSON := fs.Bool("json", false, "print results as JSON")
	preset := fs.String("preset", "", "benchmark a freshly initialised model of this preset (quick, tiny, small, v1; RAVE v2: v2, v2-small)")
	seconds := fs.Float64("seconds", 10, "length of the audio encoded and decoded")
	minTime := fs.Duration("time", time.Second, "time spent on each kernel measurement")
	noStream := fs.Bool("no-stream", false, "skip the streaming benchmark")
	streamWeights := fs.String("stream-weights", "f32,f16,int8", "comma-separated storage of the streamed weights to benchmark (f32, f16, int8); reduced ones report their SNR against f32")
	precisions := fs.String("precision", "f32,bf16", "comma-separated offline inference arithmetic to benchmark (f32, bf16); bf16 is skipped with a note on CPUs without AVX512_BF16")
	return func(args []string) error {
		var precs []model.Precision
		for _, p := range strings.Split(*precisions, ",") {
			prec, err := model.ParsePrecision(p)
			if err != nil {
				return fmt.Errorf("%w: --precision: %v", errUsage, err)
			}
			precs = append(precs, prec)
		}
		var weights []stream.WeightPrecision
		for _, w := range strings.Split(*streamWeights, ",") {
			p, err := stream.ParseWeightPrecision(w)
			if err != nil {
				return fmt.Errorf("%w: --stream-weights: %v", errUsage, err)
			}
			weights = append(weights, p)
		}
		out := map[string]any{}
		switch {
		case len(args) == 1 && args[0] == "kernels":
			out["sgemm_kernel"] = core.SgemmKernel()
			out["kernels"] = core.MeasureKernels(*minTime)
		case isV2Preset(*preset):
			if err := benchV2(out, *preset, *seconds, precs, weights, *noStream); err != nil {
				return err
			}
		case *preset != "" || len(args) == 1:
			var cfg model.Config
			var m *model.Model // the model streamed when one is given
			var err error
			if *preset != "" {
				cfg, err = model.Preset(*preset)
			} else {
				m, _, err = sessions.OpenModel(args[0])
				if m != nil {
					cfg = m.Config
				}
			}
			if err != nil {
				return err
			}
			sizes := []int{512, 1024, 2048, 4096, 8192}
			err = benchInto(out, precs, weights, *noStream,
				func(prec model.Precision) (bench.Result, error) { return bench.Run(cfg, *seconds, prec) },
				func() (stream.Latency, error) { return stream.LatencyOf(cfg, stream.Options{}) },
				func(o stream.Options) ([]bench.StreamResult, error) {
					if m != nil {
						return bench.StreamModel(m, sizes, *seconds, o)
					}
					return bench.StreamWith(cfg, sizes, *seconds, o)
				})
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: name --preset, a MODEL, or kernels", errUsage)
		}
		out["kernel_path"] = core.KernelPath()
		out["cpu"] = core.KernelReport()
		if *asJSON {
			return printJSON(out)
		}
		if _, ok := out["kernels"]; !ok {
			fmt.Printf("kernels: %s\n", core.KernelReport())
		}
		if rs, ok := out["model"].([]bench.Result); ok {
			for i, r := range rs {
				name := r.Preset
				if name == "" {
					name = "model"
				}
				fmt.Printf("%s %s: encode+decode of %.1f s at batch 1: %.1f ms (encode %.1f, decode %.1f) = %.1fx real time; peak Go heap %.1f MiB; %d threads, best of %d runs\n",
					name, r.Precision, r.Seconds, r.TotalMs, r.EncodeMs, r.DecodeMs, r.RealTimeFactor, float64(r.PeakHeapBytes)/(1<<20), r.Threads, r.Runs)
				if i == len(rs)-1 {
					fmt.Printf("parameters: encoder %d, decoder %d, discriminator %d\n", r.EncoderParams, r.DecoderParams, r.DiscriminatorParams)
				}
			}
		}
		if lat, ok := out["latency"].(stream.Latency); ok {
			fmt.Printf("streaming latency: %d samples = %.1f ms (encoder %d, decoder %d)\n", lat.Samples, lat.Ms, lat.EncoderSamples, lat.DecoderSamples)
		}
		if rs, ok := out["streaming"].([]bench.StreamResult); ok {
			fmt.Println("streaming (Process: encode+decode per buffer; SNR of the output against f32 weights', Gaussian-noise input):")
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "weights\tMB\tbuffer\tbudget ms\tmedian ms\tmax ms\treal time\tSNR dB\t")
			for _, r := range rs {
				if r.Skipped != "" {
					if r.Weights == weights[0] { // said once
						fmt.Fprintf(tw, "\t\t%d\t\t\t\t%s\t\t\n", r.BufferSize, r.Skipped)
					}
					continue
				}
				snr := "—"
				if r.Weights != stream.WeightsFloat32 {
					snr = fmt.Sprintf("%.1f", r.SNRdB)
				}
				fmt.Fprintf(tw, "%v\t%.1f\t%d\t%.2f\t%.3f\t%.3f\t%.1fx\t%s\t\n", r.Weights, float64(r.WeightBytes)/1e6, r.BufferSize, r.BufferMs, r.ProcessMedianMs, r.ProcessMaxMs, r.ProcessRTF, snr)
			}
			tw.Flush()
		}
		if ks, ok := out["kernels"].([]core.KernelResult); ok {
			fmt.Printf("kernels: %s; sgemm kernel: %s\n", core.KernelReport(), core.SgemmKernel())
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "kernel\tms/call\tGFLOPS\t")
			for _, r := range ks {
				fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t\n", r.Name, r.Seconds*1e3, r.GFLOPS)
			}
			return tw.Flush()
		}
		return nil
	}
}

// isV2Preset reports whether name is one of core/modelv2's presets.
func isV2Preset(name string) bool {
	_, err := modelv2.Preset(name)
	return name != "" && err == nil
}

// benchV2 is `rave bench --preset` for a RAVE v2 preset: it fills out as
// the v1 path does (model, latency, streaming); v2 infers in float32 only.
func benchV2(out map[string]any, preset string, seconds float64, precs []model.Precision, weights []stream.WeightPrecision, noStream bool) error {
	cfg, err := modelv2.Preset(preset)
	if err != nil {
		return err
	}
	return benchInto(out, precs, weights, noStream,
		func(prec model.Precision) (bench.Result, error) { return bench.RunV2(cfg, seconds, prec) },
		func() (stream.Latency, error) { return stream.LatencyOfV2(cfg) },
		func(o stream.Options) ([]bench.StreamResult, error) {
			return bench.StreamV2(cfg, []int{2048, 4096, 8192}, seconds, o)
		})
}

// benchInto fills out for `rave bench` on one model, v1 or v2: "model"
// with run at each precision (a precision other than float32 that fails
// is skipped when several are asked for), "latency" when latency knows
// it, and unless noStream "streaming" with streamWith at each weight
// precision.
func benchInto(out map[string]any, precs []model.Precision, weights []stream.WeightPrecision, noStream bool,
	run func(model.Precision) (bench.Result, error), latency func() (stream.Latency, error),
	streamWith func(stream.Options) ([]bench.StreamResult, error)) error {
	var results []bench.Result
	for _, prec := range precs {
		r, err := run(prec)
		if err != nil {
			if prec != model.Float32 && len(precs) > 1 {
				fmt.Fprintf(os.Stderr, "skipping %s: %v\n", prec, err)
				continue
			}
			return err
		}
		results = append(results, r)
	}
	out["model"] = results
	if lat, err := latency(); err == nil {
		out["latency"] = lat
	}
	if noStream {
		return nil
	}
	var sr []bench.StreamResult
	for _, w := range weights {
		r, err := streamWith(stream.Options{Weights: w})
		if err != nil {
			return err
		}
		sr = append(sr, r...)
	}
	out["streaming"] = sr
	return nil
}

// modelArgHelp explains the MODEL argument of the inference commands.
const modelArgHelp = "MODEL is a model file (.safetensors written by rave, or reference weights, imported on the fly), a session name (its newest model) or NAME:best (the session's model of the lowest validation distance)."

// renderOptionFlags declares the flags shared by the inference commands;
// the second result is the --precision flag (see loadModelArg).
func renderOptionFlags(fs *flag.FlagSet) (*render.Options, *string) {
	o := &render.Options{Progress: render.NewProgress(os.Stderr)}
	fs.Float64Var(&o.Fidelity, "fidelity", 0, "keep the PCA dims explaining this share of latent variance, e.g. 0.95 (reference rule: power of two)")
	fs.IntVar(&o.Dims, "dims", 0, "keep exactly this many PCA dims")
	fs.BoolVar(&o.Deterministic, "deterministic", false, "posterior means, no noise synthesiser, zeros for dropped dims")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the sampled latents and noise")
	return o, precisionFlag(fs)
}

// precisionFlag declares --precision, the inference arithmetic.
func precisionFlag(fs *flag.FlagSet) *string {
	return fs.String("precision", "f32", "inference arithmetic: f32 (exact float32, the reference's) or bf16 (bfloat16 products summed in float32: about twice as fast on CPUs with AVX512_BF16, output within about −50 dB of f32)")
}

// loadModelArg opens MODEL (a file or a session name) for inference at
// the named precision ("f32" or "bf16").
func loadModelArg(ref, precision string) (*model.Model, error) {
	prec, err := model.ParsePrecision(precision)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	m, path, err := sessions.OpenModel(ref)
	if err != nil {
		return nil, err
	}
	if err := m.SetInferencePrecision(prec); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "model: %s (%s, %d latent dims, %d Hz, %s)\n", path, presetLabel(m.Config), m.Config.LatentSize, m.Config.SR, prec)
	return m, nil
}

// modelToFile checks the arguments MODEL IN OUT of a command that
// renders IN to OUT through MODEL (want names them for the usage error)
// and OUT (checkOutput), then opens MODEL (loadModelArg).
func modelToFile(args []string, want, precision string) (*model.Model, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("%w: want %s", errUsage, want)
	}
	if err := checkOutput(args[2], args[:2]...); err != nil {
		return nil, err
	}
	return loadModelArg(args[0], precision)
}

// checkOutput refuses an output file that is one of inputs or lies among
// a session's own files (see outpath.Check); every command writing a file
// the user names calls it before any work.
func checkOutput(out string, inputs ...string) error {
	root, err := sessions.Root()
	if err != nil {
		root = ""
	}
	return outpath.Check(out, inputs, root)
}

func presetLabel(c model.Config) string {
	if c.Preset != "" {
		return "preset " + c.Preset
	}
	return fmt.Sprintf("capacity %d", c.Capacity)
}

// encodeFlags declares `rave encode`.
func encodeFlags(fs *flag.FlagSet) func(args []string) error {
	o, prec := renderOptionFlags(fs)
	out := fs.String("out", "", "output .npy `FILE` (dims, frames)")
	fs.BoolVar(&o.Raw, "raw", false, "posterior means before the PCA rotation")
	return func(args []string) error {
		if len(args) != 2 {
			return fmt.Errorf("%w: want MODEL and IN.wav", errUsage)
		}
		if *out == "" {
			return fmt.Errorf("%w: --out is required", errUsage)
		}
		if err := checkOutput(*out, args...); err != nil {
			return err
		}
		m, err := loadModelArg(args[0], *prec)
		if err != nil {
			return err
		}
		z, err := render.EncodeFile(m, args[1], *out, *o)
		if err != nil {
			return err
		}
		fmt.Printf("wrote %s: %d dims × %d frames (%.2f frames/s)\n", *out, z.Dims, z.Frames, float64(m.Config.SR)/float64(m.Config.CompressionRatio()))
		return nil
	}
}

// decodeFlags declares `rave decode`.
func decodeFlags(fs *flag.FlagSet) func(args []string) error {
	o, prec := renderOptionFlags(fs)
	return func(args []string) error {
		m, err := modelToFile(args, "MODEL, Z.npy and OUT.wav", *prec)
		if err != nil {
			return err
		}
		if err := render.DecodeFile(m, args[1], args[2], *o); err != nil {
			return err
		}
		fmt.Printf("wrote %s at %d Hz\n", args[2], m.Config.SR)
		return nil
	}
}

// renderFlags declares `rave reconstruct` and `rave transfer`.
func renderFlags(transfer bool) func(fs *flag.FlagSet) func(args []string) error {
	return func(fs *flag.FlagSet) func(args []string) error {
		o, prec := renderOptionFlags(fs)
		if transfer {
			fs.BoolVar(&o.MatchLoudness, "match-loudness", false, "make the output's loudness envelope follow the input's")
		}
		return func(args []string) error {
			m, err := modelToFile(args, "MODEL, IN.wav and OUT.wav", *prec)
			if err != nil {
				return err
			}
			r, err := render.File(m, args[1], args[2], *o)
			if err != nil {
				return err
			}
			fmt.Printf("wrote %s: %.2f s at %d Hz (model at %d Hz, %d latent dims) in %s (%.1fx real time)\nspectral distance input→output (full band, multiscale): %.4f\n",
				args[2], r.Seconds, r.InRate, r.ModelRate, r.Dims, r.Elapsed.Round(time.Millisecond), r.Seconds/r.Elapsed.Seconds(), r.Distance)
			if r.Measured < r.Seconds-1 {
				fmt.Printf("(distance, level and pitch measured on %.0f s of excerpts spread over the input)\n", r.Measured)
			}
			if c := r.Match; c != nil {
				fmt.Printf("level: %.1f dB mean difference (output %+.1f dB on average) over the %d frames within %.0f dB of the input's peak\n",
					c.LevelErrorDB, c.LevelBiasDB, c.Frames, compare.FloorDB)
				if c.PitchedFrames > 0 {
					fmt.Printf("pitch: %.0f%% of the input's %d pitched frames within %.0f cents (median input %.1f Hz, output %.1f Hz)\n",
						100*c.PitchAgreement, c.PitchedFrames, compare.ToleranceCents, c.InputHz, c.OutputHz)
				}
			}
			return nil
		}
	}
}

// importFlags declares `rave import`.
func importFlags(fs *flag.FlagSet) func(args []string) error {
	out := fs.String("out", "", "output model `FILE` (.safetensors)")
	disc := fs.String("discriminator", "", "also import discriminator weights from this state dict")
	return func(args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%w: want one SRC", errUsage)
		}
		if *out == "" {
			return fmt.Errorf("%w: --out is required", errUsage)
		}
		if err := checkOutput(*out, args[0], *disc); err != nil {
			return err
		}
		for _, src := range []string{args[0], *disc} {
			if src == "" {
				continue
			}
			if err := modelfile.Check(src, "model"); err != nil {
				return err
			}
		}
		m, info, err := interop.ImportWithInfo(args[0])
		if err != nil {
			return err
		}
		if *disc != "" {
			if err := interop.ImportDiscriminator(m, *disc); err != nil {
				return err
			}
		}
		if err := m.Save(*out); err != nil {
			return err
		}
		enc, dec, dsc := m.ParamCounts()
		fmt.Printf("imported %s → %s\nconfig from %s; parameters: encoder %d, decoder %d, discriminator %d\n", args[0], *out, info.ConfigSource, enc, dec, dsc)
		if len(info.Filled) > 0 {
			fmt.Printf("filled %d missing buffer(s) with defaults: %s\n", len(info.Filled), strings.Join(info.Filled, ", "))
		}
		if len(info.Ignored) > 0 {
			fmt.Printf("ignored %d tensor(s) the model does not use\n", len(info.Ignored))
		}
		if d := m.LatentAnalysis.Dims; d > 0 {
			fmt.Printf("the export keeps %d of %d latent dimensions (give --dims %d to encode as it does)\n", d, m.Config.LatentSize, d)
		}
		return nil
	}
}

// exportFlags declares `rave export`.
func exportFlags(fs *flag.FlagSet) func(args []string) error {
	out := fs.String("out", "", "output TorchScript `FILE` (.ts)")
	streaming := fs.Bool("streaming", false, "cached convolutions: successive calls continue one signal (for nn~'s buffer-by-buffer processing)")
	fid := fs.Float64("fidelity", 0, "keep the PCA dims explaining this share of latent variance (reference rule; default 0.95 when the model has a latent analysis)")
	dims := fs.Int("dims", 0, "keep exactly this many PCA dims")
	return func(args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("%w: want one MODEL", errUsage)
		}
		if *out == "" {
			return fmt.Errorf("%w: --out is required", errUsage)
		}
		if *fid != 0 && *dims != 0 {
			return fmt.Errorf("%w: give --fidelity or --dims, not both", errUsage)
		}
		if err := checkOutput(*out, args[0]); err != nil {
			return err
		}
		m, path, err := sessions.OpenModel(args[0])
		if err != nil {
			// A RAVE v2 model is not playable here yet, but it can be
			// exported: a file the workstation cannot open is read again
			// through core/interop as a v2 model.
			isV2 := errors.Is(err, interop.ErrTorchScriptV2) || errors.Is(err, interop.ErrCheckpointV2)
			if fi, serr := os.Stat(args[0]); !isV2 && (serr != nil || !fi.Mode().IsRegular()) {
				return err
			}
			m2, imported, what, err2 := openV2(args[0])
			switch {
			case err2 == nil:
				return exportV2(m2, imported, what, args[0], *out, *streaming, *fid, *dims)
			case isV2:
				return err2
			}
			return err
		}
		var chosen int
		if *fid == 0 && *dims == 0 {
			chosen = sessionChosenDims(args[0], path)
		}
		kept, how, err := exportDims(m.KeptDims, m.Config.LatentSize, *fid, *dims, chosen, m.LatentAnalysis.Dims)
		if err != nil {
			return err
		}
		if err := tsexport.WriteFile(*out, m, tsexport.Options{Kept: kept, Streaming: *streaming}); err != nil {
			return err
		}
		kind := "non-streaming"
		if *streaming {
			kind = fmt.Sprintf("streaming, latency %d samples", tsexport.Latency(m))
		}
		r := m.Config.CompressionRatio()
		fmt.Printf("exported %s → %s (TorchScript, %s, %d Hz)\nlatent: %d of %d PCA dims (%s); encode_params [1 1 %d %d], decode_params [%d %d 1 1]\n",
			path, *out, kind, m.Config.SR, kept, m.Config.LatentSize, how, kept, r, kept, r)
		return nil
	}
}

// openV2 reads a RAVE v2 model file through core/interop: a v2
// TorchScript export (.ts; imported is the latent size it kept), or a v2
// state dict or Lightning checkpoint (imported 0). what describes what
// was read.
func openV2(src string) (m *modelv2.Model, imported int, what string, err error) {
	if strings.EqualFold(filepath.Ext(src), ".ts") {
		ts, err := interop.ImportTorchScript(src)
		if err != nil {
			return nil, 0, "", err
		}
		if ts.V2 == nil {
			return nil, 0, "", fmt.Errorf("export %s: not a RAVE v2 export (%s)", src, ts)
		}
		return ts.V2, ts.LatentSize, ts.String(), nil
	}
	v2, err := interop.ImportV2(src)
	if err != nil {
		return nil, 0, "", err
	}
	return v2.Model, 0, v2.String(), nil
}

// exportV2 is `rave export` of the RAVE v2 model m read from src (by
// openV2), written by tsexport.WriteFileV2.
func exportV2(m *modelv2.Model, imported int, what, src, out string, streaming bool, fid float64, dims int) error {
	kept, how, err := exportDims(v2Kept(m), m.Config.LatentSize, fid, dims, 0, imported)
	if err != nil {
		return err
	}
	if err := tsexport.WriteFileV2(out, m, tsexport.Options{Kept: kept, Streaming: streaming}); err != nil {
		return err
	}
	kind := "non-streaming"
	if streaming {
		kind = fmt.Sprintf("streaming, latency %d samples", tsexport.LatencyV2(m))
	}
	c := m.Config
	r := c.CompressionRatio()
	fmt.Printf("read %s\nexported %s → %s (TorchScript, RAVE v2, %s, %d Hz)\nlatent: %d of %d PCA dims (%s); encode_params [1 1 %d %d], decode_params [%d %d 1 1]\n",
		what, src, out, kind, c.SampleRate, kept, c.LatentSize, how, kept, r, kept, r)
	return nil
}

// v2Kept returns how many dims a Fidelity keeps of the v2 model m, by
// its fidelity curve (none when the model holds only zeros there).
func v2Kept(m *modelv2.Model) func(latent.Fidelity) (int, error) {
	var curve []float32
	if slices.ContainsFunc(m.Fidelity.Data(), func(v float32) bool { return v != 0 }) {
		curve = m.Fidelity.Data()
	}
	return func(f latent.Fidelity) (int, error) { return f.Kept(m.Config.LatentSize, curve) }
}

// sessionChosenDims returns the latent dimensions chosen in the Fidelity
// pane (fidelity.json) of the session whose model ref opened as path (a
// session name, or NAME:best), or 0 when ref is not a session's model or
// none was chosen.
func sessionChosenDims(ref, path string) int {
	name, _ := strings.CutSuffix(ref, ":best")
	if sessions.ValidateName(name) != nil {
		return 0
	}
	s, err := sessions.Open(name)
	if err != nil || path != layout.Model(s.Dir) && path != layout.BestModel(s.Dir) {
		return 0
	}
	f, err := s.ReadFidelity()
	if err != nil {
		return 0
	}
	return f.Dims
}

// exportDims returns the latent dimensions an export of a model with
// latentSize dims keeps and how they were chosen: --dims, else --fidelity,
// else the dims chosen in the session's Fidelity pane (chosen, 0 for
// none), else fidelity 0.95 (the reference exporter's default) by the
// model's fidelity curve (kept: model.KeptDims, or v2Kept), else the dims
// an imported TorchScript export kept (imported, 0 for none), else all.
func exportDims(kept func(latent.Fidelity) (int, error), latentSize int, fid float64, dims, chosen, imported int) (int, string, error) {
	if dims != 0 {
		k, err := kept(latent.Fidelity{Dims: dims})
		return k, "--dims", err
	}
	if fid == 0 && chosen > 0 {
		if k, err := kept(latent.Fidelity{Dims: chosen}); err == nil {
			return k, "the session's chosen fidelity", nil
		}
	}
	f := fid
	if f == 0 {
		f = 0.95
	}
	k, err := kept(latent.Fidelity{F: f})
	switch {
	case err == nil:
		return k, fmt.Sprintf("fidelity %g, reference rule", f), nil
	case !errors.Is(err, latent.ErrNoAnalysis) || fid != 0:
		return 0, "", err
	case imported > 0:
		return imported, "the imported export's", nil
	}
	return latentSize, "all: the model has no latent analysis", nil
}

// preprocessFlags declares `rave preprocess`.
func preprocessFlags(fs *flag.FlagSet) func(args []string) error {
	name := fs.String("session", "", "session `NAME` (created if it does not exist)")
	rate := fs.Int("rate", 0, "sample rate in Hz the audio is resampled to (default 48000, or the dataset's)")
	chunk := fs.Int("chunk", 0, "samples per stored chunk (default 131072 = 2 × the v1 training example, or the dataset's)")
	seed := fs.Uint64("seed", 42, "seed recorded for the train/validation split")
	quiet := fs.Bool("quiet", false, "no progress bar")
	return func(args []string) error {
		if *name == "" {
			return fmt.Errorf("%w: --session is required", errUsage)
		}
		if len(args) == 0 {
			return fmt.Errorf("%w: name at least one audio folder or file", errUsage)
		}
		if err := sessions.CheckSources(args); err != nil {
			return err // before a new session is made for nothing
		}
		s, err := sessions.OpenOrCreate(*name)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		bar := newProgressBar(os.Stderr, *quiet)
		rep, err := s.Preprocess(ctx, args, audio.DatasetOptions{SampleRate: *rate, ChunkLen: *chunk, Seed: *seed}, func(p audio.Progress) {
			bar.update(p.Stage, p.FilesDone, p.FilesTotal, p.BytesDone, p.BytesTotal)
		})
		bar.done()
		if rep != nil {
			printDatasetReport(os.Stdout, s, rep)
		}
		return err
	}
}

func printDatasetReport(w io.Writer, s *sessions.Session, rep *audio.DatasetReport) {
	fmt.Fprintf(w, "session %s: %s\n", s.Manifest.Name, s.Dir)
	fmt.Fprintf(w, "added %d file(s), %d chunk(s), %s of audio\n", len(rep.Added), rep.AddedChunks, rep.AddedDuration.Round(10*time.Millisecond))
	fmt.Fprintf(w, "dataset now: %d file(s), %d chunk(s), %s\n", rep.Files, rep.Chunks, rep.Duration.Round(10*time.Millisecond))
	if len(rep.Duplicates) > 0 {
		fmt.Fprintf(w, "skipped %d duplicate(s) already in the dataset\n", len(rep.Duplicates))
	}
	if len(rep.Replaced) > 0 {
		fmt.Fprintf(w, "replaced %d changed file(s)\n", len(rep.Replaced))
	}
	if len(rep.Rejected) > 0 {
		fmt.Fprintf(w, "rejected %d file(s):\n", len(rep.Rejected))
		for _, r := range rep.Rejected {
			fmt.Fprintf(w, "  %s: %s\n", r.Path, r.Reason)
		}
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

// progressBar draws a one-line progress bar on a terminal, or prints a line
// every 10%% elsewhere (logs, CI).
type progressBar struct {
	w        io.Writer
	tty      bool
	quiet    bool
	lastPct  int
	lastDraw time.Time
	drawn    bool
	stage    string
}

func newProgressBar(w io.Writer, quiet bool) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			tty = fi.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progressBar{w: w, tty: tty, quiet: quiet, lastPct: -1}
}

func (b *progressBar) update(stage string, done, total int, bytesDone, bytesTotal int64) {
	if b.quiet || total == 0 {
		return
	}
	frac := float64(done) / float64(total)
	if bytesTotal > 0 {
		frac = float64(bytesDone) / float64(bytesTotal)
	}
	pct := int(frac * 100)
	if !b.tty {
		if stage != b.stage || pct/10 != b.lastPct/10 || done == total {
			fmt.Fprintf(b.w, "%s: %d/%d files (%d%%)\n", stage, done, total, pct)
		}
		b.lastPct, b.stage = pct, stage
		return
	}
	if pct == b.lastPct && stage == b.stage && time.Since(b.lastDraw) < 100*time.Millisecond {
		return
	}
	const width = 30
	n := int(frac * width)
	fmt.Fprintf(b.w, "\r%-6s [%s%s] %3d%% %d/%d files ", stage, strings.Repeat("=", n), strings.Repeat(" ", width-n), pct, done, total)
	b.lastPct, b.stage, b.lastDraw, b.drawn = pct, stage, time.Now(), true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// trainFlags declares `rave train`.
func trainFlags(fs *flag.FlagSet) func(args []string) error {
	name := fs.String("session", "", "session `NAME` (made with `rave preprocess`)")
	preset := fs.String("preset", "", "model preset for a new run: quick, tiny, small or v1 (default quick, made for learning per CPU-second)")
	stage1 := fs.Int64("stage1-steps", 0, "steps of stage 1 (VAE) before the adversarial stage (default: the preset's)")
	plateau := fs.Int("stage2-plateau", 0, "start stage 2 before --stage1-steps after this many validations in a row without a 2 % gain on the best validation distance; -1: off (default: the preset's, 10 for quick, off for the others)")
	plateauFrom := fs.Int64("stage2-from", 0, "first step at which the plateau switch may start stage 2 (default: the preset's, 40000 for quick)")
	steps := fs.Int64("steps", 0, "total steps (default: the preset's); fewer than the stage-1 steps make a short run that ends in stage 1")
	batch := fs.Int("batch", 0, "examples per step (default: the preset's)")
	nsignal := fs.Int("n-signal", 0, "samples per example (default: the preset's)")
	seed := fs.Uint64("seed", 1, "random seed of a new run")
	lr := fs.Float64("lr", 0, "learning rate (default: the preset's, 1e-4 for v1, 1e-3 for the others)")
	lrDecay := fs.String("lr-decay", "", "`steps` over which the learning rate falls log-linearly to a tenth of --lr; 0: constant (default: the preset's)")
	ema := fs.Float64("ema", 0, "decay of the moving average of the decoder's weights that the session's model holds (e.g. 0.999); negative: none (default: the preset's, 0.999 for quick, none for the others)")
	envelope := fs.Float64("envelope-loss", 0, "`weight` of the envelope distance (the frame-by-frame log power of the output against the input's) added to the generator's loss; negative: none (default: the preset's, 1 for quick, none for the others)")
	upInit := fs.String("upsampler-init", "", "how a new run initialises the decoder's up-samplers: drawn (as PyTorch) or smooth (linear interpolation, without the buzz at the latent frame rate) (default: the preset's, smooth for quick)")
	every := fs.Int64("checkpoint-every", 0, "steps between checkpoints (default: the preset's)")
	valEvery := fs.Int64("val-every", 0, "steps between validations (default: the preset's)")
	logEvery := fs.Int64("log-every", 0, "steps between metric lines (default: the preset's)")
	betaWarmup := fs.String("beta-warmup", "", "`steps` over which the KL weight rises log-linearly from --beta-start to the model's max_kl, as the reference's v2.3 configs do; 0: max_kl from the first step, as v1 (default: the preset's, 20000 for quick, small and tiny, 0 for v1)")
	betaStart := fs.Float64("beta-start", 0, "KL weight at the start of the warm-up (default 1e-6)")
	betaMax := fs.Float64("beta-max", 0, "KL weight at the end of the warm-up, the new model's max_kl (default: the preset's, 0.1)")
	valFraction := fs.Float64("val-fraction", 0, "share of the session's chunks held out for validation, the best model and the plateau switch (default 0.02)")
	pitch := fs.String("pitch-shift", "", "move the pitch of half the training crops by a uniform draw within ± this many `semitones` (the reference's random pitch augmentation); 0: off (default: the preset's, off)")
	split := fs.Int("split", 0, "parts each batch is split into and computed concurrently, as on that many devices (default 2; 1: the whole batch at once)")
	quiet := fs.Bool("quiet", false, "no progress line, only stage changes and the summary")
	return func(args []string) error {
		if *name == "" {
			return fmt.Errorf("%w: --session is required", errUsage)
		}
		if len(args) > 0 {
			return fmt.Errorf("%w: unexpected arguments %v", errUsage, args)
		}
		s, lock, err := openLocked(*name, "train")
		if err != nil {
			return err
		}
		defer lock.Release()
		if *preset != "" && s.Manifest.Preset != "" && s.Manifest.Preset != *preset {
			fmt.Fprintf(os.Stderr, "note: session %s was trained with preset %s; a resumed run keeps its model\n", s.Manifest.Name, s.Manifest.Preset)
		}
		// Config reads 0 as "the preset's" and a negative count as none.
		var warmup int64
		if *betaWarmup != "" {
			n, err := strconv.ParseInt(*betaWarmup, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("%w: --beta-warmup %q: want a number of steps (0 turns the warm-up off)", errUsage, *betaWarmup)
			}
			warmup = n
			if n == 0 {
				warmup = -1
			}
		}
		cfg := train.Config{SessionDir: s.Dir, Preset: *preset, Stage1Steps: *stage1, Steps: *steps, Batch: *batch,
			NSignal: *nsignal, Seed: *seed, LR: *lr, BetaWarmup: warmup, BetaStart: *betaStart, BetaMax: *betaMax, ValFraction: *valFraction, Split: *split, CheckpointEvery: *every, ValEvery: *valEvery, LogEvery: *logEvery,
			Stage2Plateau: *plateau, Stage2From: *plateauFrom, UpsamplerInit: *upInit, EMA: *ema, Envelope: *envelope}
		if *lrDecay != "" {
			n, err := strconv.ParseInt(*lrDecay, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("%w: --lr-decay %q: want a number of steps (0 keeps the learning rate constant)", errUsage, *lrDecay)
			}
			cfg.LRDecay = n
			if n == 0 {
				cfg.LRDecay = -1
			}
		}
		if cfg.Preset == "" {
			cfg.Preset = s.Manifest.Preset
		}
		if cfg.Preset == "" {
			cfg.Preset = train.DefaultPreset
		}
		if *pitch != "" {
			semis, err := strconv.ParseFloat(*pitch, 64)
			if err != nil || semis < 0 || semis > 12 || math.IsNaN(semis) {
				return fmt.Errorf("%w: --pitch-shift %q: want a number of semitones from 0 (off) to 12", errUsage, *pitch)
			}
			d, err := train.Defaults(cfg.Preset)
			if err != nil {
				return err
			}
			cfg.Augment = d.Augment
			cfg.Augment.PitchShift, cfg.Augment.PitchSemitones = 0, 0
			if semis > 0 {
				cfg.Augment.PitchShift, cfg.Augment.PitchSemitones = 0.5, semis
			}
		}
		if s.Manifest.Preset == "" {
			s.Manifest.Preset, s.Manifest.Seed = cfg.Preset, cfg.Seed
			if err := s.Save(); err != nil {
				return err
			}
		}
		return runWithConsole(lock, *quiet, func(ctx context.Context, events chan<- train.Event) error {
			return train.Run(ctx, cfg, events)
		})
	}
}

// trainConsole prints training events: a progress line redrawn in place on
// a terminal (stage, step, losses, steps/s, ETA), plain lines elsewhere.
type trainConsole struct {
	w     io.Writer
	tty   bool
	quiet bool
	live  bool
	done  string // the message of the job's EventDone, see finish
}

func newTrainConsole(w io.Writer, quiet bool) *trainConsole {
	return &trainConsole{w: w, tty: newProgressBar(w, quiet).tty, quiet: quiet}
}

func (c *trainConsole) line(format string, a ...any) {
	if c.live {
		fmt.Fprint(c.w, "\r\033[K")
		c.live = false
	}
	fmt.Fprintf(c.w, format+"\n", a...)
}

func lossSummary(losses map[string]float64) string {
	keys := make([]string, 0, len(losses))
	for k := range losses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %.4g", k, losses[k])
	}
	return b.String()
}

func (c *trainConsole) show(ev train.Event) {
	switch ev.Kind {
	case runlog.EventStep:
		if c.quiet {
			return
		}
		pct := 0.0
		if ev.TotalSteps > 0 {
			pct = 100 * float64(ev.Step) / float64(ev.TotalSteps)
		}
		msg := fmt.Sprintf("[stage %d] step %d/%d (%.1f%%)%s | %.2f steps/s | ETA %s",
			int(ev.Stage), ev.Step, ev.TotalSteps, pct, lossSummary(ev.Losses), ev.StepsPerSec, ev.ETA.Round(time.Second))
		if c.tty {
			fmt.Fprint(c.w, "\r\033[K"+msg)
			c.live = true
		} else {
			fmt.Fprintln(c.w, msg)
		}
	case runlog.EventValidation:
		extra := ""
		if ev.Message != "" {
			extra = " (" + ev.Message + ")"
		}
		c.line("validation at step %d:%s%s", ev.Step, lossSummary(ev.Losses), extra)
	case runlog.EventCheckpoint:
		if !c.quiet {
			c.line("checkpoint at step %d: %s", ev.Step, ev.Checkpoint)
		}
	case runlog.EventStage, runlog.EventWarning:
		if ev.Message != "" {
			c.line("%s", ev.Message)
		}
	case runlog.EventDone:
		c.done = ev.Message
	}
}

// finish ends the output once the job returned err. The job's last
// message ("stopped at step …", "finished …") is printed only when the
// job succeeded: a failed job's message is its error, which rave prints
// once on its own.
func (c *trainConsole) finish(err error) {
	if err == nil && c.done != "" {
		c.line("%s", c.done)
	}
	if c.live {
		fmt.Fprintln(c.w)
	}
}

// analyzeFlags declares `rave analyze`.
func analyzeFlags(fs *flag.FlagSet) func(args []string) error {
	name := fs.String("session", "", "session `NAME`")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	return func(args []string) error {
		if *name == "" {
			return fmt.Errorf("%w: --session is required", errUsage)
		}
		s, lock, err := openLocked(*name, "analyze")
		if err != nil {
			return err
		}
		defer lock.Release()
		seed := s.Manifest.Seed
		if seed == 0 {
			seed = 1
		}
		rep, err := train.Analyze(s.Dir, seed, 0.02)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(rep)
		}
		fmt.Printf("latent analysis of %s at step %d: %d frames (%s)\n", *name, rep.Step, rep.Frames, rep.Source)
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "fidelity\tdims (exact)\tdims (reference rule)")
		for _, d := range rep.Dims {
			fmt.Fprintf(tw, "%.2f\t%d\t%d\n", d.F, d.Exact, d.Reference)
		}
		return tw.Flush()
	}
}

// plotFlags declares `rave plot`.
func plotFlags(fs *flag.FlagSet) func(args []string) error {
	name := fs.String("session", "", "session `NAME`")
	out := fs.String("out", "", "output folder (default: the session's exports/plots)")
	clip := fs.String("clip", "", "audio file for the spectrogram and latent plots (default: the start of the dataset)")
	width := fs.Int("width", 0, "image width in pixels (default 1200)")
	height := fs.Int("height", 0, "image height in pixels (default 800)")
	return func(args []string) error {
		if *name == "" {
			return fmt.Errorf("%w: --session is required", errUsage)
		}
		if err := checkOutput(*out, *clip); err != nil {
			return err
		}
		s, err := sessions.Open(*name)
		if err != nil {
			return err
		}
		paths, err := writeSessionPlots(s, *out, *clip, *width, *height)
		for _, p := range paths {
			fmt.Println(p)
		}
		return err
	}
}

func writeSessionPlots(s *sessions.Session, out, clip string, width, height int) ([]string, error) {
	if out == "" {
		out = layout.Plots(s.Dir)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	in, ierr := plots.SessionInputs(s, clip)
	if ierr != nil {
		fmt.Fprintf(os.Stderr, "note: %v\n", ierr)
	}
	paths, err := plots.WriteAll(out, in, width, height)
	if err != nil && len(paths) > 0 {
		fmt.Fprintf(os.Stderr, "note: %v\n", err)
		err = nil
	}
	return paths, err
}

// sessionsFlags declares `rave sessions`.
func sessionsFlags(fs *flag.FlagSet) func(args []string) error {
	asJSON := fs.Bool("json", false, "list as JSON")
	yes := fs.Bool("yes", false, "confirm delete")
	modelRef := fs.String("model", "", "new: the `MODEL` the session is made around")
	return func(args []string) error {
		verb := "list"
		if len(args) > 0 {
			verb, args = args[0], args[1:]
		}
		want := map[string]int{"list": 0, "new": 1, "rename": 2, "duplicate": 2, "delete": 1, "card": 1}
		n, ok := want[verb]
		if !ok {
			return fmt.Errorf("%w: unknown action %q", errUsage, verb)
		}
		if len(args) != n {
			return fmt.Errorf("%w: %s takes %d argument(s)", errUsage, verb, n)
		}
		if *modelRef != "" && verb != "new" {
			return fmt.Errorf("%w: --model belongs to new", errUsage)
		}
		switch verb {
		case "new":
			return newSessionAround(args[0], *modelRef)
		case "rename":
			if err := sessions.Rename(args[0], args[1]); err != nil {
				return err
			}
			fmt.Printf("renamed %s to %s\n", args[0], args[1])
		case "duplicate":
			if err := sessions.Duplicate(args[0], args[1]); err != nil {
				return err
			}
			fmt.Printf("copied %s to %s\n", args[0], args[1])
		case "delete":
			if !*yes {
				return fmt.Errorf("deleting %s removes its dataset, checkpoints and model; run again with --yes to confirm", args[0])
			}
			if err := sessions.Delete(args[0]); err != nil {
				return err
			}
			fmt.Printf("deleted %s\n", args[0])
		case "card":
			s, err := sessions.Open(args[0])
			if err != nil {
				return err
			}
			pngs, err := writeSessionPlots(s, "", "", 0, 0)
			if err != nil {
				fmt.Fprintf(os.Stderr, "note: plots: %v\n", err)
			}
			path, err := s.WriteCard(pngs)
			if err != nil {
				return err
			}
			fmt.Println(path)
		default:
			return listSessions(*asJSON)
		}
		return nil
	}
}

// newSessionAround makes session name around the model ref (any MODEL:
// a model file, a reference file, a .ts export, another session), saved
// as the session's model. A refused model leaves no session behind.
func newSessionAround(name, ref string) error {
	if ref == "" {
		return fmt.Errorf("%w: new needs --model MODEL (a model file, a reference .ckpt or state dict, a v1 TorchScript .ts)", errUsage)
	}
	if err := sessions.ValidateName(name); err != nil {
		return err
	}
	if _, err := sessions.Open(name); err == nil {
		return fmt.Errorf("session %s exists already; choose another name", name)
	}
	m, path, err := sessions.OpenModel(ref)
	if err != nil {
		return err
	}
	s, err := sessions.Create(name)
	if err != nil {
		return err
	}
	s.Manifest.SampleRate = m.Config.SR
	err = m.Save(layout.Model(s.Dir))
	if err == nil {
		err = s.Save()
	}
	if err != nil {
		if derr := sessions.Delete(name); derr != nil {
			err = fmt.Errorf("%w (and removing the half-made session: %v)", err, derr)
		}
		return err
	}
	fmt.Printf("made session %s around %s (%d Hz, %d latent dims)\n", name, path, m.Config.SR, m.Config.LatentSize)
	return nil
}

func listSessions(asJSON bool) error {
	names, err := sessions.List()
	if err != nil {
		return err
	}
	type row struct {
		Name         string    `json:"name"`
		State        string    `json:"state"`
		Running      bool      `json:"running"`
		PID          int       `json:"pid,omitempty"`
		Step         int64     `json:"step"`
		SizeBytes    int64     `json:"size_bytes"`
		LastActivity time.Time `json:"last_activity"`
	}
	var rows []row
	for _, n := range names {
		s, err := sessions.Open(n)
		if err != nil {
			fmt.Fprintf(os.Stderr, "skipping %s: %v\n", n, err)
			continue
		}
		sum := s.Summary()
		r := row{Name: n, State: string(sum.State), Running: sum.Running, PID: sum.PID}
		if sum.Status != nil {
			r.Step = sum.Status.Step
		}
		r.SizeBytes, r.LastActivity = sessions.DiskUsage(s.Dir)
		rows = append(rows, r)
	}
	if asJSON {
		return printJSON(rows)
	}
	if len(rows) == 0 {
		fmt.Println("no sessions yet: create one with `rave preprocess --session NAME DIR`")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tSTEP\tSIZE\tLAST ACTIVITY")
	for _, r := range rows {
		state := r.State
		if r.Running {
			state += fmt.Sprintf(" (pid %d)", r.PID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f MiB\t%s\n", r.Name, state, r.Step, float64(r.SizeBytes)/(1<<20), r.LastActivity.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// compressFlags declares `rave compress`.
func compressFlags(fs *flag.FlagSet) func(args []string) error {
	var o render.CompressOptions
	fs.Float64Var(&o.Fidelity, "fidelity", 0, "keep the PCA dims explaining this share of latent variance (reference rule)")
	fs.IntVar(&o.Dims, "dims", 0, "keep exactly this many PCA dims")
	fs.IntVar(&o.Bits, "bits", 8, "bits per latent value (1–16)")
	fs.BoolVar(&o.NoiseFill, "noise-fill", false, "decode dropped dims as N(0,1) noise like the reference (default zeros)")
	sweep := fs.Bool("sweep", false, "measure bitrate against spectral distance over dims and bits")
	withPrior := fs.Bool("prior", false, "entropy-code the latents with the session's trained prior (MODEL must be a session)")
	out := fs.String("out", "", "with --sweep: write the table to this `FILE` (TSV)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	return func(args []string) error {
		if *sweep {
			if len(args) != 2 {
				return fmt.Errorf("%w: --sweep wants MODEL and IN.wav", errUsage)
			}
			if err := checkOutput(*out, args...); err != nil {
				return err
			}
			m, err := loadModelArg(args[0], "f32")
			if err != nil {
				return err
			}
			var dims []int
			for d := 1; d <= m.Config.LatentSize; d *= 2 {
				dims = append(dims, d)
			}
			pts, err := render.CompressSweep(m, args[1], dims, []int{2, 4, 6, 8, 12})
			if err != nil {
				return err
			}
			var b strings.Builder
			b.WriteString("dims\tbits\tlatent_kbps\tfile_kbps\tdistance\n")
			for _, p := range pts {
				fmt.Fprintf(&b, "%d\t%d\t%.3f\t%.3f\t%.4f\n", p.Dims, p.Bits, p.LatentKbps, p.FileKbps, p.Distance)
			}
			fmt.Print(b.String())
			if *out != "" {
				return core.WriteFileAtomic(*out, func(f *os.File) error {
					_, err := f.WriteString(b.String())
					return err
				})
			}
			return nil
		}
		if len(args) != 3 {
			return fmt.Errorf("%w: want MODEL, IN.wav and OUT.rvz", errUsage)
		}
		if err := checkOutput(args[2], args[:2]...); err != nil {
			return err
		}
		m, err := loadModelArg(args[0], "f32")
		if err != nil {
			return err
		}
		if *withPrior {
			p, _, err := sessions.OpenPrior(args[0])
			if err != nil {
				return err
			}
			rep, err := render.CompressFileWithPrior(m, p, args[1], args[2], render.PriorCompressOptions{Compare: true})
			if err != nil {
				return err
			}
			if *asJSON {
				return printJSON(rep)
			}
			classes := p.Config().Classes
			fmt.Printf("wrote %s: %d bytes, %.2f s, %d dims\nprior-coded bitrate %.3f kbit/s (%.2f bits per value; file %.3f kbit/s)\nfixed %s quantiser: %.3f kbit/s (.rvz coding of the same dims at %d bits: %.3f kbit/s, distance %.4f)\nspectral distance of the round trip (full band): %.4f; saving %.0f%%\n",
				args[2], rep.FileBytes, rep.Seconds, rep.Dims, rep.Kbps, rep.BitsPerValue, rep.FileKbps, quantiserLabel(classes), rep.FixedKbps,
				int(math.Ceil(math.Log2(float64(classes)))), rep.RVZKbps, rep.RVZDistance, rep.Distance, 100*rep.Saving)
			return nil
		}
		o.Progress = render.NewProgress(os.Stderr)
		rep, err := render.CompressFile(m, args[1], args[2], o)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(rep)
		}
		fmt.Printf("wrote %s: %d bytes, %.2f s, %d dims × %d bits\nbitrate %.3f kbit/s (file %.3f kbit/s; 16-bit PCM would be %.0f kbit/s)\nspectral distance of the round trip (full band): %.4f\n",
			args[2], rep.FileBytes, rep.Seconds, rep.Dims, rep.Bits, rep.LatentKbps, rep.FileKbps, rep.PCMKbps, rep.Distance)
		if rep.Measured < rep.Seconds-1 {
			fmt.Printf("(distance measured on %.0f s of excerpts spread over the input)\n", rep.Measured)
		}
		return nil
	}
}

// quantiserLabel names the fixed quantiser of a prior with the given
// number of classes per value, as `rave compress --prior` prints it:
// "5-bit (32 classes)", "5.58-bit (48 classes)".
func quantiserLabel(classes int) string {
	bits := math.Log2(float64(classes))
	if bits == math.Trunc(bits) {
		return fmt.Sprintf("%d-bit (%d classes)", int(bits), classes)
	}
	return fmt.Sprintf("%.2f-bit (%d classes)", bits, classes)
}

// decompressFlags declares `rave decompress`.
func decompressFlags(fs *flag.FlagSet) func(args []string) error {
	withPrior := fs.Bool("prior", false, "the file was coded with the session's prior (compress --prior)")
	return func(args []string) error {
		if len(args) != 3 {
			return fmt.Errorf("%w: want MODEL, IN.rvz and OUT.wav", errUsage)
		}
		if err := checkOutput(args[2], args[:2]...); err != nil {
			return err
		}
		m, err := loadModelArg(args[0], "f32")
		if err != nil {
			return err
		}
		decode := func() error { return render.DecompressFile(m, args[1], args[2], render.NewProgress(os.Stderr)) }
		if *withPrior {
			p, _, err := sessions.OpenPrior(args[0])
			if err != nil {
				return err
			}
			decode = func() error { return render.DecompressFileWithPrior(m, p, args[1], args[2]) }
		}
		if err := decode(); err != nil {
			return err
		}
		fmt.Printf("wrote %s at %d Hz\n", args[2], m.Config.SR)
		return nil
	}
}

// tuiFlags declares `rave tui` (also plain `rave`).
func tuiFlags(fs *flag.FlagSet) func(args []string) error {
	var o tui.Options
	fs.StringVar(&o.Session, "session", "", "open this session at start")
	fs.StringVar(&o.Clip, "clip", "", "audio file to use as the working clip")
	fs.BoolVar(&o.NoAudio, "no-audio", false, "never open the sound device (export WAV instead)")
	fs.BoolVar(&o.Demo, "demo", false, "open the demo session (installing it if missing)")
	return func(args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("%w: unexpected arguments %v", errUsage, args)
		}
		return tui.Run(o)
	}
}

// serveFlags declares `rave serve`.
func serveFlags(fs *flag.FlagSet) func(args []string) error {
	var o tui.ServeOptions
	fs.StringVar(&o.Listen, "listen", tui.DefaultListen, "address to listen on (loopback by default)")
	fs.StringVar(&o.AuthorizedKeys, "authorized-keys", "", "authorized_keys `FILE` of the public keys allowed in (required)")
	fs.StringVar(&o.HostKeyPath, "host-key", "", "host key file (default $RAVE_HOME/ssh/host_ed25519, created once)")
	return func(args []string) error {
		if o.AuthorizedKeys == "" {
			return fmt.Errorf("%w: --authorized-keys is required (public-key authentication only)", errUsage)
		}
		if w := exposureWarning(o.Listen); w != "" {
			fmt.Fprintln(os.Stderr, w)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		o.Ready = func(a net.Addr) { fmt.Fprintf(os.Stderr, "serving RAVE Station on ssh://%s (Ctrl-C to stop)\n", a) }
		return tui.Serve(ctx, o)
	}
}

// exposureWarning returns the warning `rave serve` prints when addr (host:port)
// listens beyond this machine, "" for a loopback address. A host that is
// empty, a wildcard or a name other than localhost counts as exposed.
func exposureWarning(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if strings.EqualFold(host, "localhost") {
		return ""
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && ip.IsLoopback() {
		return ""
	}
	where := host
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		where = "every network interface"
	}
	return fmt.Sprintf("warning: --listen %s is not a loopback address: the workstation (its sessions, training and files) is open on %s to anyone who can reach this port and holds an authorized key; use %s and an SSH tunnel to keep it on this machine", addr, where, tui.DefaultListen)
}

// printJSON writes v to stdout as indented JSON (the --json output).
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// priorDims picks k for a new prior: the session's chosen fidelity, else
// the model's dims for f = 0.95 (reference rule), else all dims.
func priorDims(s *sessions.Session) (int, error) {
	if f, err := s.ReadFidelity(); err == nil && f.Dims > 0 {
		return f.Dims, nil
	}
	m, _, err := sessions.OpenModel(layout.Model(s.Dir))
	if err != nil {
		return 0, err
	}
	if !m.LatentAnalysis.Done {
		return m.Config.LatentSize, nil
	}
	_, k := m.LatentPCA().DimsForFidelity(0.95)
	return k, nil
}

// priorFlags declares `rave prior`.
func priorFlags(fs *flag.FlagSet) func(args []string) error {
	name := fs.String("session", "", "session `NAME` with a trained model")
	steps := fs.Int64("steps", 0, "total training steps (default 20000)")
	dims := fs.Int("dims", 0, "PCA dims the prior models (default: the session's fidelity choice)")
	seed := fs.Uint64("seed", 1, "random seed of a new run")
	quiet := fs.Bool("quiet", false, "no progress line")
	return func(args []string) error {
		if len(args) != 1 || args[0] != "train" {
			return fmt.Errorf("%w: the action is `train`", errUsage)
		}
		if *name == "" {
			return fmt.Errorf("%w: --session is required", errUsage)
		}
		s, lock, err := openLocked(*name, "prior")
		if err != nil {
			return err
		}
		defer lock.Release()
		k := *dims
		if k == 0 {
			if k, err = priorDims(s); err != nil {
				return err
			}
		}
		cfg := train.DefaultPriorConfig(s.Dir, k)
		cfg.Seed = *seed
		if *steps > 0 {
			cfg.Steps = *steps
		}
		return runWithConsole(lock, *quiet, func(ctx context.Context, events chan<- train.Event) error {
			return train.RunPrior(ctx, cfg, events)
		})
	}
}

// generateFlags declares `rave generate`.
func generateFlags(fs *flag.FlagSet) func(args []string) error {
	name := fs.String("session", "", "session `NAME` with a trained model and prior")
	seconds := fs.Float64("seconds", 10, "length to generate")
	var o render.GenerateOptions
	fs.Float64Var(&o.Temperature, "temperature", 1, "sampling temperature (0 = always the most likely class)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	fs.StringVar(&o.Prompt, "prompt", "", "audio `FILE` whose continuation is generated")
	fs.BoolVar(&o.IncludePrompt, "include-prompt", false, "start the output with the prompt")
	fs.BoolVar(&o.Deterministic, "deterministic", false, "zeros for the dims the prior does not model, no noise synthesiser")
	fs.TextVar(&o.StreamWeights, "stream-weights", stream.WeightsFloat32, "storage of the streaming decoder's weights: f32 (exact), f16 or int8 (faster, see rave bench)")
	return func(args []string) error {
		if *name == "" || len(args) != 1 {
			return fmt.Errorf("%w: want --session NAME and OUT.wav", errUsage)
		}
		if err := checkOutput(args[0], o.Prompt); err != nil {
			return err
		}
		m, err := loadModelArg(*name, "f32")
		if err != nil {
			return err
		}
		p, _, err := sessions.OpenPrior(*name)
		if err != nil {
			return err
		}
		o.Streaming = true
		rep, err := render.GenerateFile(m, p, *seconds, args[0], o, render.NewProgress(os.Stderr))
		if err != nil {
			return err
		}
		fmt.Printf("wrote %s: %.2f s (%d frames, %d prior dims) in %s; sampling %.2fx and decoding %.2fx of real time (below 1 is faster)\n",
			args[0], rep.Seconds, rep.Frames, rep.Dims, rep.Elapsed.Round(time.Millisecond), rep.SamplingRTF, rep.DecodingRTF)
		return nil
	}
}

// runWithConsole runs a training job until it ends or SIGINT/SIGTERM (or a
// stop request through the session's lock: trainjob.Stop on Windows) asks
// it to checkpoint and stop, printing its events on stderr.
func runWithConsole(lock *sessions.Lock, quiet bool, job func(ctx context.Context, events chan<- train.Event) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := lock.Context(ctx) // a stop request: trainjob.Stop on Windows
	defer cancel()
	events := make(chan train.Event, 64)
	done := make(chan error, 1)
	go func() {
		done <- job(ctx, events)
		close(events)
	}()
	con := newTrainConsole(os.Stderr, quiet)
	for ev := range events {
		con.show(ev)
	}
	err := <-done
	con.finish(err)
	return err
}

// openLocked opens a session and takes its lock for purpose; the caller
// defers the lock's Release.
func openLocked(name, purpose string) (*sessions.Session, *sessions.Lock, error) {
	s, err := sessions.Open(name)
	if err != nil {
		return nil, nil, err
	}
	lock, err := s.Acquire(purpose)
	if err != nil {
		return nil, nil, err
	}
	return s, lock, nil
}
