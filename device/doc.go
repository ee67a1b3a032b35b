// Package device describes the devices kagen measures on and models
// energy for: the fingerprint of a device and build (which latency
// figures are only valid on), the energy profiles that turn measured busy
// time into modelled energy, and the meters that read real energy counters
// where the hardware exposes them. It depends on nothing else in kagen, so
// that the policy package (the on-device part) and the profiler share it.
package device
