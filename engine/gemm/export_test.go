package gemm

// Conversions exported to the external tests, which compare them with the
// engine's.
var (
	FloatToHalfForTest = floatToHalf
	HalfToFloatForTest = halfToFloat
	ToHalfForTest      = toHalf
	FromHalfForTest    = fromHalf
)
