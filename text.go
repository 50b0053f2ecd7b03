package winnow

import (
	"strings"
	"unicode/utf8"
)

// ValidText reports whether s is text that every store keeps as it is: UTF-8 with no
// NUL byte. PostgreSQL refuses anything else outright; SQLite would keep bytes that no
// page can show.
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// TextError is the EINVALID error for input that is not ValidText. what is the subject
// of the sentence, such as `Field "title"` or `Your answer to "Why us?"`.
func TextError(what string) *Error {
	return Errorf(EINVALID, "%s contains a character that can't be saved: a NUL byte, or bytes that are not UTF-8 text. Please remove it and try again.", what)
}

// CheckText returns TextError(what) unless s is ValidText.
func CheckText(what, s string) error {
	if ValidText(s) {
		return nil
	}
	return TextError(what)
}
