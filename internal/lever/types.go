package lever

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Timestamp is a Lever time: milliseconds since the Unix epoch on the wire,
// possibly null. The zero Timestamp means "not set".
type Timestamp struct {
	time.Time
}

// UnmarshalJSON accepts a number of milliseconds, a numeric string or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	b = bytes.Trim(b, `"`)
	ms, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(b), 64)
		if ferr != nil {
			return fmt.Errorf("timestamp %q: %w", b, err)
		}
		ms = int64(f)
	}
	t.Time = time.UnixMilli(ms).UTC()
	return nil
}

// MarshalJSON writes milliseconds, or null for the zero Timestamp.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, t.UnixMilli(), 10), nil
}

// ref is an id that Lever sends either as a string or, when expanded, as an
// object with an "id" field.
func decodeRef(b []byte) (id string, obj json.RawMessage, err error) {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return "", nil, nil
	case len(b) > 0 && b[0] == '"':
		err = json.Unmarshal(b, &id)
		return id, nil, err
	default:
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return "", nil, err
		}
		return v.ID, json.RawMessage(b), nil
	}
}
