//go:build nokagen

package main

import "errors"

const kagenAvailable = false

func newKagen(model []byte, in inputSpec, data []float32, threads int) (Engine, error) {
	return nil, errors.New("built with -tags nokagen (the kagen engine did not compile)")
}
