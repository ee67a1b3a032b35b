//go:build !race

package approx

// raceBuild reports a -race build (see race_on_test.go).
const raceBuild = false
