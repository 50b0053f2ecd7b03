package winnow_test

import (
	"strings"
	"testing"

	"winnow"
)

// TestTemplateValidate rejects templates that do not parse or use anything beyond the
// kind's variables and simple conditionals, naming the line at fault.
func TestTemplateValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		kind    winnow.EmailKind
		funnel  string
		subject string
		body    string
		wantErr string // substring of the message; empty means valid
	}{
		{"default-like", winnow.EmailInvitation, "", "Hello {{.FirstName}}", "Hi {{.FirstName}},\n\n{{.Link}}", ""},
		{"conditional", winnow.EmailReminder, "", "Reminder {{.ReminderNumber}}", "{{if .FirstName}}Hi {{.FirstName}}{{else}}Hello{{end}}\n\n{{.Deadline}}", ""},
		{"trim markers", winnow.EmailReminder, "", "x", "Hi {{- .FirstName -}} !", ""},
		{"unclosed action", winnow.EmailInvitation, "", "Hi", "line one\nline two\nHi {{.FirstName", "Body, line 3:"},
		{"unknown variable", winnow.EmailInvitation, "", "Hi", "Hello\n\n{{.Frist}}", "Body, line 3: {{.Frist}} is not a variable"},
		{"variable of another kind", winnow.EmailInvitation, "", "Hi", "Reminder {{.ReminderNumber}}", "Body, line 1: {{.ReminderNumber}}"},
		{"member invite has no candidate", winnow.EmailMemberInvite, "", "Hi", "Hello {{.FirstName}}", "{{.FirstName}} is not a variable"},
		{"function call", winnow.EmailInvitation, "", "Hi", "ok\n{{printf \"%s\" .Link}}", "Body, line 2: only {{.Variable}}"},
		{"range", winnow.EmailInvitation, "", "Hi", "{{range .Link}}x{{end}}", "Body, line 1: only"},
		{"variable declaration", winnow.EmailInvitation, "", "Hi", "{{$x := .Link}}{{$x}}", "only"},
		{"nested field", winnow.EmailInvitation, "", "Hi", "{{.Link.Host}}", "only"},
		{"dot", winnow.EmailInvitation, "", "Hi", "{{.}}", "only"},
		{"define", winnow.EmailInvitation, "", "Hi", `{{define "x"}}y{{end}}body`, "not allowed"},
		{"template call", winnow.EmailInvitation, "", "Hi", `{{template "x"}}`, "only"},
		{"bad subject", winnow.EmailInvitation, "", "Hi {{.Nope}}", "Body", "Subject, line 1: {{.Nope}}"},
		{"empty subject", winnow.EmailInvitation, "", "  ", "Body", "Subject is required"},
		{"two-line subject", winnow.EmailInvitation, "", "a\nb", "Body", "single line"},
		{"empty body", winnow.EmailInvitation, "", "Hi", " \n ", "Body is required"},
		{"job override of member invite", winnow.EmailMemberInvite, "f1", "Hi", "Body", "no per-job version"},
		{"unknown kind", "spam", "", "Hi", "Body", "Unknown email kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tmpl := &winnow.Template{OrgID: "o1", FunnelID: c.funnel, Kind: c.kind, Subject: c.subject, Body: c.body}
			err := tmpl.Validate()
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("valid template refused: %v", err)
				}
				return
			}
			if winnow.ErrorCode(err) != winnow.EINVALID || !strings.Contains(winnow.ErrorMessage(err), c.wantErr) {
				t.Fatalf("err = %v, want EINVALID containing %q", err, c.wantErr)
			}
		})
	}
}

// TestDefaultTemplates are valid, and only the closing messages are off.
func TestDefaultTemplates(t *testing.T) {
	t.Parallel()
	for _, k := range winnow.EmailKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			d := winnow.DefaultTemplate("o1", k)
			if err := d.Validate(); err != nil {
				t.Fatalf("default %s invalid: %v", k, err)
			}
			if d.Enabled == k.Closing() {
				t.Fatalf("default %s enabled = %v", k, d.Enabled)
			}
			if d.Source != winnow.SourceDefault {
				t.Fatalf("source %q", d.Source)
			}
		})
	}
}

// TestTemplateRender fills in variables, folds the subject and builds HTML in which
// variable values cannot inject markup and URLs become links.
func TestTemplateRender(t *testing.T) {
	t.Parallel()
	tmpl := &winnow.Template{OrgID: "o1", Kind: winnow.EmailInvitation,
		Subject: "For {{.FirstName}}\n at {{.Company}}",
		Body:    "Hi {{.FirstName}},\n\nOpen {{.Link}}.\nThanks!\n\n\n\n- one\n- two\n\nStop: {{.OptOutLink}}"}
	data := winnow.TemplateData{FirstName: `<b>Ada</b> "&"`, Company: "Acme\r\nBcc: evil@example.com",
		Link: "https://winnow.test/c/tok?a=1&b=2", OptOutLink: "javascript:alert(1)"}
	r, err := tmpl.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != `For <b>Ada</b> "&" at Acme Bcc: evil@example.com` {
		t.Fatalf("subject %q", r.Subject)
	}
	wantText := "Hi <b>Ada</b> \"&\",\n\nOpen https://winnow.test/c/tok?a=1&b=2.\nThanks!\n\n- one\n- two\n\nStop: javascript:alert(1)"
	if r.Text != wantText {
		t.Fatalf("text:\n%q\nwant\n%q", r.Text, wantText)
	}
	for _, want := range []string{
		`<p style="margin:0 0 16px">Hi &lt;b&gt;Ada&lt;/b&gt; &#34;&amp;&#34;,</p>`,
		`Open <a href="https://winnow.test/c/tok?a=1&amp;b=2" style="color:#1a5fb4">https://winnow.test/c/tok?a=1&amp;b=2</a>.<br>`,
		"<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
		"Stop: javascript:alert(1)</p>",
		"<title>For &lt;b&gt;Ada&lt;/b&gt;",
	} {
		if !strings.Contains(r.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, r.HTML)
		}
	}
	if strings.Contains(r.HTML, "<b>") || strings.Contains(r.HTML, `href="javascript`) {
		t.Fatalf("HTML carries injected markup:\n%s", r.HTML)
	}
}

// TestTemplateVariables lists ReminderNumber only for reminders and no candidate fields
// for member invitations.
func TestTemplateVariables(t *testing.T) {
	t.Parallel()
	has := func(k winnow.EmailKind, name string) bool {
		for _, v := range winnow.TemplateVariables(k) {
			if v.Name == name {
				return true
			}
		}
		return false
	}
	cases := []struct {
		name string
		kind winnow.EmailKind
		v    string
		want bool
	}{
		{"reminder number on reminders", winnow.EmailReminder, "ReminderNumber", true},
		{"no reminder number on invitations", winnow.EmailInvitation, "ReminderNumber", false},
		{"deadline on invitations", winnow.EmailInvitation, "Deadline", true},
		{"no first name on member invites", winnow.EmailMemberInvite, "FirstName", false},
		{"inviter on member invites", winnow.EmailMemberInvite, "InviterName", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := has(c.kind, c.v); got != c.want {
				t.Fatalf("%s has %s = %v", c.kind, c.v, got)
			}
		})
	}
}
