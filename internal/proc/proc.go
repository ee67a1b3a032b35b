// Package proc tells whether a process of this host still runs: the test
// kagen uses to take over the leases, locks, temporary files and folders
// that a killed run left behind.
package proc
