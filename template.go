package winnow

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

// Template is the subject and body of one kind of email, for an org or, when FunnelID is
// set, overriding the org's for one job.
//
// Both are text/template sources restricted to {{.Variable}} and
// {{if .Variable}}…{{else}}…{{end}} with the variables of the kind (TemplateVariables).
// The body is plain text; the HTML part is made from the rendered text: every character
// is escaped, blank lines separate paragraphs, paragraphs whose lines all start with "- "
// become lists, and http(s) URLs become links. So the HTML says exactly what the text
// says and no variable value can inject markup.
type Template struct {
	OrgID     string
	FunnelID  string // empty: the org's template
	Kind      EmailKind
	Subject   string
	Body      string
	Enabled   bool           // closing messages only; the other kinds are always sent
	Source    TemplateSource // where the template in force comes from, set by lookups
	UpdatedBy string
	UpdatedAt time.Time
}

// TemplateSource says whether a template is built in, the org's, or a job's own.
type TemplateSource string

// The template sources.
const (
	SourceDefault TemplateSource = "default"
	SourceOrg     TemplateSource = "org"
	SourceFunnel  TemplateSource = "job"
)

// TemplateData is every value a template may use; TemplateVariables says which ones
// each kind offers. All are plain text.
type TemplateData struct {
	FirstName      string
	CandidateName  string
	JobTitle       string
	Company        string
	Link           string // the candidate's link, or the member invitation's
	OptOutLink     string
	Deadline       string
	ReminderNumber string
	InviterName    string
	Role           string
	Reason         string // why Lever refused Winnow's access
}

// TemplateVariable is one variable a template may use, with what it holds.
type TemplateVariable struct {
	Name        string
	Description string
}

var candidateVariables = []TemplateVariable{
	{"FirstName", "the candidate's first name"},
	{"CandidateName", "the candidate's full name"},
	{"JobTitle", "the job's title"},
	{"Company", "your organization's name"},
	{"Link", "the candidate's personal link to the job's steps"},
	{"OptOutLink", "the link where the candidate says they are no longer interested"},
	{"Deadline", "when the candidate must have submitted"},
}

// TemplateVariables returns the variables templates of kind k may use.
func TemplateVariables(k EmailKind) []TemplateVariable {
	switch k {
	case EmailMemberInvite:
		return []TemplateVariable{
			{"Company", "your organization's name"},
			{"InviterName", "the name of the admin who invited them"},
			{"Link", "the link to accept the invitation"},
			{"Role", "the role they are invited as"},
		}
	case EmailReminder:
		return append(slices.Clone(candidateVariables), TemplateVariable{"ReminderNumber", "which reminder this is: 1, 2, …"})
	case EmailLeverReconnect:
		return []TemplateVariable{
			{"Company", "your organization's name"},
			{"Link", "the Settings → Integrations page, where an admin reconnects Lever"},
			{"Reason", "what Lever said when it refused Winnow's access"},
		}
	}
	return candidateVariables
}

// Limits of a template, in characters.
const (
	MaxSubjectLength = 300
	MaxBodyLength    = 20000
)

// Validate normalises the template and reports whether it can be stored. An invalid
// subject or body is an EINVALID error whose message names the line at fault.
func (t *Template) Validate() error {
	t.Subject = strings.TrimSpace(t.Subject)
	t.Body = strings.TrimSpace(strings.ReplaceAll(t.Body, "\r\n", "\n"))
	if !t.Kind.Closing() {
		t.Enabled = true
	}
	switch {
	case t.OrgID == "":
		return Errorf(EINVALID, "A template must belong to an organization.")
	case !t.Kind.Valid():
		return Errorf(EINVALID, "Unknown email kind %q.", t.Kind)
	case t.FunnelID != "" && !t.Kind.ForCandidates():
		return Errorf(EINVALID, "%s emails have no per-job version.", t.Kind.Label())
	case t.Subject == "":
		return Errorf(EINVALID, "Subject is required.")
	case strings.Contains(t.Subject, "\n"):
		return Errorf(EINVALID, "Subject must be a single line.")
	case tooLong(t.Subject, MaxSubjectLength):
		return Errorf(EINVALID, "Subject must be at most %d characters.", MaxSubjectLength)
	case t.Body == "":
		return Errorf(EINVALID, "Body is required.")
	case tooLong(t.Body, MaxBodyLength):
		return Errorf(EINVALID, "Body must be at most %s characters.", thousands(MaxBodyLength))
	}
	if _, err := t.Render(sampleData); err != nil {
		return err
	}
	return nil
}

