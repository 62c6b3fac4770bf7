package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

func TestStoreReloadsOnChangeAndKeepsLastGoodPolicy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("grants: [{name: a, namespaces: [x], hostPorts: true}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewStore(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Get().For("x", nil).HostPorts {
		t.Fatal("initial policy not loaded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Run(ctx, 10*time.Millisecond, logr.Discard()) }()

	if err := os.WriteFile(path, []byte("grants: [{name: a, namespaces: [x], hostNetwork: true}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no reload signalled")
	}
	if e := s.Get().For("x", nil); e.HostPorts || !e.HostNetwork {
		t.Fatalf("reloaded policy not in force: %+v", e)
	}

	if err := os.WriteFile(path, []byte("grants: [{name: broken}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if !s.Get().For("x", nil).HostNetwork {
		t.Fatal("an invalid file must leave the last good policy in force")
	}
}

func TestNewStoreRefusesAnInvalidPolicy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte("grants: [{name: nobody}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStore(path); err == nil {
		t.Fatal("an invalid policy must stop the operator from starting")
	}
	if _, err := NewStore(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("a missing policy file must stop the operator from starting")
	}
}
