package apply

import "testing"

func TestContains(t *testing.T) {
	tests := []struct {
		name          string
		live, desired any
		want          bool
	}{
		{"equal scalars", "a", "a", true},
		{"different scalars", "a", "b", false},
		{"int64 vs float64", int64(80), float64(80), true},
		{"int vs int64 differ", 80, int64(81), false},
		{"number vs string", "80", int64(80), false},
		{"bool", true, true, true},
		{"bool differs", false, true, false},
		{"live has extra keys (defaults)", map[string]any{"a": "1", "b": "2"}, map[string]any{"a": "1"}, true},
		{"desired key missing in live", map[string]any{"a": "1"}, map[string]any{"a": "1", "c": "3"}, false},
		{"desired empty map missing in live", map[string]any{"a": "1"}, map[string]any{"a": "1", "c": map[string]any{}}, true},
		{"nested drift", map[string]any{"spec": map[string]any{"replicas": int64(2)}}, map[string]any{"spec": map[string]any{"replicas": int64(3)}}, false},
		{"list elements with defaults", []any{map[string]any{"name": "http", "port": int64(80), "nodePort": int64(30080)}}, []any{map[string]any{"name": "http", "port": int64(80)}}, true},
		{"list grew", []any{"a", "b"}, []any{"a"}, false},
		{"list shrank", []any{"a"}, []any{"a", "b"}, false},
		{"list reordered", []any{"b", "a"}, []any{"a", "b"}, false},
		{"type mismatch map vs list", []any{}, map[string]any{"a": "1"}, false},
		{"nil live vs empty desired list", nil, []any{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Contains(tt.live, tt.desired); got != tt.want {
				t.Errorf("Contains(%v, %v) = %v, want %v", tt.live, tt.desired, got, tt.want)
			}
		})
	}
}
