// Package form reads the HTML forms of every audience the same way: the body within a
// byte limit, and every field checked to be text that can be stored, so that a form
// over its limit is refused with 413 and a NUL byte or bytes that are not UTF-8 with
// 422 naming the field, before any handler hands them to a store.
package form

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"winnow"
)

// TooLargeError is a form body over its limit.
type TooLargeError struct {
	Limit int64 // bytes
}

func (e *TooLargeError) Error() string { return fmt.Sprintf("form body over %d bytes", e.Limit) }

// FieldError is a field whose name or value is not text that can be stored
// (winnow.ValidText).
type FieldError struct {
	Field string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("form field %q is not storable text", e.Field)
}

// Parse parses r's query and URL-encoded body, reading at most limit bytes of the body,
// and checks every field with Check. It returns a *TooLargeError for a body over the
// limit, a *FieldError for a field that cannot be stored, and another error for a body
// that cannot be parsed; Problem says what each means to a person.
func Parse(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return &TooLargeError{Limit: limit}
		}
		return fmt.Errorf("parse form: %w", err)
	}
	return Check(r.Form)
}

// Check returns a *FieldError for the first field, in name order, whose name or any
// value is not winnow.ValidText.
func Check(values url.Values) error {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !winnow.ValidText(name) {
			return &FieldError{Field: name}
		}
		for _, v := range values[name] {
			if !winnow.ValidText(v) {
				return &FieldError{Field: name}
			}
		}
	}
	return nil
}

// Problem returns the status and the sentence a person sees for an error from Parse:
// 413 for a body over its limit, 422 naming a field that cannot be stored, 400 for a
// body that cannot be read.
func Problem(err error) (int, string) {
	var tooLarge *TooLargeError
	var field *FieldError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("What you sent is larger than this form accepts (at most %s). Please shorten it and try again.", Size(tooLarge.Limit))
	case errors.As(err, &field):
		return http.StatusUnprocessableEntity, winnow.TextError(fmt.Sprintf("The field %q", field.Field)).Message
	}
	return http.StatusBadRequest, "The form could not be read. Please go back and try again."
}

// Size writes a byte limit the way the messages say it: "64 KB", "1 MB".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
