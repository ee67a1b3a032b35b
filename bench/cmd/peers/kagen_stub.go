//go:build nokagen

package main

import "errors"

const kagenAvailable = false

func newKagen(model []byte, ins []inputSpec, threads int) (Engine, error) {
	return nil, errors.New("built with -tags nokagen (the kagen engine did not compile)")
}

func kagenSupportedOps() []string { return nil }
