//go:build !unix

package audio

import (
	"errors"
	"os"
)

// mmapFile is unavailable on this platform; OpenDataset reads the file.
func mmapFile(f *os.File, size int64) ([]byte, func() error, error) {
	return nil, nil, errors.ErrUnsupported
}
