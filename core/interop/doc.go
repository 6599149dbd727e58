// Package interop reads the reference implementation's files into models
// of core/model: RAVE v1 state dicts saved as .npz (codeberg.org/sbinet/npyio)
// or .safetensors, and PyTorch(-Lightning) zip checkpoints (.ckpt, .pt:
// github.com/nlpodyssey/gopickle), with the configuration taken from the
// checkpoint's hyper-parameters or inferred from the tensor shapes
// (Import, ImportWithInfo, ImportDiscriminator).
//
// It owns the foreign formats: core/model knows the reference's
// state-dict keys and builds a model from named tensors
// (model.FromStateDict), this package reads the containers and the
// reference's conventions around them. It is where TorchScript import and
// export and the import of RAVE v2 checkpoints will land.
//
// Errors are prefixed "interop: " (and "model: " for tensors the model
// refuses).
package interop
