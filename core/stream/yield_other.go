//go:build !linux

package stream

// osYield gives the processor to another thread where the platform lets a
// program do so cheaply; elsewhere it does nothing.
func osYield() {}
