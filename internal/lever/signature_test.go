package lever

import (
	"strconv"
	"testing"
)

// The expected signature was computed independently with:
//
//	printf '%s' 'tok_0123456789abcdef0123456789abcdef0123456789abcd1431454330072' |
//	  openssl dgst -sha256 -hmac 'sig-key-7f3a9c'
const (
	vecKey       = "sig-key-7f3a9c"
	vecToken     = "tok_0123456789abcdef0123456789abcdef0123456789abcd"
	vecTriggered = int64(1431454330072)
	vecSignature = "c7aa8a2857b7c0a1eabd1293fcec89ff0831e86f0e449354d44aa1c9703a3885"
)

func TestSignatureVector(t *testing.T) {
	t.Parallel()
	if got := Sign(vecKey, vecToken, vecTriggered); got != vecSignature {
		t.Fatalf("Sign = %s, want %s", got, vecSignature)
	}
	if !VerifySignature(vecKey, vecToken, vecTriggered, vecSignature) {
		t.Fatal("VerifySignature rejected the test vector")
	}
}

// mutations returns every variant of s with exactly one character replaced.
func mutations(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	for i := range len(s) {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		out = append(out, string(b))
	}
	return out
}

func TestSignatureOneCharacterChangeFails(t *testing.T) {
	t.Parallel()
	ts := strconv.FormatInt(vecTriggered, 10)
	cases := []struct {
		name   string
		verify func(mutated string) bool
		input  string
	}{
		{"key", func(m string) bool { return VerifySignature(m, vecToken, vecTriggered, vecSignature) }, vecKey},
		{"token", func(m string) bool { return VerifySignature(vecKey, m, vecTriggered, vecSignature) }, vecToken},
		{"triggeredAt", func(m string) bool {
			n, err := strconv.ParseInt(m, 10, 64)
			if err != nil {
				t.Fatalf("mutated triggeredAt %q: %v", m, err)
			}
			return VerifySignature(vecKey, vecToken, n, vecSignature)
		}, ts},
		{"signature", func(m string) bool { return VerifySignature(vecKey, vecToken, vecTriggered, m) }, vecSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, m := range mutations(t, tc.input) {
				if tc.verify(m) {
					t.Errorf("accepted one-character change %q", m)
				}
			}
		})
	}
}

func TestVerifySignatureRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, key, token, sig string
	}{
		{"uppercase hex", vecKey, vecToken, "C7AA8A2857B7C0A1EABD1293FCEC89FF0831E86F0E449354D44AA1C9703A3885"},
		{"empty signature", vecKey, vecToken, ""},
		{"empty key", "", vecToken, vecSignature},
		{"empty token", vecKey, "", vecSignature},
		{"truncated", vecKey, vecToken, vecSignature[:63]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if VerifySignature(tc.key, tc.token, vecTriggered, tc.sig) {
				t.Error("accepted")
			}
		})
	}
}

func TestParseWebhookEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		body    string
		wantErr bool
		test    bool
		opp     string
	}{
		{
			name: "application created with unknown fields",
			body: `{"event":"applicationCreated","triggeredAt":1431454330072,"token":"` + vecToken + `","signature":"` + vecSignature + `","data":{"applicationId":"a1","opportunityId":"o1","contactId":"c1","extra":1},"newTopLevel":{"x":true}}`,
			opp:  "o1",
		},
		{
			name: "triggeredAt as string",
			body: `{"event":"applicationCreated","triggeredAt":"1431454330072","token":"` + vecToken + `","signature":"` + vecSignature + `","data":{"candidateId":"o2"}}`,
			opp:  "o2",
		},
		{
			name: "verify connection test",
			body: `{"event":"candidateHired","triggeredAt":1431454330072,"token":"` + vecToken + `","signature":"` + vecSignature + `","data":{}}`,
			test: true,
		},
		{name: "malformed json", body: `{"event":`, wantErr: true},
		{name: "no event", body: `{"triggeredAt":1}`, wantErr: true},
		{name: "no triggeredAt", body: `{"event":"x"}`, wantErr: true},
		{name: "fractional triggeredAt", body: `{"event":"x","triggeredAt":1.5}`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseWebhookEvent([]byte(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := ev.Verify(vecKey); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := ev.Verify(vecKey + "x"); err == nil {
				t.Fatal("Verify accepted a wrong key")
			}
			if ev.IsTest() != tc.test {
				t.Fatalf("IsTest = %v, want %v", ev.IsTest(), tc.test)
			}
			if tc.opp != "" {
				d, err := ev.ApplicationCreated()
				if err != nil {
					t.Fatal(err)
				}
				if d.OpportunityID != tc.opp {
					t.Fatalf("opportunity = %q, want %q", d.OpportunityID, tc.opp)
				}
			}
		})
	}
}
