// Package api serves Winnow's JSON API under /api/v1 to programs holding an org API
// token: jobs with their steps, applicants with their answers, reviews and decisions.
// It is described by the OpenAPI document it serves at /api/v1/openapi.json.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/web/render"
)

// maxBody bounds every request body: a job with many steps is a few tens of KB.
const maxBody = 1 << 20

// Handler holds what the API needs. Every field must be set.
type Handler struct {
	Funnels    winnow.FunnelService
	Applicants winnow.ApplicantService
	Answers    winnow.AnswerService
	Reviews    winnow.ReviewService
	// Files sends uploaded files.
	Files UploadServer
	// Invitations resends and extends invitations.
	Invitations winnow.InvitationService
	// Emails says where an applicant's emails went, for their timeline.
	Emails  winnow.EmailService
	Tokens  winnow.APITokenService
	Users   winnow.UserService
	Keyring *keyring.Keyring
	Clock   winnow.Clock
	Logger  *slog.Logger
	// BaseURL is the public URL of the server, for candidate links and file URLs.
	BaseURL string
	// Insights computes a job's insights.
	Insights winnow.InsightService
	// Lever is the org's Lever connection; nil means this server offers none (its
	// endpoints answer 404).
	Lever winnow.LeverConnectionService
}

// The error codes the API adds to the domain's for requests it cannot read.
const (
	codeBadRequest  = "bad_request"
	codeTooLarge    = "too_large"
	codeUnsupported = "unsupported_media_type"
)

// writeJSON writes v as the response with status.
func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	render.WriteJSON(h.Logger, w, r, status, v)
}

// fail answers err as a JSON error, through the web layer's one error edge
// (render.Fail), with the token's org and ID in the log of an internal error.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var attrs []any
	if t := token(r); t != nil {
		attrs = append(attrs, "org_id", t.OrgID, "token_id", t.ID)
	}
	render.Fail(h.Logger, w, r, render.JSON, err, attrs...)
}

// failStatus writes an error that has no domain code, such as an unreadable body.
func (h *Handler) failStatus(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	render.JSON.WriteProblem(w, r, render.Problem{Status: status, Code: code, Message: msg})
}

// NotFound answers requests under /api/v1 that match no route.
func (h *Handler) NotFound(w http.ResponseWriter, r *http.Request) {
	h.failStatus(w, r, http.StatusNotFound, winnow.ENOTFOUND, "There is no API endpoint at this address. See /api/v1/openapi.json.")
}

// UnknownID answers a request whose path carries an ID that Winnow never issues: 404,
// as for an ID that names nothing.
func (h *Handler) UnknownID(w http.ResponseWriter, r *http.Request) {
	h.failStatus(w, r, http.StatusNotFound, winnow.ENOTFOUND, "Nothing with this ID exists.")
}

// decode reads the JSON body into v strictly: the body must be declared JSON, fit
// maxBody, be UTF-8, hold exactly one value, name no field that v does not have, and
// carry no string that cannot be stored (checkText). It answers the request itself and
// returns false when the body cannot be used.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		h.failStatus(w, r, http.StatusUnsupportedMediaType, codeUnsupported, "Send the body as JSON with the header Content-Type: application/json.")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			h.failStatus(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, fmt.Sprintf("The request body must be at most %d KB.", maxBody>>10))
			return false
		}
		h.failStatus(w, r, http.StatusBadRequest, codeBadRequest, "The request body could not be read.")
		return false
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn such bytes into U+FFFD: refuse them instead,
		// so that a client sending another encoding learns it at once.
		h.failStatus(w, r, http.StatusBadRequest, codeBadRequest, fmt.Sprintf("The request body is not UTF-8 text (at byte %d).", invalidUTF8At(body)))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errTrailing
	}
	if err != nil {
		h.failStatus(w, r, http.StatusBadRequest, codeBadRequest, describeDecodeError(err))
		return false
	}
	if err := checkText(reflect.ValueOf(v), ""); err != nil {
		h.fail(w, r, err)
		return false
	}
	return true
}

// invalidUTF8At is the offset of the first byte of b that is not UTF-8.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// checkText returns winnow.TextError for the first string in v (a decoded body:
// structs, slices, maps and pointers of them) that is not winnow.ValidText, naming it
// by its path in the body, such as "steps[0].questions[1].text". A body is valid
// UTF-8 by then, so what it finds is a NUL written as \u0000.
func checkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkText(v.Elem(), path)
		}
	case reflect.String:
		return winnow.CheckText(fmt.Sprintf("Field %q", path), v.String())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkText(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := fmt.Sprint(iter.Key().Interface())
			if err := winnow.CheckText(fmt.Sprintf("A key of field %q", path), k); err != nil {
				return err
			}
			if err := checkText(iter.Value(), joinPath(path, k)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if err := checkText(v.Field(i), joinPath(path, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

var errTrailing = errors.New("trailing data")

// describeDecodeError says in a sentence what is wrong with a body that failed to decode.
func describeDecodeError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "The request body is empty; send a JSON object."
	case errors.Is(err, errTrailing):
		return "The request body must hold exactly one JSON object."
	case errors.As(err, &syntax):
		return fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "The request body is not valid JSON: it ends too early."
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("The request body must be a JSON object, not %s.", typ.Value)
		}
		return fmt.Sprintf("Field %q must be %s, not %s.", typ.Field, jsonKind(typ.Type), typ.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Sprintf("Unknown field %s in the request body.", field)
	}
	return "The request body could not be read as JSON."
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "an object"
}
