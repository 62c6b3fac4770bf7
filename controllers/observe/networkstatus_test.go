package observe

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseNetworkStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []NetworkStatus
		wantErr string
	}{{
		name: "empty annotation: Multus has not handled the pod yet",
		in:   "",
	}, {
		name: "blank annotation",
		in:   "  \n",
	}, {
		name: "empty list",
		in:   "[]",
	}, {
		name: "cluster network and one macvlan network (current Multus)",
		in: `[{
			"name": "ovn-kubernetes", "interface": "eth0", "ips": ["10.244.1.5"],
			"mac": "0a:58:0a:f4:01:05", "default": true, "dns": {}
		},{
			"name": "shop/web-storage", "interface": "net1", "ips": ["192.168.51.10", "fd00:51::10"],
			"mac": "5e:3b:7f:43:4a:0c", "mtu": 9000, "dns": {"nameservers": ["192.168.51.1"], "search": ["shop.svc"]},
			"gateway": ["192.168.51.1"],
			"device-info": {"type": "pci", "version": "1.1.0", "pci": {"pci-address": "0000:03:00.1"}}
		}]`,
		want: []NetworkStatus{
			{Name: "ovn-kubernetes", Interface: "eth0", IPs: []string{"10.244.1.5"}, Mac: "0a:58:0a:f4:01:05", Default: true},
			{Name: "shop/web-storage", Interface: "net1", IPs: []string{"192.168.51.10", "fd00:51::10"},
				Mac: "5e:3b:7f:43:4a:0c", MTU: 9000,
				DNS:     NetworkDNS{Nameservers: []string{"192.168.51.1"}, Search: []string{"shop.svc"}},
				Gateway: []string{"192.168.51.1"}},
		},
	}, {
		name: "legacy default-network entry: empty name, no interface, null dns",
		in:   `[{"name": "", "ips": ["10.244.1.5"], "default": true, "dns": null}, {"name": "web-storage", "interface": "net1"}]`,
		want: []NetworkStatus{
			{IPs: []string{"10.244.1.5"}, Default: true},
			{Name: "web-storage", Interface: "net1"},
		},
	}, {
		name: "addresses with a prefix length and in non-canonical form are normalised",
		in:   `[{"name": "shop/net", "ips": ["192.168.51.10/24", "FD00:0051:0:0::10"]}]`,
		want: []NetworkStatus{{Name: "shop/net", IPs: []string{"192.168.51.10", "fd00:51::10"}}},
	}, {
		name: "unknown fields are ignored",
		in:   `[{"name": "shop/net", "future": {"x": 1}}]`,
		want: []NetworkStatus{{Name: "shop/net"}},
	}, {
		name:    "not JSON",
		in:      `shop/net`,
		wantErr: "not a JSON list",
	}, {
		name:    "a single object instead of a list",
		in:      `{"name": "shop/net"}`,
		wantErr: "not a JSON list",
	}, {
		name:    "truncated",
		in:      `[{"name": "shop/net", "ips": ["192.168`,
		wantErr: "not a JSON list",
	}, {
		name:    "null entry",
		in:      `[null]`,
		wantErr: "entry 0 is null",
	}, {
		name:    "entry that is not an object",
		in:      `[{"name": "a"}, "b"]`,
		wantErr: "entry 1",
	}, {
		name:    "wrong field type",
		in:      `[{"name": "shop/net", "ips": "192.168.51.10"}]`,
		wantErr: "entry 0",
	}, {
		name:    "secondary network without a name",
		in:      `[{"interface": "net1", "ips": ["192.168.51.10"]}]`,
		wantErr: "no name and is not the default network",
	}, {
		name:    "malformed IP",
		in:      `[{"name": "shop/net", "ips": ["192.168.51.300"]}]`,
		wantErr: `entry 0 ("shop/net"): ips[0]`,
	}, {
		name:    "malformed prefix",
		in:      `[{"name": "shop/net", "ips": ["192.168.51.10/99"]}]`,
		wantErr: "ips[0]",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNetworkStatus(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseNetworkStatus: whatever a CNI plugin writes into the annotation,
// parsing never panics, and what it accepts is well-formed and stable: every
// IP parses, every non-default entry has a name, and parsing its own JSON
// encoding again gives the same result.
func FuzzParseNetworkStatus(f *testing.F) {
	for _, s := range []string{
		``,
		`[]`,
		`[{"name":"ovn-kubernetes","interface":"eth0","ips":["10.244.1.5"],"default":true,"dns":{}}]`,
		`[{"name":"","default":true},{"name":"shop/net","ips":["192.168.51.10/24","fd00::1"]}]`,
		`[null]`,
		`{"name":"x"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseNetworkStatus(in)
		if err != nil {
			return
		}
		for _, ns := range got {
			if ns.Name == "" && !ns.Default {
				t.Fatalf("accepted an unnamed secondary network: %+v", ns)
			}
			for _, ip := range ns.IPs {
				if _, err := netip.ParseAddr(ip); err != nil {
					t.Fatalf("accepted IP %q: %v", ip, err)
				}
			}
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("cannot re-encode %+v: %v", got, err)
		}
		again, err := ParseNetworkStatus(string(b))
		if err != nil {
			t.Fatalf("own encoding %s does not parse: %v", b, err)
		}
		if len(got) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("not stable:\n first %+v\nsecond %+v", got, again)
		}
	})
}
