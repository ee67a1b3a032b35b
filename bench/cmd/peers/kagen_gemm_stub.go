//go:build nokagen

package main

func kagenGemmKernel() string { return "" }

func kagenGemmRunners(m, n, k int, a, b []float32, threads int) []gemmRunner { return nil }
