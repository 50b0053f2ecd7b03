package filestore_test

import (
	"strings"
	"testing"

	"winnow/internal/filestore"
)

// Leading bytes of real files, enough for sniffing.
var (
	webmHead = "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"
	mp4Head  = "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
	movHead  = "\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "
	pdfHead  = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
	zipHead  = "PK\x03\x04\x14\x00\x00\x00\x08\x00"
	pngHead  = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	htmlHead = "<!DOCTYPE html><html><script>alert(1)</script>"
	svgHead  = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"
)

func TestVideoType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, head, want string
		ok                     bool
	}{
		{"webm recording", "answer.webm", webmHead, "video/webm", true},
		{"webm without a name", "", webmHead, "video/webm", true},
		{"mp4", "clip.mp4", mp4Head, "video/mp4", true},
		{"mp4 named .mov", "clip.mov", mp4Head, "video/mp4", true},
		{"quicktime from a phone", "IMG_0001.MOV", movHead, "video/quicktime", true},
		{"unrecognised bytes named .mp4", "clip.mp4", "\x00\x01\x02\x03binary", "video/mp4", true},
		{"unrecognised bytes named .txt", "clip.txt", "\x00\x01\x02\x03binary", "", false},
		{"html named .mp4", "clip.mp4", htmlHead, "", false},
		{"text named .webm", "clip.webm", "just some words", "", false},
		{"pdf named .mp4", "clip.mp4", pdfHead, "", false},
		{"png", "x.png", pngHead, "", false},
		{"empty", "clip.mp4", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := filestore.VideoType(tt.file, []byte(tt.head))
			if got != tt.want || ok != tt.ok {
				t.Fatalf("VideoType(%q) = %q, %v; want %q, %v", tt.file, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFileType(t *testing.T) {
	t.Parallel()
	docs := []string{".pdf", "DOCX", ".txt", ".zip", ".doc", ".sketch"}
	tests := []struct {
		name, file, head string
		allowed          []string
		want             string
		ok               bool
	}{
		{"pdf", "cv.pdf", pdfHead, docs, "application/pdf", true},
		{"upper-case extension", "CV.PDF", pdfHead, docs, "application/pdf", true},
		{"docx is a zip", "answer.docx", zipHead, docs, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", true},
		{"text", "notes.txt", "Plain words.\n", docs, "text/plain; charset=utf-8", true},
		{"old word file", "old.doc", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", docs, "application/msword", true},
		{"unknown allowed extension", "design.sketch", zipHead, docs, "application/octet-stream", true},
		{"extension not allowed", "photo.png", pngHead, docs, "", false},
		{"no extension", "README", "words", docs, "", false},
		{"html renamed pdf", "cv.pdf", htmlHead, docs, "", false},
		{"html renamed txt", "notes.txt", htmlHead, docs, "", false},
		{"svg renamed txt", "notes.txt", svgHead, docs, "", false},
		{"html with an unknown allowed extension", "x.sketch", htmlHead, docs, "", false},
		{"png renamed pdf", "cv.pdf", pngHead, docs, "", false},
		{"nothing allowed", "cv.pdf", pdfHead, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := filestore.FileType(tt.file, []byte(tt.head), tt.allowed)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("FileType(%q) = %q, %v; want %q, %v", tt.file, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) + ".pdf"
	tests := []struct{ name, in, want string }{
		{"plain", "cv.pdf", "cv.pdf"},
		{"windows path", `C:\Users\ada\cv.pdf`, "cv.pdf"},
		{"unix path", "../../etc/passwd", "passwd"},
		{"controls and quotes", "a\"b\x00c\nd.pdf", "abcd.pdf"},
		{"dots", "..", ""},
		{"unicode kept", "Lösung «final».pdf", "Lösung «final».pdf"},
		{"long name keeps its extension", long, strings.Repeat("é", 125) + ".pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := filestore.CleanName(tt.in); got != tt.want {
				t.Fatalf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
