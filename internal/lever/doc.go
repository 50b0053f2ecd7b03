// Package lever talks to Lever's Data API and OAuth server on behalf of one
// Lever account, and verifies the webhooks Lever sends.
//
// The same code serves Lever production, Lever's sandbox environment and
// Winnow's built-in stand-in (package leversandbox): every URL comes from
// Config. The package knows nothing of Winnow's database; callers persist
// rotated OAuth tokens through the callback given to OAuth.TokenSource.
//
// Errors are classified for callers that must decide what to do next:
// errors.Is(err, ErrRateLimited), ErrTransient, ErrAuthLost and ErrPermanent,
// with *APIError carrying Lever's code and message.
package lever
