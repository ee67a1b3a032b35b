package replay

import (
	"fmt"
)

// InputError reports bad input: the file, where in it (a 1-based line for
// text files, a byte offset for binary ones) and what was expected.
type InputError struct {
	File   string // path of the offending file
	Line   int    // 1-based line number, 0 if not a text position
	Offset int64  // byte offset, -1 if not a binary position
	Msg    string // what was wrong and what was expected
	Err    error  // underlying error, if any
}

// Error formats the error as "file:line: msg" or "file: byte offset N: msg".
func (e *InputError) Error() string {
	var s string
	switch {
	case e.Line > 0:
		s = fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.Offset >= 0:
		s = fmt.Sprintf("%s: byte offset %d: %s", e.File, e.Offset, e.Msg)
	default:
		s = fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *InputError) Unwrap() error { return e.Err }

func lineErr(file string, line int, format string, a ...any) error {
	return &InputError{File: file, Line: line, Offset: -1, Msg: fmt.Sprintf(format, a...)}
}

func offErr(file string, off int64, format string, a ...any) error {
	return &InputError{File: file, Offset: off, Msg: fmt.Sprintf(format, a...)}
}

func fileErr(file string, err error, format string, a ...any) error {
	return &InputError{File: file, Offset: -1, Msg: fmt.Sprintf(format, a...), Err: err}
}
