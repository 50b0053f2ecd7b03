package auth_test

import (
	"testing"
	"time"

	"winnow/internal/web/auth"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := auth.NewLoginLimiter(3, 10*time.Minute, clk)
	for range 3 {
		if blocked, _ := l.Blocked("ada@example.com"); blocked {
			t.Fatal("blocked too early")
		}
		l.Fail("ada@example.com", "ip:1")
		clk.t = clk.t.Add(time.Minute)
	}
	blocked, wait := l.Blocked("ada@example.com")
	if !blocked || wait != 7*time.Minute {
		t.Fatalf("blocked=%v wait=%v, want true 7m", blocked, wait)
	}
	if blocked, _ := l.Blocked("grace@example.com"); blocked {
		t.Fatal("other key blocked")
	}
	clk.t = clk.t.Add(7 * time.Minute)
	if blocked, _ := l.Blocked("ada@example.com"); blocked {
		t.Fatal("still blocked after the window")
	}
	l.Fail("ada@example.com")
	l.Reset("ada@example.com")
	if blocked, _ := l.Blocked("ada@example.com", "ip:1"); blocked {
		t.Fatal("blocked after reset")
	}
}
