package main

import (
	"fmt"
	"io"

	"github.com/kagen-ai/kagen/sessions"
)

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
	path, list, err := sessions.ListStore(dataDir)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]sessions.Listing, len(list))
		for i, s := range list {
			out[i] = s.Listing()
		}
		return writeJSON(stdout, out)
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no sessions in %s\n", path)
		return nil
	}
	return sessions.WriteTable(stdout, list)
}
