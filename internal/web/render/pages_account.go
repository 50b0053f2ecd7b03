package render

// PageAccount is the signed-in user's own name and password.
var PageAccount = Page{"account"}

// The account page joins the declared pages here rather than in the one line of
// pages.go, which other pages change too.
func init() { pages = append(pages, PageAccount) }
