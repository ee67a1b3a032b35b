package sessions

import "github.com/kagen-ai/kagen/internal/proc"

// processAlive reports whether a process with this pid runs on this host
// (proc.Alive: a zombie does not, another user's process does).
func processAlive(pid int) bool { return proc.Alive(pid) }
