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
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ravestation/rave/audio"
	"github.com/ravestation/rave/core"
	"github.com/ravestation/rave/sessions"
	"github.com/ravestation/rave/train"
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
		{name: "tui", summary: "open the workstation (the default when no command is given)"},
		{name: "serve", summary: "serve the workstation over SSH (public-key auth, loopback by default)", usage: "[--listen ADDR] --authorized-keys FILE"},
		{name: "sessions", summary: "list, rename, duplicate or delete sessions; write model cards", usage: "[list|rename|duplicate|delete|card] ..."},
		{name: "preprocess", summary: "decode, resample and chunk audio into a session's dataset", usage: "--session NAME [--rate HZ] [--chunk N] DIR_OR_FILES...",
			details: "Folders are walked recursively for .wav .flac .mp3 .ogg .aif(f) files; files named directly are always tried.\nRunning it again adds only new files. Corrupt, empty or non-audio files are listed as rejected, with the reason.",
			flags:   preprocessFlags},
		{name: "train", summary: "train a RAVE model (stage 1 VAE, stage 2 adversarial) in a session", usage: "--session NAME [--preset tiny|small|v1] [--stage1-steps N] [--steps N] [--batch B] [--seed S]",
			details: "Resumes from the session's newest checkpoint when there is one. Ctrl-C (SIGINT) or SIGTERM writes a checkpoint and stops;\nrun the same command again to continue exactly where it stopped. Only one trainer may run per session.",
			flags:   trainFlags},
		{name: "analyze", summary: "latent analysis: PCA of posterior means and the fidelity curve", usage: "--session NAME"},
		{name: "encode", summary: "encode audio to latents (.npy)", usage: "MODEL IN.wav --out Z.npy [--raw] [--deterministic] [--fidelity f]"},
		{name: "decode", summary: "decode latents (.npy) to audio", usage: "MODEL Z.npy OUT.wav"},
		{name: "reconstruct", summary: "encode then decode audio", usage: "MODEL IN.wav OUT.wav [--fidelity f]"},
		{name: "transfer", summary: "timbre transfer: render any audio with a model trained on other sounds", usage: "MODEL IN.wav OUT.wav"},
		{name: "compress", summary: "compress audio to quantised latents (.rvz)", usage: "MODEL IN.wav OUT.rvz [--fidelity f | --dims k] [--bits b]"},
		{name: "decompress", summary: "decode a .rvz file to audio", usage: "MODEL IN.rvz OUT.wav"},
		{name: "import", summary: "import reference weights (.npz, .safetensors, Lightning .ckpt)", usage: "SRC --out MODEL"},
		{name: "plot", summary: "write PNG plots of losses, the SVD spectrum and spectrograms", usage: "--session NAME [--out DIR]"},
		{name: "bench", summary: "measure kernel speed (sgemm, conv1d) and, later, model real-time factors", usage: "[kernels] [--json]", flags: benchFlags},
		{name: "version", summary: "print the version", flags: func(*flag.FlagSet) func([]string) error {
			return func([]string) error { fmt.Println("rave", version); return nil }
		}},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args and returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		// The workstation is the default; until it exists, show the help.
		printHelp(stdout)
		return 0
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
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(stdout, c, fs)
			return 0
		}
		fmt.Fprintf(stderr, "rave %s: %v\n", c.name, err)
		printCommandHelp(stderr, c, fs)
		return 2
	}
	if err := exec(fs.Args()); err != nil {
		if errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "rave %s: %v\n", c.name, err)
			printCommandHelp(stderr, c, fs)
			return 2
		}
		fmt.Fprintf(stderr, "rave %s: %v\n", c.name, err)
		return 1
	}
	return 0
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
	fmt.Fprintln(tw, "\nPlanned, not in this build yet:")
	for _, c := range commands() {
		if c.flags == nil {
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
	minTime := fs.Duration("time", time.Second, "time spent on each measurement")
	return func(args []string) error {
		if len(args) > 0 && args[0] != "kernels" {
			return fmt.Errorf("%w: unknown target %q (this build measures: kernels)", errUsage, args[0])
		}
		results := core.MeasureKernels(*minTime)
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"sgemm_kernel": core.SgemmKernel(), "results": results})
		}
		fmt.Printf("sgemm kernel: %s\n", core.SgemmKernel())
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "kernel\tms/call\tGFLOPS\t")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%.3f\t%.1f\t\n", r.Name, r.Seconds*1e3, r.GFLOPS)
		}
		return tw.Flush()
	}
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
	preset := fs.String("preset", "", "model preset for a new run: tiny, small or v1 (default small)")
	stage1 := fs.Int64("stage1-steps", 0, "steps of stage 1 (VAE) before the adversarial stage (default: the preset's)")
	steps := fs.Int64("steps", 0, "total steps (default: the preset's)")
	batch := fs.Int("batch", 0, "examples per step (default: the preset's)")
	nsignal := fs.Int("n-signal", 0, "samples per example (default: the preset's)")
	seed := fs.Uint64("seed", 1, "random seed of a new run")
	lr := fs.Float64("lr", 0, "learning rate (default 1e-4)")
	every := fs.Int64("checkpoint-every", 0, "steps between checkpoints (default: the preset's)")
	valEvery := fs.Int64("val-every", 0, "steps between validations (default: the preset's)")
	logEvery := fs.Int64("log-every", 0, "steps between metric lines (default: the preset's)")
	quiet := fs.Bool("quiet", false, "no progress line, only stage changes and the summary")
	return func(args []string) error {
		if *name == "" {
			return fmt.Errorf("%w: --session is required", errUsage)
		}
		if len(args) > 0 {
			return fmt.Errorf("%w: unexpected arguments %v", errUsage, args)
		}
		s, err := sessions.Open(*name)
		if err != nil {
			return err
		}
		lock, err := s.Acquire("train")
		if err != nil {
			return err
		}
		defer lock.Release()
		if *preset != "" && s.Manifest.Preset != "" && s.Manifest.Preset != *preset {
			fmt.Fprintf(os.Stderr, "note: session %s was trained with preset %s; a resumed run keeps its model\n", s.Manifest.Name, s.Manifest.Preset)
		}
		cfg := train.Config{SessionDir: s.Dir, Preset: *preset, Stage1Steps: *stage1, Steps: *steps, Batch: *batch,
			NSignal: *nsignal, Seed: *seed, LR: *lr, CheckpointEvery: *every, ValEvery: *valEvery, LogEvery: *logEvery}
		if cfg.Preset == "" {
			cfg.Preset = s.Manifest.Preset
		}
		if cfg.Preset == "" {
			cfg.Preset = "small"
		}
		if s.Manifest.Preset == "" {
			s.Manifest.Preset, s.Manifest.Seed = cfg.Preset, cfg.Seed
			if err := s.Save(); err != nil {
				return err
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		events := make(chan train.Event, 64)
		done := make(chan error, 1)
		go func() {
			done <- train.Run(ctx, cfg, events)
			close(events)
		}()
		con := newTrainConsole(os.Stderr, *quiet)
		for ev := range events {
			con.show(ev)
		}
		con.finish()
		return <-done
	}
}

// trainConsole prints training events: a progress line redrawn in place on
// a terminal (stage, step, losses, steps/s, ETA), plain lines elsewhere.
type trainConsole struct {
	w     io.Writer
	tty   bool
	quiet bool
	live  bool
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
	case train.EventStep:
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
	case train.EventValidation:
		extra := ""
		if ev.Message != "" {
			extra = " (" + ev.Message + ")"
		}
		c.line("validation at step %d:%s%s", ev.Step, lossSummary(ev.Losses), extra)
	case train.EventCheckpoint:
		if !c.quiet {
			c.line("checkpoint at step %d: %s", ev.Step, ev.Checkpoint)
		}
	case train.EventStage, train.EventWarning, train.EventDone:
		if ev.Message != "" {
			c.line("%s", ev.Message)
		}
	}
}

func (c *trainConsole) finish() {
	if c.live {
		fmt.Fprintln(c.w)
	}
}
