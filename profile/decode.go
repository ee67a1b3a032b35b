package profile

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kagen-ai/kagen/policy"
)

// decodeProfile decodes a profile file into p. Another kind of kagen file
// (a policy, a Pareto file, a session) is refused as such, and a file
// that does not decode says what is wrong in kagen's words, without Go's
// type names (#19 item 22).
func decodeProfile(path string, data []byte, p *Profile) error {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark is skipped
	if k := policy.FileKind(data); k != "" && k != policy.KindProfile {
		return fmt.Errorf("profile %s: this is a %s file, expected a profile file (made by kagen profile, or kept by kagen tune)", path, k)
	}
	if err := json.Unmarshal(data, p); err != nil {
		return fmt.Errorf("profile %s: %s", path, policy.JSONError(err))
	}
	return nil
}
