// Package interop reads the reference implementation's files into models
// of core/model and core/modelv2: RAVE v1 state dicts saved as .npz
// (core/npy) or .safetensors, and PyTorch(-Lightning) zip checkpoints (.ckpt, .pt:
// unpickled by github.com/nlpodyssey/gopickle), with the configuration
// taken from the checkpoint's hyper-parameters or inferred from the tensor
// shapes (Import, ImportWithInfo, ImportDiscriminator).
//
// The files may come from anywhere, so every reader is fuzzed
// (fuzz_test.go, ginv2_fuzz_test.go, core/interop/gin) and none may panic
// or hang. A file that cannot be a model is refused first by
// core/modelfile.Check, and any later problem with the container
// is a *modelfile.Error too ("last.ckpt: not a RAVE model file (the file
// is cut short)"). A checkpoint's pickle is scanned opcode by opcode
// (scanPickle) before gopickle runs it, so that no length in it makes the
// unpickler allocate more than the file holds; the unpickling runs under
// a time limit and a recovered panic becomes an error; and only the
// storages of the state dict's tensors are read, each checked against its
// record. Checkpoints saved by PyTorch before 1.6 (a bare pickle, not a
// zip) are refused with a hint.
//
// It owns the foreign formats: core/model knows the reference's
// state-dict keys and builds a model from named tensors
// (model.FromStateDict), this package reads the containers and the
// reference's conventions around them.
//
// ImportTorchScript reads the reference's TorchScript exports (.ts, read
// by core/interop/torchscript): RAVE v1 (export_rave.py of the v1 tag)
// into core/model, RAVE v2 (scripts/export.py of v2.3.1) into
// core/modelv2, streaming or not. The exports hold weight-norm-removed
// weights (imported as weight_v, with weight_g = ‖weight‖); the
// architecture comes from the module tree and every convolution's stride,
// dilation and padding are checked against the model's; anything it
// cannot map is refused by name. Import takes v1 exports and refuses v2
// ones with ErrTorchScriptV2, as the workstation plays only v1 models.
//
// ImportV2 reads RAVE v2 (v2.3.1) state dicts into core/modelv2: v2.3
// Lightning checkpoints (.ckpt, as scripts/train.py saves best.ckpt),
// bare torch.save state dicts, .npz and .safetensors. The architecture
// comes from the run's config.gin (FindRunConfig: next to the file or up
// to two folders above, as in runs/NAME_hash/version_0/checkpoints/
// best.ckpt → runs/NAME_hash/config.gin), read by core/interop/gin:
// the bindings that shape the model (capacity, latent size, ratios,
// dilations, kernel size, bands, PQMF attenuation, sampling rate,
// amplitude modulation, the noise generator, causal padding, the
// discriminator, the training objective) are applied, and any binding the
// model cannot follow (another encoder, decoder or discriminator class,
// biases, another normalisation, noise augmentation, a configurable this
// package does not know) is refused naming its line and value; the
// bindings of the data pipeline (dataset, transforms) are ignored and
// listed. Without a config.gin the configuration is inferred from the
// tensor shapes, and what shapes cannot tell (dilations, sampling rate,
// discriminator periods and stride, causal padding, the training
// schedule) is taken from configs/v2.gin and listed as assumed. The file
// must hold exactly the model's tensors (modelv2.Model.LoadStateDict
// names every missing, unexpected or mis-shaped one). Import and
// ImportWithInfo read a v2 file the same way and refuse it with an error
// that says what was read and wraps ErrCheckpointV2; core/interop/tsexport
// writes TorchScript exports of our models.
//
// Errors are prefixed "interop: " (and "model: " for tensors the model
// refuses).
package interop
