package vmath

// The error bounds stated in the functions' documentation, checked by the
// tests (ulps of the correctly rounded result; Erf's is absolute).
const (
	expULP      = 2
	logULP      = 1
	tanhULP     = 2
	sigmoidULP  = 3
	erfAbs      = 5e-7
	erfSmallULP = 5
)
