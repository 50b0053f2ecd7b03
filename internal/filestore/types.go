package filestore

import (
	"bytes"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
)

// SniffLen is how many leading bytes VideoType and FileType look at.
const SniffLen = 512

// videoByExt is the content type of each video extension accepted when the bytes are
// not recognised but are not anything else either.
var videoByExt = map[string]string{
	".webm": "video/webm",
	".mp4":  "video/mp4",
	".m4v":  "video/mp4",
	".mov":  "video/quicktime",
}

// VideoType returns the content type of a video from its first bytes (SniffLen, or all
// of a shorter file) and its name, and false when the file is not a video. Recordings
// from browsers are WebM (Chrome, Firefox) or MP4 (Safari); phones upload MP4 or
// QuickTime. The bytes decide: a name ending in .mp4 does not make a page a video.
func VideoType(name string, head []byte) (string, bool) {
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		// ISO base media (MP4, QuickTime, 3GP): the major brand says which.
		switch brand := string(head[8:12]); {
		case brand == "qt  ":
			return "video/quicktime", true
		case strings.HasPrefix(brand, "3g"):
			return "video/3gpp", true
		}
		return "video/mp4", true
	}
	sniffed := baseType(http.DetectContentType(head))
	if strings.HasPrefix(sniffed, "video/") {
		return sniffed, true
	}
	if sniffed == "application/octet-stream" {
		if ct, ok := videoByExt[strings.ToLower(filepath.Ext(name))]; ok {
			return ct, true
		}
	}
	return "", false
}

// fileTypes says, for common extensions, the content type to store and which sniffed
// types agree with it ("" accepts any sniffed type except HTML).
var fileTypes = map[string]struct{ ct, sniff string }{
	".pdf":  {"application/pdf", "application/pdf"},
	".png":  {"image/png", "image/png"},
	".jpg":  {"image/jpeg", "image/jpeg"},
	".jpeg": {"image/jpeg", "image/jpeg"},
	".gif":  {"image/gif", "image/gif"},
	".webp": {"image/webp", "image/webp"},
	".zip":  {"application/zip", "application/zip"},
	".docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip"},
	".xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"},
	".pptx": {"application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/zip"},
	".odt":  {"application/vnd.oasis.opendocument.text", "application/zip"},
	".ods":  {"application/vnd.oasis.opendocument.spreadsheet", "application/zip"},
	".odp":  {"application/vnd.oasis.opendocument.presentation", "application/zip"},
	".txt":  {"text/plain; charset=utf-8", "text/plain"},
	".md":   {"text/markdown; charset=utf-8", "text/plain"},
	".csv":  {"text/csv; charset=utf-8", "text/plain"},
	".rtf":  {"application/rtf", "text/plain"},
	".doc":  {"application/msword", ""},
	".xls":  {"application/vnd.ms-excel", ""},
	".ppt":  {"application/vnd.ms-powerpoint", ""},
}

// FileType returns the content type to store for a file whose name ends in one of the
// allowed extensions (".pdf", "docx": case and the dot do not matter) and whose first
// bytes agree with that extension; false when the extension is not allowed or the bytes
// say the file is something else, such as a web page renamed to .pdf.
func FileType(name string, head []byte, allowed []string) (string, bool) {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == "" || !slices.ContainsFunc(allowed, func(a string) bool { return NormalizeExt(a) == ext }) {
		return "", false
	}
	sniffed := baseType(http.DetectContentType(head))
	html := sniffed == "text/html" || looksLikeMarkup(head)
	if known, ok := fileTypes[ext]; ok {
		if html || (known.sniff != "" && sniffed != known.sniff) {
			return "", false
		}
		return known.ct, true
	}
	if html && ext != ".html" && ext != ".htm" {
		return "", false
	}
	if ct := mime.TypeByExtension(ext); ct != "" {
		return ct, true
	}
	return "application/octet-stream", true
}

// NormalizeExt returns an extension as FileType compares it: lower case, with its dot.
func NormalizeExt(ext string) string {
	ext = strings.ToLower(strings.TrimSpace(ext))
	if ext != "" && !strings.HasPrefix(ext, ".") {
		ext = "." + ext
	}
	return ext
}

// looksLikeMarkup catches SVG and XHTML, which can carry scripts but which
// http.DetectContentType calls text/xml or text/plain.
func looksLikeMarkup(head []byte) bool {
	h := bytes.ToLower(bytes.TrimSpace(head))
	return bytes.HasPrefix(h, []byte("<?xml")) || bytes.Contains(h, []byte("<svg")) ||
		bytes.Contains(h, []byte("<script")) || bytes.Contains(h, []byte("<html"))
}

// baseType drops parameters such as "; charset=utf-8".
func baseType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}
