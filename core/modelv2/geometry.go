package modelv2

// ConvGeometry is the shape of one convolution of the model as its
// forward pass runs it (Conv.Geometry).
type ConvGeometry struct {
	// Transposed reports a ConvTranspose1d.
	Transposed bool
	// K is the kernel size, Stride and Dilation as in PyTorch.
	K, Stride, Dilation int
	// PadLeft and PadRight are the zero padding of a Conv1d; for a
	// ConvTranspose1d both are its padding argument (the samples cropped
	// at each end).
	PadLeft, PadRight int
}