// sampleData fills every variable, so that Validate runs each template once.
var sampleData = TemplateData{FirstName: "Ada", CandidateName: "Ada Lovelace", JobTitle: "Engineer", Company: "Acme",
	Link: "https://example.com/c/x", OptOutLink: "https://example.com/c/x/opt-out", Deadline: "Monday 2 March 2026, 09:00 UTC",
	ReminderNumber: "1", InviterName: "Grace", Role: "Member", Reason: "access was revoked"}

// RenderedEmail is a template filled in: a one-line subject and the text and HTML parts.
type RenderedEmail struct {
	Subject string
	Text    string
	HTML    string
}

// Render fills the template in with d. The subject is folded to one line.
func (t *Template) Render(d TemplateData) (RenderedEmail, error) {
	allowed := TemplateVariables(t.Kind)
	subject, err := execute("Subject", t.Subject, allowed, d)
	if err != nil {
		return RenderedEmail{}, err
	}
	body, err := execute("Body", t.Body, allowed, d)
	if err != nil {
		return RenderedEmail{}, err
	}
	subject = strings.Join(strings.Fields(subject), " ")
	body = tidyText(body)
	return RenderedEmail{Subject: subject, Text: body, HTML: textToHTML(subject, body)}, nil
}

// execute parses src, checks that it uses only the allowed constructs and variables, and
// runs it on d. Errors are EINVALID with the part and line at fault.
func execute(part, src string, allowed []TemplateVariable, d TemplateData) (string, error) {
	tmpl, err := template.New(part).Parse(src)
	if err != nil {
		return "", Errorf(EINVALID, "%s", parseErrorMessage(part, err))
	}
	if len(tmpl.Templates()) > 1 {
		return "", Errorf(EINVALID, "%s: {{define}} and {{block}} are not allowed.", part)
	}
	if tmpl.Tree != nil {
		if err := checkNodes(tmpl.Tree, tmpl.Tree.Root, part, allowed); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, d); err != nil {
		return "", Errorf(EINVALID, "%s", parseErrorMessage(part, err))
	}
	return b.String(), nil
}

var templateErrorRE = regexp.MustCompile(`^template: [^:]*:(\d+)(?::\d+)?: (?:executing "[^"]*" at <[^>]*>: )?(.*)$`)

// parseErrorMessage turns text/template's "template: Body:3: unexpected …" into
// "Body, line 3: unexpected …".
func parseErrorMessage(part string, err error) string {
	if m := templateErrorRE.FindStringSubmatch(err.Error()); m != nil {
		return part + ", line " + m[1] + ": " + m[2] + "."
	}
	return part + ": " + err.Error() + "."
}

// checkNodes walks the parse tree and refuses anything but text, {{.Variable}} and
// {{if .Variable}}…{{else}}…{{end}} with known variables.
func checkNodes(tree *parse.Tree, n parse.Node, part string, allowed []TemplateVariable) error {
	switch n := n.(type) {
	case nil, *parse.TextNode, *parse.CommentNode:
		return nil
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkNodes(tree, c, part, allowed); err != nil {
				return err
			}
		}
		return nil
	case *parse.ActionNode:
		return checkPipe(tree, n, n.Pipe, part, allowed)
	case *parse.IfNode:
		if err := checkPipe(tree, n, n.Pipe, part, allowed); err != nil {
			return err
		}
		if err := checkNodes(tree, n.List, part, allowed); err != nil {
			return err
		}
		return checkNodes(tree, n.ElseList, part, allowed)
	}
	return Errorf(EINVALID, "%s, line %d: only {{.Variable}} and {{if .Variable}}…{{else}}…{{end}} are allowed; found %s.",
		part, line(tree, n), n.String())
}

