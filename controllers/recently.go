package controllers

import (
	"sync"
	"time"
)

// recently remembers, per key, that something was seen a moment ago (a
// referenced object present, an API absent), so that a burst of
// reconciles asks the API server once, not once per reconcile. Entries
// older than the ttl the caller gives are dropped when a key is added, so
// the map holds only what was seen within it.
type recently struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// within reports whether key was seen less than ttl before now.
func (s *recently) within(key string, now time.Time, ttl time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.seen[key]
	return ok && now.Sub(at) < ttl
}

// saw records key as seen at now.
func (s *recently) saw(key string, now time.Time, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	for k, at := range s.seen {
		if now.Sub(at) >= ttl {
			delete(s.seen, k)
		}
	}
	s.seen[key] = now
}
