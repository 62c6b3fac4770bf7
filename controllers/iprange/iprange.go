// Package iprange parses the address forms MetalLB and the Exposure API
// accept (a single IP, a CIDR, or "first-last") into inclusive ranges, and
// answers the two questions the operator asks of them: does one range
// contain another (policy), and do two ranges overlap (pool conflicts).
package iprange

import (
	"fmt"
	"net/netip"
	"strings"
)

// Range is an inclusive range of addresses of one family.
type Range struct {
	First, Last netip.Addr
}

// Parse reads "192.168.50.20", "192.168.50.0/24" or
// "192.168.50.20-192.168.50.30" (spaces around the dash allowed, as MetalLB
// allows them).
func Parse(s string) (Range, error) {
	s = strings.TrimSpace(s)
	if first, last, ok := strings.Cut(s, "-"); ok {
		a, err := netip.ParseAddr(strings.TrimSpace(first))
		if err != nil {
			return Range{}, fmt.Errorf("%q: bad first address: %w", s, err)
		}
		b, err := netip.ParseAddr(strings.TrimSpace(last))
		if err != nil {
			return Range{}, fmt.Errorf("%q: bad last address: %w", s, err)
		}
		if a.Is4() != b.Is4() {
			return Range{}, fmt.Errorf("%q: the two ends are of different IP families", s)
		}
		if b.Less(a) {
			return Range{}, fmt.Errorf("%q: the range runs backwards", s)
		}
		return Range{a.Unmap(), b.Unmap()}, nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Range{}, fmt.Errorf("%q: %w", s, err)
		}
		p = p.Masked()
		return Range{p.Addr(), lastOf(p)}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Range{}, fmt.Errorf("%q: %w", s, err)
	}
	return Range{a, a}, nil
}

func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	bits := p.Bits()
	for i := range b {
		for j := 0; j < 8; j++ {
			if i*8+j >= bits {
				b[i] |= 0x80 >> j
			}
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// Contains reports whether r holds every address of o.
func (r Range) Contains(o Range) bool {
	return r.First.Is4() == o.First.Is4() && !o.First.Less(r.First) && !r.Last.Less(o.Last)
}

// Overlaps reports whether r and o share an address.
func (r Range) Overlaps(o Range) bool {
	return r.First.Is4() == o.First.Is4() && !r.Last.Less(o.First) && !o.Last.Less(r.First)
}

func (r Range) String() string {
	if r.First == r.Last {
		return r.First.String()
	}
	return r.First.String() + "-" + r.Last.String()
}

// ParseAll parses a list, naming the failing entry.
func ParseAll(ss []string) ([]Range, error) {
	out := make([]Range, 0, len(ss))
	for _, s := range ss {
		r, err := Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// AnyContains reports whether some range of rs contains r.
func AnyContains(rs []Range, r Range) bool {
	for _, c := range rs {
		if c.Contains(r) {
			return true
		}
	}
	return false
}