func checkPipe(tree *parse.Tree, n parse.Node, p *parse.PipeNode, part string, allowed []TemplateVariable) error {
	if p == nil || len(p.Decl) > 0 || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return Errorf(EINVALID, "%s, line %d: only {{.Variable}} and {{if .Variable}}…{{else}}…{{end}} are allowed; found %s.",
			part, line(tree, n), n.String())
	}
	f, ok := p.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return Errorf(EINVALID, "%s, line %d: only {{.Variable}} and {{if .Variable}}…{{else}}…{{end}} are allowed; found %s.",
			part, line(tree, n), n.String())
	}
	for _, v := range allowed {
		if v.Name == f.Ident[0] {
			return nil
		}
	}
	names := make([]string, len(allowed))
	for i, v := range allowed {
		names[i] = "{{." + v.Name + "}}"
	}
	return Errorf(EINVALID, "%s, line %d: {{.%s}} is not a variable of this email; use %s.",
		part, line(tree, n), f.Ident[0], strings.Join(names, ", "))
}

// line returns the line of n in its template. ErrorContext gives "name:line:col".
func line(tree *parse.Tree, n parse.Node) int {
	loc, _ := tree.ErrorContext(n)
	var l int
	if i := strings.Index(loc, ":"); i >= 0 {
		fmt.Sscanf(loc[i+1:], "%d", &l)
	}
	return l
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidyText trims trailing spaces from each line and squeezes runs of blank lines that
// conditionals may leave.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

var urlRE = regexp.MustCompile(`https?://[^\s<>"']+`)

// textToHTML makes the HTML part from the rendered text (see Template). Every piece of
// text goes through html.EscapeString; the only markup is the one written here.
func textToHTML(subject, text string) string {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(subject))
	b.WriteString("</title></head>\n<body style=\"margin:0;padding:24px;background:#f6f6f4\">\n")
	b.WriteString("<div style=\"max-width:560px;margin:0 auto;padding:24px;background:#ffffff;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1f2328\">\n")
	for _, para := range strings.Split(text, "\n\n") {
		lines := strings.Split(strings.TrimSpace(para), "\n")
		if len(lines) == 1 && lines[0] == "" {
			continue
		}
		if isList(lines) {
			b.WriteString("<ul>\n")
			for _, l := range lines {
				b.WriteString("<li>" + linkify(strings.TrimSpace(l[2:])) + "</li>\n")
			}
			b.WriteString("</ul>\n")
			continue
		}
		b.WriteString("<p style=\"margin:0 0 16px\">")
		for i, l := range lines {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			b.WriteString(linkify(l))
		}
		b.WriteString("</p>\n")
	}
	b.WriteString("</div>\n</body></html>\n")
	return b.String()
}

func isList(lines []string) bool {
	for _, l := range lines {
		if !strings.HasPrefix(l, "- ") {
			return false
		}
	}
	return true
}

// linkify escapes s and turns each http(s) URL in it into a link. Trailing punctuation
// stays outside the link.
func linkify(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range urlRE.FindAllStringIndex(s, -1) {
		start, end := m[0], m[1]
		for end > start && strings.ContainsRune(".,;:!?)", rune(s[end-1])) {
			end--
		}
		b.WriteString(html.EscapeString(s[last:start]))
		u := html.EscapeString(s[start:end])
		b.WriteString(`<a href="` + u + `" style="color:#1a5fb4">` + u + `</a>`)
		last = end
	}
	b.WriteString(html.EscapeString(s[last:]))
	return b.String()
}

