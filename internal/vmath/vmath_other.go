//go:build !(amd64 || arm64) || purego

package vmath

const useAsm = false

func kernel(k kind, dst, src *float32, n int, a, b float32) { panic("vmath: no assembly") }
