// Package ui embeds Winnow's HTML templates and static files into the binary.
package ui

import "embed"

// Templates holds the html/template files: layout.html wraps every page in pages/.
//
//go:embed templates
var Templates embed.FS

// Static holds CSS and the little JavaScript that pages need, served under /static/.
//
//go:embed static
var Static embed.FS
