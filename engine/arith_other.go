//go:build !amd64 || purego

package engine

// arithVecArch reports that no assembly computed any of arithVec.
func arithVecArch(op byte, swap bool, o, x, y []float32) int { return 0 }

// arithScalarArch reports that no assembly computed any of arithScalar.
func arithScalarArch(op byte, swap bool, o, x []float32, s float32) int { return 0 }
