package postgres

import (
	"context"
	"testing"
)

// MigrationNames lists the embedded migrations, for the tests.
func MigrationNames() []string {
	ms, _ := migrations()
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
	}
	return names
}

// HoldConn takes the pool's connections until release is called.
func (s *Store) HoldConn(t *testing.T) (release func()) {
	var held []func()
	for range s.pool.Config().MaxConns {
		c, err := s.pool.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c.Release)
	}
	return func() {
		for _, r := range held {
			r()
		}
	}
}

// Setting reads a server setting of one of s's sessions.
func (s *Store) Setting(t *testing.T, name string) string {
	var v string
	if err := s.pool.QueryRow(context.Background(), "SELECT current_setting($1)", name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
