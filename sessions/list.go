package sessions

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// ListStore lists the sessions of the store in dir (see Path), newest
// first, without creating a store that is not there; it returns the
// store's path too.
func ListStore(dir string) (string, []Summary, error) {
	path, err := Path(dir)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return path, nil, nil
	} else if err != nil {
		return path, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	st, err := Open(dir)
	if err != nil {
		return path, nil, err
	}
	defer st.Close()
	list, err := st.List()
	return path, list, err
}

// Listing is a session summary as `kagen sessions --json` prints it.
type Listing struct {
	Name        string    `json:"name"`
	Model       string    `json:"model"`
	ModelSHA256 string    `json:"model_sha256,omitempty"`
	Traces      int       `json:"traces"`
	Config      string    `json:"config"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	Revision    int64     `json:"revision"`
	InUse       *InUse    `json:"in_use,omitempty"`
}

// InUse names the process holding a listed session's lease.
type InUse struct {
	PID  int    `json:"pid"`
	Host string `json:"host"`
}

// Listing returns the summary in its JSON form.
func (s Summary) Listing() Listing {
	l := Listing{Name: s.Name, Model: s.ModelPath, ModelSHA256: s.ModelSHA256, Traces: s.Traces,
		Config: s.Config, Created: s.Created.UTC(), Updated: s.Updated.UTC(), Revision: s.Revision}
	if s.Holder != nil {
		l.InUse = &InUse{PID: s.Holder.PID, Host: s.Holder.Host}
	}
	return l
}

// WriteTable writes the summaries as a table for a terminal.
func WriteTable(w io.Writer, list []Summary) error {
	held := false
	for _, s := range list {
		held = held || s.Holder != nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
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
