// Package tui is RAVE Station's terminal workstation: a bubbletea (v1)
// application to prepare datasets, run and watch training, choose the
// latent size, explore the latent space by ear and listen to the results,
// locally (Run, for `rave`) or over SSH (Serve, for `rave serve`).
//
// # Panes
//
// The screen is a header with five tabs, the active pane, a two-line
// playback bar and a status line. It is laid out for 80×24 and follows
// resizes; on a narrower terminal the header drops its title and shortens
// the tab labels, lines break between their parts or wrap, and a line that
// must still be cut ends in "…" (truncate, the one place that cuts). The
// status line always ends with ? and q; every action has a key, and `?`
// lists them, on several pages (? turns them) when the terminal is short.
//
//   - Sessions: every session with its state, derived from its files
//     (empty, preprocessed, training, stage 2, trained; ▶ marks a live
//     job), dataset length and age. n creates one: a name, then audio
//     folders or files typed in a prompt with tab completion; preprocessing
//     (sessions.Preprocess) runs in a goroutine with a progress bar, and
//     the files it rejected are listed with the reason under the sessions
//     (esc hides them). enter opens, r renames, d deletes after a y/n
//     question, p adds audio.
//   - Training: starts (s), stops (x) and resumes the session's detached
//     trainer (trainjob.Start: `rave train --session NAME`, its own
//     process session, output in train.log, so quitting the TUI or losing
//     SSH never stops it). It tails metrics.jsonl and status.json: one
//     chart for the selected loss (←/→) and a sparkline for every loss,
//     the stage with its switch step (the newest run manifest's stage-1
//     length, before a run the default of the preset), steps/s, ETA and
//     the last checkpoint. F asks the trainer for stage 2 now by writing
//     control.json ({"force_stage2": true}; see package trainjob); on a
//     stopped run it asks first, as the request waits for the next start.
//     A trainer that exits at once shows its own message, in full. A
//     session without a dataset (the demo) says it cannot train and offers
//     n, a new session.
//   - Fidelity: the variance each PCA dimension explains, the cumulative
//     curve with a cursor on the target fidelity f (←/→ by 0.01, {/} by
//     0.001), the dimensions f needs both exactly and by the reference's
//     power-of-two export rule, and the bitrate k × frames/s × bits. enter
//     plays the clip reconstructed with exactly k dimensions (the rest
//     zero) as track B; s records the choice in fidelity.json.
//   - Latent: one meter per dimension in PCA order at the playhead (the
//     distance from the dimension's mean over the clip, in its standard
//     deviation), moving with playback. ←/→ bias, [/] scale, f freeze at
//     the playhead, z randomise, c/C clear. With a sound device and a model
//     that streams, track B is decoded live from the clip's latents while
//     it plays (livetrack.go): an edit makes B current and is heard a
//     block or two (45–85 ms) plus the device's buffer after the key, with
//     no re-render, and enter plays B. Without a
//     device (or over SSH), or for a model that cannot stream, a short
//     pause after an edit (or enter) renders the whole clip offline as
//     track B.
//   - Generate: for a session with a trained prior
//     (prior/prior.safetensors, `rave prior train --session NAME`), new
//     audio from render.Generate: ←/→ temperature ±0.1, ↑/↓ length ±1 s,
//     r a new random seed, {/} seed ±1, enter generates (in a command), p
//     plays the result as the working clip (track A), e exports it as WAV
//     to exports/. Without a prior it says how to train one (or, without
//     a dataset to train it on, as for the demo, what to do instead). The training
//     pane shows the prior's last step, xent and val_xent when
//     prior/metrics.jsonl exists.
//   - Playback bar: track A is the working clip (a few seconds of the
//     dataset, or a file opened with o), track B the last render. space
//     plays, a switches A/B at the same position, L loops, +/- volume,
//     </> seek. Without a sound device (or over SSH) it says so and w
//     writes A and B as WAV files to the session's exports/ folder (a live
//     B is rendered whole with the edit in force for that).
//
// # Demo session
//
// When the workstation starts without a session to open and there is no
// session other than the demo (or with Options.Demo), it installs the demo
// session (package tui/demo: an embedded small model trained on the
// Salamander Grand Piano V3 recordings by Alexander Holm, CC-BY 3.0, and a
// short clip of them) unless it exists, and opens it in the Fidelity pane
// with the demo clip as the working clip. The sessions list marks it
// "★ demo (piano)" and shows the credit when it is selected.
//
// # Layout of the code
//
// app.go is the root model: it owns focus, routes messages, handles the
// global and playback keys and lays the screen out; help.go draws the keys
// (status line and ? pages). keys.go holds the one
// KeyMap (components test keys only with key.Matches), styles.go the one
// Styles (every colour and every lipgloss style), msgs.go the messages
// shared between components. Each pane has its file (sessions.go,
// training.go, fidelity.go, latent.go, generate.go), as do the playback bar
// (player.go), prompts (prompt.go), text charts (chart.go), the model
// adapter (codec.go), streaming playback (liverender.go, livetrack.go and
// the latent pane's side of it, latentlive.go) and SSH serving (serve.go). Components embed Common
// (size, styles, keys, clock), have SetSize and their own help, and their
// Update returns their concrete type.
//
// # Concurrency and errors
//
// Update and View never do I/O or heavy computation: loading models and
// clips, encoding, decoding, resampling, exporting and job control run in
// tea.Cmds. Long-running work reports through channels drained one
// message per command and re-armed in Update (the training watcher, the
// preprocessing progress); their goroutines end with the program however
// it ends (the quit key, a signal, a lost SSH connection: see app.release
// and Options.ctx). Audio plays through audio.Player, whose single
// lock makes every change from the UI atomic with the audio thread.
// Recoverable errors appear in the status line and clear themselves;
// fatal ones replace the screen with an ERROR badge, the error and a hint.
// Nothing is printed while the TUI owns the terminal (set DEBUG to log to
// rave-debug.log); alsa-lib's diagnostics are kept off the screen by the
// audio package.
//
// # Models
//
// The fidelity and latent panes talk to the model through Codec (whole-
// clip encode and decode in PCA space). A codec that also implements
// StreamingCodec hands out FrameDecoders (core/stream's Streamer: cached
// causal convolutions, no allocation per buffer) for live playback. The
// implementation for model files wraps core/model and does both. The model
// is <session>/model.safetensors, reloaded when the trainer writes a new
// one (a live B keeps playing the old weights until the new ones stream).
//
// # Live playback
//
// The clip is encoded once. A liveTrack (an audio.SeekStream, so the
// player treats it as any track B) runs a goroutine that feeds the edited
// latents frame by frame to a FrameDecoder and keeps at most two blocks
// (2048 samples each at 48 kHz) decoded ahead of the device. Because the
// latents are known in advance, it feeds the decoder its latency ahead and
// hands out its output shifted back (liveRenderer): block k is the offline
// decoding of clip samples [k·2048, (k+1)·2048), so the meters, which
// follow the player's position, show the frame being heard. Read never
// waits on the decoder in steady state (the player and oto call it holding
// the locks the device thread and the UI take). A seek, an A/B switch or a
// loop restarts the decoder at the new position, which must first decode
// its warm-up (26 frames for the demo model, about 40 ms): B plays a gap
// of silence 1.5 times that long meanwhile, then exactly the offline
// decoding. An edit restarts the decoder at the end of the queue with the
// edit on every frame, primed over as much of the warm-up as decodes while
// the queue plays, so it is heard after the queue (45–85 ms) plus the
// device's buffer (the player's 100 ms). The goroutine ends when the
// latents change, the session or clip changes, or the workstation quits;
// SetEdit, Seek and Close never block the Update loop.
//
// # Tests
//
// Golden tests (testdata/TestGolden/*.golden, regenerated with
// `go test ./tui -run TestGolden -update`) drive the whole app with
// teatest at a fixed size and the ASCII colour profile, with fake models,
// clips and players. Logic tests call Update directly. An end-to-end test
// builds the binary and drives it in tmux with no sound card; TestServeSSH
// logs in over SSH.
package tui
