package leversandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// writeJSON writes v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeData writes Lever's success envelope {"data": v}.
func writeData(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, map[string]any{"data": v})
}

// writeError writes Lever's error shape {"code", "message"}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"code": code, "message": message})
}

// decodeBody reads a JSON body into v and writes the error answer itself
// when that fails: 413 for oversized bodies, 400 for malformed JSON.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				fmt.Sprintf("request body larger than %d bytes", tooBig.Limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "BadRequestError", "could not read request body")
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestError", "malformed JSON body: "+err.Error())
		return false
	}
	return true
}

// pageOf cuts one page out of n items per Lever's pagination: "limit"
// (1–100, default 100) and "offset", which must be a "next" token this
// server handed out. idAt(i) names item i so stale tokens are refused.
// It writes the 400 itself and returns ok=false on bad parameters.
func pageOf(w http.ResponseWriter, r *http.Request, n int, idAt func(int) string) (start, end int, next string, ok bool) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 1 || l > 100 {
			writeError(w, http.StatusBadRequest, "BadRequestError", "limit must be an integer from 1 to 100")
			return 0, 0, "", false
		}
		limit = l
	}
	if v := r.URL.Query().Get("offset"); v != "" {
		var tok []json.RawMessage
		var idx int
		var last string
		if json.Unmarshal([]byte(v), &tok) != nil || len(tok) != 2 ||
			json.Unmarshal(tok[0], &idx) != nil || json.Unmarshal(tok[1], &last) != nil ||
			idx < 1 || idx > n || idAt(idx-1) != last {
			writeError(w, http.StatusBadRequest, "BadRequestError", "invalid offset: pass the next token of the previous page unchanged")
			return 0, 0, "", false
		}
		start = idx
	}
	end = min(start+limit, n)
	if end < n {
		b, _ := json.Marshal([]any{end, idAt(end - 1)})
		next = string(b)
	}
	return start, end, next, true
}

// writePage writes a list answer with Lever's hasNext/next fields.
func writePage(w http.ResponseWriter, data any, next string) {
	body := map[string]any{"data": data, "hasNext": next != ""}
	if next != "" {
		body["next"] = next
	}
	writeJSON(w, http.StatusOK, body)
}
