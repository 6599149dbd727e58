package core

// SetConvTuning sets the im2col block size (values), the least block width
// and the narrowest layer that runs through Winograd, and returns a function
// restoring the previous values. Tests use it to reach every code path at
// small sizes.
func SetConvTuning(budget, minWidth, winoChannels int) (restore func()) {
	b, m, w := chunkBudget, minChunk, winoMinChannels
	chunkBudget, minChunk, winoMinChannels = budget, minWidth, winoChannels
	return func() { chunkBudget, minChunk, winoMinChannels = b, m, w }
}
