// Package leversandbox is a stand-in for Lever, good enough to develop and
// test Winnow's Lever integration without a Lever account.
//
// One address serves Lever's OAuth server (/authorize, /oauth/token), the
// Data API (/v1/...), a small recruiter UI (/, /ui/...) and a JSON control
// API for tests (/_sandbox/...). It is written from the shared notes on
// Lever's API, independently of package lever, so that a misreading on
// either side shows up as a failing test against the other.
package leversandbox
