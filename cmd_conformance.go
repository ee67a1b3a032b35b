package main

import (
	"fmt"
	"io"

	"github.com/kagen-ai/kagen/engine/conformance"
)

// cmdConformance runs ONNX backend test directories.
func cmdConformance(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("conformance", stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen conformance DIR...\n\nRuns ONNX backend tests (model.onnx plus test_data_set_*/input_*.pb and output_*.pb).\nA DIR holding model.onnx is one test; any other DIR is searched one level deep.")
	}
	dirs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		fs.Usage()
		return usageError{"no test directory given"}
	}
	s, err := conformance.Run(dirs, stdout)
	if err != nil {
		return err
	}
	if s.Failed > 0 {
		return fmt.Errorf("%d tests failed", s.Failed)
	}
	return nil
}
