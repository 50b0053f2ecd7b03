package main

import (
	"strings"
	"testing"

	"winnow"
	"winnow/internal/dbtest"
)

// TestLeverAPI drives the Lever endpoints of the JSON API: read the connection, connect
// with an API key (refused, then accepted), a signature token, the stage and prefix,
// and a job's posting; no answer ever carries a secret, plain or sealed.
func TestLeverAPI(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLeverWorld(t, e, nil)
		tok, _ := MustAPIToken(t, w.m, w.admin.OrgID, w.admin.ID)
		other := MustUser(t, w.m, "Globex", "admin@globex.test", winnow.RoleAdmin)
		otherTok, _ := MustAPIToken(t, w.m, other.OrgID, other.ID)
		api, globex := newAPIClient(t, w.m, tok), newAPIClient(t, w.m, otherTok)
		var answers []string // every body answered, to search for secrets at the end

		call := func(method, path, body string, want int) any {
			t.Helper()
			s, raw, v := api.call(method, path, body, nil)
			answers = append(answers, raw)
			if s != want {
				t.Fatalf("%s %s %s: %d, want %d\n%s", method, path, body, s, want, raw)
			}
			return v
		}
		got := call("GET", "/api/v1/integrations/lever", "", 200)
		if get(got, "state") != "" || !strings.HasSuffix(get(got, "webhookUrl").(string), "/api/integrations/lever/webhooks/application/"+w.connection(t).OrgKey) {
			t.Fatalf("never connected: %v", got)
		}
		for _, tc := range []struct{ body, says string }{
			{`{}`, "at least one of"},
			{`{"apiKey": "sbx_wrong"}`, "did not accept this API key"},
			{`{"apiKey": "two words"}`, "single word"},
			{`{"signatureToken": ""}`, "signature token"},
			{`{"tagPrefix": "` + strings.Repeat("x", 30) + `"}`, "at most 20"},
		} {
			got := call("PUT", "/api/v1/integrations/lever", tc.body, 422)
			if msg, _ := get(got, "error", "message").(string); !strings.Contains(msg, tc.says) {
				t.Fatalf("PUT %s: %q, want %q", tc.body, msg, tc.says)
			}
		}
		call("PUT", "/api/v1/integrations/lever", `{"apiKey": "k", "extra": 1}`, 400)
		if c := w.connection(t); c.State != "" || c.APIKey != "" {
			t.Fatalf("refused requests stored something: %+v", c)
		}

		key := w.sb.APIKey()
		got = call("PUT", "/api/v1/integrations/lever", `{"apiKey": "`+key+`"}`, 200)
		if get(got, "state") != "connected" || get(got, "mode") != "api_key" || len(get(got, "webhooks").([]any)) != 4 ||
			get(got, "performAsName") != "Ada Admin" || len(get(got, "stages").([]any)) < 5 {
			t.Fatalf("after the key: %v", got)
		}
		stage := get(got, "stages", 5, "id").(string)
		got = call("PUT", "/api/v1/integrations/lever", `{"signatureToken": "sig-plain-123", "qualifiedStageId": "`+stage+`", "tagPrefix": "AP-"}`, 200)
		if get(got, "signatureTokenSet") != true || get(got, "qualifiedStageId") != stage || get(got, "qualifiedStageName") == "" ||
			get(got, "tagPrefix") != "AP-" {
			t.Fatalf("after the settings: %v", got)
		}
		call("PUT", "/api/v1/integrations/lever", `{"qualifiedStageId": "no-such-stage"}`, 422)
		if s, raw, got := globex.call("GET", "/api/v1/integrations/lever", "", nil); s != 200 || get(got, "state") != "" {
			t.Fatalf("another org sees: %d %s", s, raw)
		}

		// A job's posting, by the API.
		f := MustFunnel(t, w.m, &winnow.Funnel{OrgID: w.admin.OrgID, Title: "API job", Status: winnow.FunnelOpen, Steps: oneQuestion()})
		postings, err := w.m.Lever.LeverPostings(t.Context(), w.admin.OrgID)
		if err != nil || len(postings) == 0 {
			t.Fatalf("postings: %v", err)
		}
		got = call("PUT", "/api/v1/jobs/"+f.ID+"/lever-posting", `{"postingId": "`+postings[0].ID+`"}`, 200)
		if get(got, "leverPostingId") != postings[0].ID || get(got, "id") != f.ID {
			t.Fatalf("linked: %v", got)
		}
		call("PUT", "/api/v1/jobs/"+f.ID+"/lever-posting", `{}`, 422)
		call("PUT", "/api/v1/jobs/"+f.ID+"/lever-posting", `{"postingId": "nope"}`, 422)
		if s, _, _ := globex.call("PUT", "/api/v1/jobs/"+f.ID+"/lever-posting", `{"postingId": ""}`, nil); s != 404 {
			t.Fatalf("another org's job: %d", s)
		}
		got = call("PUT", "/api/v1/jobs/"+f.ID+"/lever-posting", `{"postingId": ""}`, 200)
		if get(got, "leverPostingId") != nil {
			t.Fatalf("unlinked: %v", got)
		}
		call("GET", "/api/v1/integrations/lever", "", 200)

		// No answer carried a secret, plain or sealed.
		c := w.connection(t)
		secrets := []string{key, c.APIKey, "sig-plain-123", c.SignatureToken}
		for _, h := range w.sb.Webhooks() {
			secrets = append(secrets, h.SignatureToken)
		}
		for _, h := range c.Webhooks {
			secrets = append(secrets, h.SignatureToken)
		}
		for _, raw := range answers {
			for _, s := range secrets {
				if s != "" && strings.Contains(raw, s) {
					t.Fatalf("an answer carries a secret:\n%s", raw)
				}
			}
		}
	})
}
