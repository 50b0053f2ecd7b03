package filestore

import (
	"mime"
	"net/http"
	"path"
	"strings"

	"gocloud.dev/gcerrors"

	"winnow"
)

// ServeUpload sends the upload's file to a signed-in member of its org. The caller has
// already checked that the member may see the applicant. The file is an attachment
// unless inline is set and the upload is a video, which the applicant card may then
// play in the page; either way its stored content type is sent with nosniff and a
// sandboxing policy, so a file can never run as a page of this site. Range requests
// work, for seeking in videos: each range is read from the bucket as it is sent. When
// the file is missing it writes nothing and returns ENOTFOUND, for the caller to render.
func (s *Store) ServeUpload(w http.ResponseWriter, r *http.Request, u *winnow.Upload, inline bool) error {
	f, err := s.bucket.NewReader(r.Context(), u.Path, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return winnow.Errorf(winnow.ENOTFOUND, "This file is no longer available.")
	}
	if err != nil {
		return &winnow.Error{Code: winnow.EINTERNAL, Message: "The file could not be opened.", Err: err}
	}
	defer f.Close()
	ct := u.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	disposition := "attachment"
	if inline && strings.HasPrefix(ct, "video/") {
		disposition = "inline"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", ContentDisposition(disposition, u.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", u.CreatedAt, f)
	return nil
}

// ContentDisposition returns the header value for a file called name: RFC 2231
// encoding keeps non-ASCII names intact, and a name that cannot be encoded falls back
// to a plain "upload".
func ContentDisposition(disposition, name string) string {
	name = CleanName(name)
	if name == "" {
		name = "upload"
	}
	if v := mime.FormatMediaType(disposition, map[string]string{"filename": name}); v != "" {
		return v
	}
	return mime.FormatMediaType(disposition, map[string]string{"filename": "upload" + path.Ext(name)})
}

// CleanName returns the last element of a file name a device sent, without control
// characters or quotes, at most 255 bytes long: fit to store and to send back.
func CleanName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\uFFFD' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	for len(name) > 255 {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		cut := 255 - len(ext)
		for cut > 0 && !isRuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + ext
	}
	return name
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
