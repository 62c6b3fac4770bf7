package policy

import (
	"bytes"
	"context"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// Store holds the policy in force and reloads it when its file changes. A
// ConfigMap-mounted file is replaced by the kubelet through a symlink swap,
// which file-event watchers miss easily; reading the content on a short
// interval is simple and always right.
type Store struct {
	path    string
	current atomic.Pointer[Policy]
	raw     []byte
	// Changed receives a value (without blocking) after each reload that
	// changed the policy, so every Exposure is reconciled against it.
	Changed chan struct{}
}

// NewStore loads the policy at path ("" for the default policy). A policy
// that does not load is an error at start: the operator must not run
// under a policy other than the one the admin wrote.
func NewStore(path string) (*Store, error) {
	p, raw, err := Load(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, raw: raw, Changed: make(chan struct{}, 1)}
	s.current.Store(p)
	return s, nil
}

// Get returns the policy in force.
func (s *Store) Get() *Policy { return s.current.Load() }

// Run reloads the policy every interval until ctx ends. A file that no
// longer parses keeps the last good policy in force and is logged.
func (s *Store) Run(ctx context.Context, interval time.Duration, log logr.Logger) error {
	if s.path == "" {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		raw, err := os.ReadFile(s.path)
		if err != nil {
			log.Error(err, "reading the policy file; keeping the policy in force", "path", s.path)
			continue
		}
		if bytes.Equal(raw, s.raw) {
			continue
		}
		p, err := Parse(raw)
		if err != nil {
			log.Error(err, "the changed policy file is invalid; keeping the policy in force", "path", s.path)
			s.raw = raw // report once per change, not on every tick
			continue
		}
		s.raw = raw
		s.current.Store(p)
		log.Info("policy reloaded", "path", s.path, "grants", len(p.Grants))
		select {
		case s.Changed <- struct{}{}:
		default:
		}
	}
}
