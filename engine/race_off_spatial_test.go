//go:build !race

package engine

// spatialRaceBuild reports a -race build (see race_on_spatial_test.go).
const spatialRaceBuild = false
