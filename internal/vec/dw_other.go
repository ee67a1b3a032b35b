//go:build !amd64 || purego

package vec

const hasAVX2 = false

func deinterleaveAVX(even, odd *float32, dstRow int, src *float32, srcRow, rows, n int) {
	panic("vec: no assembly")
}
