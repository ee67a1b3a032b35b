//go:build !amd64 || purego

package vec

const (
	hasAVX = false
	hasFMA = false
)

func clampAVX(dst, src *float32, n int, lo, hi float32)            { panic("vec: no assembly") }
func avgClampAVX(dst, a, b *float32, n int, lo, hi float32)        { panic("vec: no assembly") }
func sumAVX(x *float32, n int) float32                             { panic("vec: no assembly") }
func sumPlanesAVX(dst, src *float32, planes, n int, scale float32) { panic("vec: no assembly") }
func tapSumRowsAVX(dst *float32, dstStride int, src *float32, srcStride int, rows, n int, offs *int32, w *float32, taps int, bias float32) {
	panic("vec: no assembly")
}
func tapSumPlanesAVX(dst, src *float32, stride, planes, n int, offs *int32, w *float32, taps int, bias *float32, lo, hi float32) {
	panic("vec: no assembly")
}
func copyPlanesAVX(dst *float32, dstRow, dstPlane int, src *float32, srcRow, srcPlane int, planes, rows, n, spill int) {
	panic("vec: no assembly")
}
func clampRowsAVX(dst *float32, dstStride int, a *float32, aStride int, b *float32, bStride int, rows, n int, avg int, lo, hi float32) {
	panic("vec: no assembly")
}
