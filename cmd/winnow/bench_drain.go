package main

import (
	"context"
	"errors"
)

// benchDrain implements "winnow bench drain".
func benchDrain(ctx context.Context, args []string, e env) error {
	return errors.New("not yet")
}
