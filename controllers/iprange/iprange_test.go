package iprange

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{in: "192.168.50.20", want: "192.168.50.20"},
		{in: "192.168.50.0/30", want: "192.168.50.0-192.168.50.3"},
		{in: "192.168.50.7/30", want: "192.168.50.4-192.168.50.7"},
		{in: "192.168.50.20-192.168.50.30", want: "192.168.50.20-192.168.50.30"},
		{in: "192.168.50.20 - 192.168.50.30", want: "192.168.50.20-192.168.50.30"},
		{in: "fd00::/126", want: "fd00::-fd00::3"},
		{in: "fd00::1-fd00::9", want: "fd00::1-fd00::9"},
		{in: "192.168.50.30-192.168.50.20", err: true},
		{in: "192.168.50.1-fd00::1", err: true},
		{in: "192.168.50.0/33", err: true},
		{in: "not-an-ip", err: true},
	}
	for _, tt := range tests {
		r, err := Parse(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("Parse(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && r.String() != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, r, tt.want)
		}
	}
}

func TestContainsAndOverlaps(t *testing.T) {
	p := func(s string) Range {
		r, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		a, b               string
		contains, overlaps bool
	}{
		{"192.168.50.0/24", "192.168.50.20-192.168.50.30", true, true},
		{"192.168.50.20-192.168.50.30", "192.168.50.0/24", false, true},
		{"192.168.50.0/24", "192.168.51.0/24", false, false},
		{"192.168.50.20-192.168.50.30", "192.168.50.30", true, true},
		{"192.168.50.20-192.168.50.30", "192.168.50.31-192.168.50.40", false, false},
		{"192.168.50.20-192.168.50.30", "192.168.50.30-192.168.50.40", false, true},
		{"0.0.0.0/0", "fd00::1", false, false},
		{"fd00::/64", "fd00::1", true, true},
	}
	for _, tt := range tests {
		if got := p(tt.a).Contains(p(tt.b)); got != tt.contains {
			t.Errorf("%s contains %s = %v, want %v", tt.a, tt.b, got, tt.contains)
		}
		if got := p(tt.a).Overlaps(p(tt.b)); got != tt.overlaps {
			t.Errorf("%s overlaps %s = %v, want %v", tt.a, tt.b, got, tt.overlaps)
		}
	}
}
