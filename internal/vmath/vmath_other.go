//go:build !amd64 || purego

package vmath

const useAsm = false

func kernel(k kind, dst, src *float32, n int) { panic("vmath: no assembly") }
