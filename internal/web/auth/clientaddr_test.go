package auth_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"winnow/internal/web/auth"
)

// TestClientAddr believes forwarding headers only from trusted proxies, and only as far
// left as the chain of trusted proxies goes.
func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted := auth.Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ff::/48"),
		netip.MustParsePrefix("192.0.2.7/32")}
	tests := []struct {
		name    string
		proxies auth.Proxies
		peer    string
		header  map[string][]string
		want    string
	}{
		{"no proxy configured: XFF ignored", nil, "198.51.100.9:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.1"}}, "198.51.100.9"},
		{"untrusted peer: XFF ignored", trusted, "198.51.100.9:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.1"}}, "198.51.100.9"},
		{"untrusted peer: Forwarded ignored", trusted, "198.51.100.9:5000",
			map[string][]string{"Forwarded": {"for=203.0.113.1"}}, "198.51.100.9"},
		{"trusted peer: XFF used", trusted, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.1"}}, "203.0.113.1"},
		{"trusted single address", trusted, "192.0.2.7:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.1"}}, "203.0.113.1"},
		{"client-written entries on the left are skipped", trusted, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 203.0.113.1"}}, "203.0.113.1"},
		{"trusted hops are walked from the right", trusted, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"1.1.1.1, 203.0.113.1, 10.9.9.9", "10.8.8.8"}}, "203.0.113.1"},
		{"every hop trusted: the leftmost", trusted, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"10.5.5.5, 10.6.6.6"}}, "10.5.5.5"},
		{"trusted peer without headers", trusted, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"junk entry stops the walk", trusted, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.1, not-an-ip"}}, "10.1.2.3"},
		{"entry with a port", trusted, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.1:4711"}}, "203.0.113.1"},
		{"IPv6 peer and entries", trusted, "[2001:db8:ff::1]:5000",
			map[string][]string{"X-Forwarded-For": {"2001:db8:1::5, 2001:db8:ff::2"}}, "2001:db8:1::5"},
		{"IPv4-mapped entry", trusted, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"::ffff:203.0.113.1"}}, "203.0.113.1"},
		{"Forwarded when there is no XFF", trusted, "10.1.2.3:5000",
			map[string][]string{"Forwarded": {`for=1.1.1.1, for="[2001:db8:1::5]:4711";proto=https, for=10.9.9.9;by=10.1.2.3`}}, "2001:db8:1::5"},
		{"Forwarded unknown stops the walk", trusted, "10.1.2.3:5000",
			map[string][]string{"Forwarded": {"for=203.0.113.1, for=unknown"}}, "10.1.2.3"},
		{"XFF wins over Forwarded", trusted, "10.1.2.3:5000",
			map[string][]string{"X-Forwarded-For": {"203.0.113.1"}, "Forwarded": {"for=1.1.1.1"}}, "203.0.113.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/login", nil)
			r.RemoteAddr = tt.peer
			for k, vs := range tt.header {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			if got := tt.proxies.ClientAddr(r); got != tt.want {
				t.Fatalf("ClientAddr = %s, want %s", got, tt.want)
			}
		})
	}
}