// TemplateService stores templates. A job's template overrides the org's, which
// overrides the built-in default.
type TemplateService interface {
	// FindTemplate returns the template in force for kind: the job's own when funnelID
	// is set and it has one, else the org's, else the default. Source says which.
	FindTemplate(ctx context.Context, orgID, funnelID string, kind EmailKind) (*Template, error)
	// ListTemplates returns the template in force for every kind (every candidate kind
	// when funnelID is set), in EmailKinds order.
	ListTemplates(ctx context.Context, orgID, funnelID string) ([]*Template, error)
	// SaveTemplate validates and stores the org's or job's template of its kind. A job
	// of another org is ENOTFOUND.
	SaveTemplate(ctx context.Context, t *Template) error
	// DeleteTemplate removes the org's or job's own template, so the next level applies
	// again. Removing one that does not exist is not an error.
	DeleteTemplate(ctx context.Context, orgID, funnelID string, kind EmailKind) error
}

// DefaultTemplate returns the built-in template of kind k for org: enabled, except the
// closing messages.
func DefaultTemplate(orgID string, k EmailKind) *Template {
	d := defaults[k]
	return &Template{OrgID: orgID, Kind: k, Subject: d[0], Body: d[1], Enabled: !k.Closing(), Source: SourceDefault}
}

// defaults holds the subject and body of each kind's built-in template.
var defaults = map[EmailKind][2]string{
	EmailInvitation: {"Your application for {{.JobTitle}} at {{.Company}}", `Hi {{.FirstName}},

Thank you for applying for {{.JobTitle}} at {{.Company}}. The next step is short and online: you can do it whenever it suits you, and stop and come back later. Please finish by {{.Deadline}}.

{{.Link}}

This link is personal, so please keep it to yourself.

Changed your mind? Tell us here and we will stop writing to you about this job:
{{.OptOutLink}}

The {{.Company}} hiring team`},
	EmailReminder: {"Reminder: your next step for {{.JobTitle}} at {{.Company}}", `Hi {{.FirstName}},

Your next step for {{.JobTitle}} at {{.Company}} is still waiting for you. It only takes a few minutes, and you can pick up where you left off. Please finish by {{.Deadline}}.

{{.Link}}

No longer interested? One click and the reminders stop:
{{.OptOutLink}}

The {{.Company}} hiring team`},
	EmailOptedOut: {"Your application for {{.JobTitle}} at {{.Company}} is closed", `Hi {{.FirstName}},

We have closed your application for {{.JobTitle}} at {{.Company}}, either because you told us you are no longer interested or because the deadline passed. We will not write to you about it again.

If that is not what you wanted, please contact the {{.Company}} hiring team.

The {{.Company}} hiring team`},
	EmailNewLink: {"Your link for {{.JobTitle}} at {{.Company}}", `Hi {{.FirstName}},

You asked for your link to the {{.JobTitle}} application at {{.Company}}. Here it is:

{{.Link}}

Please finish by {{.Deadline}}. If you did not ask for this email, you can ignore it.

The {{.Company}} hiring team`},
	EmailMemberInvite: {"Join {{.Company}} on Winnow", `Hello,

{{if .InviterName}}{{.InviterName}} has invited you{{else}}You are invited{{end}} to join {{.Company}} on Winnow as {{.Role}}. Winnow is where the team reviews candidates for open jobs.

Choose your password and sign in here:

{{.Link}}

The link works once and expires in 7 days.`},
	EmailQualified: {"Next steps for {{.JobTitle}} at {{.Company}}", `Hi {{.FirstName}},

Thank you for completing the first step for {{.JobTitle}}. We would like to move forward: someone from the {{.Company}} team will be in touch soon about what comes next.

The {{.Company}} hiring team`},
	EmailLeverReconnect: {"Lever needs reconnecting for {{.Company}}", `Hello,

Lever refused Winnow's access for {{.Company}}{{if .Reason}} ({{.Reason}}){{end}}. Until an admin reconnects, new applications in Lever are not invited and nothing is written back to Lever; the work waits and resumes once Lever is connected again.

Reconnect Lever here:

{{.Link}}

You receive this email because you are an admin of {{.Company}} on Winnow.`},
	EmailUnqualified: {"Your application for {{.JobTitle}} at {{.Company}}", `Hi {{.FirstName}},

Thank you for your time and interest in {{.JobTitle}} at {{.Company}}. We have decided not to move forward with your application.

We wish you all the best in your search.

The {{.Company}} hiring team`},
}
