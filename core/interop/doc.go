// Package interop reads the reference implementation's files into models
// of core/model: RAVE v1 state dicts saved as .npz (core/npy) or
// .safetensors, and PyTorch(-Lightning) zip checkpoints (.ckpt, .pt:
// unpickled by github.com/nlpodyssey/gopickle), with the configuration
// taken from the checkpoint's hyper-parameters or inferred from the tensor
// shapes (Import, ImportWithInfo, ImportDiscriminator).
//
// The files may come from anywhere, so every reader is fuzzed (fuzz_test.go)
// and none may panic or hang. A file that cannot be a model is refused
// first by core/modelfile.Check, and any later problem with the container
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
// Importing RAVE v2 checkpoints is later work; core/interop/tsexport
// writes TorchScript exports of our v1 models.
//
// Errors are prefixed "interop: " (and "model: " for tensors the model
// refuses).
package interop
