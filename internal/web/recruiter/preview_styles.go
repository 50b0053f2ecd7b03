package recruiter

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"winnow"
)

// styleAttr finds the style attributes of a rendered email. The HTML is Winnow's own
// (winnow.Template.Render): every value people wrote is escaped, so a match is always
// one of the renderer's own attributes.
var styleAttr = regexp.MustCompile(`style="([^"]*)"`)

// allowEmailStyles lets the template preview show the email as the mail viewer does,
// styled. The preview frame's srcdoc document inherits this page's policy, which
// allows no inline style; it gets the hashes of exactly the style attributes of the
// rendered email ('unsafe-hashes' applies only to the hashes listed), and nothing else.
func allowEmailStyles(w http.ResponseWriter, p *winnow.RenderedEmail) {
	if p == nil {
		return
	}
	seen := map[string]bool{}
	for _, m := range styleAttr.FindAllStringSubmatch(p.HTML, -1) {
		sum := sha256.Sum256([]byte(m[1]))
		seen["'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'"] = true
	}
	if len(seen) == 0 {
		return
	}
	hashes := make([]string, 0, len(seen))
	for h := range seen {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	csp := w.Header().Get("Content-Security-Policy")
	if csp == "" || strings.Contains(csp, "style-src") {
		return
	}
	w.Header().Set("Content-Security-Policy", csp+"; style-src 'self' 'unsafe-hashes' "+strings.Join(hashes, " "))
}
