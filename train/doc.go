// Package train is the two-stage RAVE trainer (rave-spec §6–§8): stage 1
// trains the VAE with multiband and full-band spectral distances, the
// loudness distance and β·KL; stage 2 freezes the encoder and fine-tunes the
// decoder adversarially against a multiscale discriminator with feature
// matching. It also trains the latent prior of a trained model (RunPrior,
// rave-spec §10.1).
//
// Both trainers run on one skeleton, the runner (runner.go): the loop over
// the steps with its logging, validation and checkpoint intervals,
// checkpoints with exact resume, status.json, metrics.jsonl, events and the
// wall clock. Each trainer is the runner's job and supplies its step, its
// validation and what its checkpoints hold, with what is its own: for the
// RAVE trainer (trainer.go, step.go) the stages, NaN recovery, the control
// file and the run manifest; for the prior (prior.go) the encoded dataset
// and its cache.
//
// Scope: batches from a memory-mapped dataset (Loader), the update schedule
// (stages, the β warm-up), data-parallel steps over the CPU's cores (a
// batch split into parts computed concurrently on replicas of the model, as
// the reference's DistributedDataParallel does over devices), checkpoints
// with exact resume, metrics and events. Non-goals: multi-machine
// training, mixed precision.
package train
