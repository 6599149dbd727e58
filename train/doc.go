// Package train is the two-stage RAVE trainer (rave-spec §6–§8): stage 1
// trains the VAE with multiband and full-band spectral distances, the
// loudness distance and β·KL; stage 2 freezes the encoder and fine-tunes the
// decoder adversarially against a multiscale discriminator with feature
// matching.
//
// Scope: batches from a memory-mapped dataset (Loader), the update schedule
// (stages, the β warm-up), data-parallel steps over the CPU's cores (a
// batch split into parts computed concurrently on replicas of the model, as
// the reference's DistributedDataParallel does over devices), checkpoints
// with exact resume, metrics and events. Non-goals: multi-machine
// training, mixed precision.
package train
