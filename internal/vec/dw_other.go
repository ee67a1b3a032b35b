//go:build !amd64 || purego

package vec

const (
	hasAVX2   = false
	hasAVX512 = false
)

func deinterleaveAVX(even, odd *float32, dstRow int, src *float32, srcRow, rows, n, planes, dstSkip, srcSkip int) {
	panic("vec: no assembly")
}

func dwFlat3AVX(dst, src *float32, stride, planes, n, row int, w, bias *float32, lo, hi float32) {
	panic("vec: no assembly")
}

func dwFlat5AVX(dst, src *float32, stride, planes, n, row int, w, bias *float32, lo, hi float32) {
	panic("vec: no assembly")
}

func dwGrid5AVX(dst, src *float32, stride, planes, row, lastX, lastY int, w, bias *float32, lo, hi float32) {
	panic("vec: no assembly")
}

func dwFlat3AVX512(dst, src *float32, stride, planes, n, row int, w, bias *float32, lo, hi float32) {
	panic("vec: no assembly")
}

func dwFlat5AVX512(dst, src *float32, stride, planes, n, row int, w, bias *float32, lo, hi float32) {
	panic("vec: no assembly")
}

func dwSame3AVX512(dst, src *float32, planes, n, row int, masks *uint16, nv int, w, bias *float32, lo, hi float32) {
	panic("vec: no assembly")
}
