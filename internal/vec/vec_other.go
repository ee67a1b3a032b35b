//go:build !amd64 || purego

package vec

const hasAVX = false

func clampAVX(dst, src *float32, n int, lo, hi float32)     { panic("vec: no assembly") }
func avgClampAVX(dst, a, b *float32, n int, lo, hi float32) { panic("vec: no assembly") }
