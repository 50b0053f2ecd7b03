package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the reverse proxies in front of Winnow (WINNOW_TRUSTED_PROXIES). Only a
// request that comes from one of them has its forwarding headers believed; the zero
// value believes none.
type Proxies []netip.Prefix

// ClientAddr returns the address of the client that sent r: the connection's peer,
// unless the peer is a trusted proxy. Then it walks X-Forwarded-For (or, when that is
// absent, Forwarded) from the right, skipping trusted proxies, and returns the first
// address that is not one: entries further left were written by the client and can say
// anything. A proxy must therefore append to X-Forwarded-For, or set Forwarded and drop
// any X-Forwarded-For the client sent.
func (p Proxies) ClientAddr(r *http.Request) string {
	peer, ok := parseHop(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !p.trusted(peer) {
		return peer.String()
	}
	hops := forwardedFor(r.Header)
	addr := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break // "unknown", an obfuscated name or junk: the last known hop is all we have
		}
		addr = hop
		if !p.trusted(hop) {
			break
		}
	}
	return addr.String()
}

func (p Proxies) trusted(a netip.Addr) bool {
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the client addresses the proxies recorded, leftmost first: every
// X-Forwarded-For entry, or the for= of every Forwarded element when there is none.
func forwardedFor(h http.Header) []string {
	var hops []string
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		for _, line := range xff {
			for _, e := range strings.Split(line, ",") {
				hops = append(hops, strings.TrimSpace(e))
			}
		}
		return hops
	}
	for _, line := range h.Values("Forwarded") {
		for _, elem := range strings.Split(line, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(k, "for") {
					hops = append(hops, strings.Trim(v, `"`))
				}
			}
		}
	}
	return hops
}

// parseHop reads an address as proxies and connections write it: 192.0.2.1,
// 192.0.2.1:4711, 2001:db8::1 or [2001:db8::1]:4711. IPv4-mapped IPv6 addresses become
// IPv4, so one client has one key.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}
