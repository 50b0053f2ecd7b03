package lever

import (
	"context"
	"fmt"
	"net/http"
)

// Note is a note on an opportunity.
type Note struct {
	// ID is the note id.
	ID string `json:"id"`
	// Text is the note's title text (often "Note").
	Text string `json:"text"`
	// Fields hold the note's content; a plain note has one "note" field.
	Fields []NoteField `json:"fields"`
	// User is the author's user id, or "" when written without perform_as.
	User string `json:"user"`
	// Secret notes are visible only to users with sensitive-info access.
	Secret bool `json:"secret"`
	// CreatedAt is when the note was written.
	CreatedAt Timestamp `json:"createdAt"`
	// DeletedAt is set for deleted notes.
	DeletedAt Timestamp `json:"deletedAt"`
}

// Value returns the note's text: the value of its first field.
func (n Note) Value() string {
	for _, f := range n.Fields {
		if f.Value != "" {
			return f.Value
		}
	}
	return ""
}

// NoteField is one part of a note.
type NoteField struct {
	// Type is "note" for plain notes.
	Type string `json:"type"`
	// Text is the field's label.
	Text string `json:"text"`
	// Value is the field's content.
	Value string `json:"value"`
	// Score is 1–4 when the note carried a score.
	Score *int `json:"score"`
}

// NewNote is a note to add to an opportunity.
type NewNote struct {
	// Value is the note's plain text (required).
	Value string `json:"value"`
	// Secret hides the note from users without sensitive-info access.
	Secret bool `json:"secret,omitempty"`
	// Score is an optional 1 (strong no) … 4 (strong yes).
	Score *int `json:"score,omitempty"`
	// NotifyFollowers tells the opportunity's followers.
	NotifyFollowers bool `json:"notifyFollowers,omitempty"`
	// CreatedAt dates the note (Lever takes only times not in its future); the zero
	// Timestamp leaves it to Lever. A caller that dates its notes can find one again
	// by text and time after an attempt whose answer was lost.
	CreatedAt Timestamp `json:"createdAt,omitzero"`
}

// AddNote writes a note on an opportunity and returns its id.
//
// A note is not idempotent: Lever has no idempotency keys, so if a 5xx or a
// timeout leaves it unclear whether the note was stored, AddNote does not
// repeat it and returns ErrTransient. The caller (a worker with a recorded
// intent) should ListNotes and look for its text before writing again. A
// 429 or a refused connection is retried, since then nothing was stored.
func (c *Client) AddNote(ctx context.Context, opportunityID string, note NewNote, opts ...CallOption) (string, error) {
	var out envelope[struct {
		ID     string `json:"id"`
		NoteID string `json:"noteId"`
	}]
	err := c.do(ctx, call{
		method: http.MethodPost,
		path:   "/opportunities/" + escape(opportunityID) + "/notes",
		query:  applyOptions(opts),
		body:   note,
		out:    &out,
		mode:   notIdempotent,
	})
	if err != nil {
		return "", fmt.Errorf("add note: %w", err)
	}
	// Lever documents {"noteId"}; recorded responses also carry a full note
	// with "id". Accept either.
	if out.Data.NoteID != "" {
		return out.Data.NoteID, nil
	}
	return out.Data.ID, nil
}

// ListNotes returns every note on an opportunity.
func (c *Client) ListNotes(ctx context.Context, opportunityID string) ([]Note, error) {
	n, err := listAll[Note](ctx, c, "/opportunities/"+escape(opportunityID)+"/notes", nil, 0)
	if err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	return n, nil
}
