package recruiter

import (
	"fmt"
	"strconv"
	"strings"

	"winnow"
)

// plural writes n with the noun in the right number: "1 question", "3 questions".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// duration writes a length in seconds the way people say it: "45 s", "2 min", "1 min 30 s".
func duration(sec int) string {
	m, s := sec/60, sec%60
	switch {
	case m == 0:
		return strconv.Itoa(s) + " s"
	case s == 0:
		return strconv.Itoa(m) + " min"
	}
	return fmt.Sprintf("%d min %d s", m, s)
}

// formatBytes writes a size in bytes in binary units: "820 KB", "12.5 MB".
func formatBytes(n int64) string {
	const k = 1024
	switch {
	case n < k:
		return strconv.FormatInt(n, 10) + " B"
	case n < k*k:
		return trimZero(float64(n)/k) + " KB"
	case n < k*k*k:
		return trimZero(float64(n)/(k*k)) + " MB"
	}
	return trimZero(float64(n)/(k*k*k)) + " GB"
}

// trimZero writes f with one decimal, dropping a trailing ".0".
func trimZero(f float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(f, 'f', 1, 64), ".0")
}

// homeworkAnswerKind says what a homework step accepts.
func homeworkAnswerKind(h *winnow.Homework) string {
	switch {
	case h.AcceptText && h.AcceptFile:
		return "text answer and file upload"
	case h.AcceptFile:
		return "file upload"
	case h.AcceptText:
		return "text answer"
	}
	return ""
}

// fileLimits describes a homework's file rules: "PDF, ZIP · up to 20 MB".
func fileLimits(h *winnow.Homework) string {
	var parts []string
	if len(h.FileTypes) > 0 {
		types := make([]string, len(h.FileTypes))
		for i, t := range h.FileTypes {
			types[i] = strings.ToUpper(strings.TrimPrefix(t, "."))
		}
		parts = append(parts, strings.Join(types, ", "))
	} else {
		parts = append(parts, "any file type")
	}
	if h.MaxFileBytes > 0 {
		parts = append(parts, "up to "+formatBytes(h.MaxFileBytes))
	}
	return strings.Join(parts, " · ")
}
