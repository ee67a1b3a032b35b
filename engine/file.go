package engine

import "github.com/kagen-ai/kagen/internal/readfile"

// readFileLimited reads a model file: a regular file of at most limit
// bytes.
func readFileLimited(path string, limit int64) ([]byte, error) {
	return readfile.Regular(path, limit)
}
