package sessions_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/kagen-ai/kagen/sessions"
)

// A workbench opens the store, takes the session's lease, autosaves each
// change through it, and releases it on exit. A second workbench on the
// same session is refused and may show it read-only.
func Example() {
	dir, err := os.MkdirTemp("", "kagen-sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	store, err := sessions.Open(dir) // "" would mean $XDG_DATA_HOME/kagen
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	lease, err := store.Acquire("har-int8")
	if err != nil {
		log.Fatal(err)
	}
	s := &sessions.Session{
		Name:      "har-int8",
		ModelPath: "har.onnx",
		Traces:    []string{"walk.csv", "run.csv"},
		Policy:    json.RawMessage(`{"controller":"floor","floor":0.9}`),
	}
	for _, cfg := range []string{"fc=int8", "conv1=perf-row:2:0,fc=int8"} {
		s.Config = cfg // each change is saved in its own transaction
		if err := lease.Save(s); err != nil {
			log.Fatal(err)
		}
	}

	// Another process (here: another Store on the same directory) cannot
	// take the session while the lease is held, but can still read it.
	other, err := sessions.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	_, err = other.Acquire("har-int8")
	fmt.Println("second open locked:", errors.Is(err, sessions.ErrLocked))
	ro, err := other.Load("har-int8")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("read-only view: %s, revision %d, config %s\n", ro.ModelPath, ro.Revision, ro.Config)

	if err := lease.Release(); err != nil {
		log.Fatal(err)
	}
	list, err := other.List()
	if err != nil {
		log.Fatal(err)
	}
	for _, sum := range list {
		fmt.Println(sum.Name, sum.Traces, "traces, held:", sum.Holder != nil)
	}
	// Output:
	// second open locked: true
	// read-only view: har.onnx, revision 2, config conv1=perf-row:2:0,fc=int8
	// har-int8 2 traces, held: false
}
