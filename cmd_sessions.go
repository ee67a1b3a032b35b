package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/kagen-ai/kagen/sessions"
)

// sessionJSON is one line of `kagen sessions --json`.
type sessionJSON struct {
	Name        string    `json:"name"`
	Model       string    `json:"model"`
	ModelSHA256 string    `json:"model_sha256,omitempty"`
	Traces      int       `json:"traces"`
	Config      string    `json:"config"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	Revision    int64     `json:"revision"`
	InUse       *struct {
		PID  int    `json:"pid"`
		Host string `json:"host"`
	} `json:"in_use,omitempty"`
}

// cmdSessions lists the saved workbench sessions, or deletes one.
func cmdSessions(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sessions", stderr)
	dataDir := fs.String("data-dir", "", "session store `dir`ectory (default $XDG_DATA_HOME/kagen, else ~/.local/share/kagen)")
	asJSON := fs.Bool("json", false, "print a JSON array")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kagen sessions [--data-dir DIR] [--json]\n       kagen sessions rm [--data-dir DIR] NAME...\n\nLists the saved workbench sessions, newest first, or deletes sessions.")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0 || (len(pos) == 1 && pos[0] == "list"):
		return listSessions(*dataDir, *asJSON, stdout)
	case pos[0] == "rm":
		if len(pos) == 1 {
			fs.Usage()
			return usageError{"rm needs a session name"}
		}
		st, err := sessions.Open(*dataDir)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, name := range pos[1:] {
			if err := st.Delete(name); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "deleted session %q\n", name)
		}
		return nil
	}
	fs.Usage()
	return usageError{fmt.Sprintf("unknown sessions command %q", pos[0])}
}

func listSessions(dataDir string, asJSON bool, stdout io.Writer) error {
	path, err := sessions.Path(dataDir)
	if err != nil {
		return err
	}
	var list []sessions.Summary
	// Listing does not create a store that is not there.
	if _, err := os.Stat(path); err == nil {
		st, err := sessions.Open(dataDir)
		if err != nil {
			return err
		}
		defer st.Close()
		if list, err = st.List(); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if asJSON {
		out := make([]sessionJSON, len(list))
		for i, s := range list {
			out[i] = sessionJSON{Name: s.Name, Model: s.ModelPath, ModelSHA256: s.ModelSHA256, Traces: s.Traces,
				Config: s.Config, Created: s.Created.UTC(), Updated: s.Updated.UTC(), Revision: s.Revision}
			if s.Holder != nil {
				out[i].InUse = &struct {
					PID  int    `json:"pid"`
					Host string `json:"host"`
				}{s.Holder.PID, s.Holder.Host}
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no sessions in %s\n", path)
		return nil
	}
	held := false
	for _, s := range list {
		held = held || s.Holder != nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "NAME\tMODEL\tUPDATED\tCONFIGURATION")
	if held {
		fmt.Fprint(tw, "\tIN USE")
	}
	fmt.Fprintln(tw)
	for _, s := range list {
		cfg := s.Config
		if cfg == "" {
			cfg = "(exact)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s", s.Name, s.ModelPath, s.Updated.Local().Format("2006-01-02 15:04:05"), cfg)
		if s.Holder != nil {
			fmt.Fprintf(tw, "\tpid %d on %s", s.Holder.PID, s.Holder.Host)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
