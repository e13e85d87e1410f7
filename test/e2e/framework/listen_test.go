/*
Copyright 2026 The Tenantry Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package framework

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseListeningSockets(t *testing.T) {
	// The tables below are as a little-endian machine prints them; on a big-endian one the
	// kernel prints each word the other way round.
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the sample tables are from a little-endian machine")
	}
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tests := []struct {
		name    string
		table   string
		want    []string // "addr inode"
		wantErr string
	}{{
		name: "IPv4: loopback and every interface listening, an established connection skipped",
		table: header +
			"   0: 0100007F:7FFD 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 455394 1 0000000000000000 100 0 0 10 0\n" +
			"   1: 00000000:0929 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 455395 1 0000000000000000 100 0 0 10 0\n" +
			"   2: 0100007F:7FFD 0100007F:B2C4 01 00000000:00000000 00:00000000 00000000  1000        0 455396 1 0000000000000000 20 4 30 10 -1\n",
		want: []string{"127.0.0.1:32765 455394", "0.0.0.0:2345 455395"},
	}, {
		name: "IPv6: ::1, :: and an IPv4-mapped address",
		table: header +
			"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 7001 1 0000000000000000 100 0 0 10 0\n" +
			"   1: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 7002 1 0000000000000000 100 0 0 10 0\n" +
			"   2: 0000000000000000FFFF00000100007F:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 7003 1 0000000000000000 100 0 0 10 0\n",
		want: []string{"[::1]:8080 7001", "[::]:8081 7002", "[::ffff:127.0.0.1]:8082 7003"},
	}, {
		name:  "header only",
		table: header,
	}, {
		name:    "a truncated line",
		table:   header + "   0: 0100007F:7FFD 00000000:0000 0A\n",
		wantErr: "line 2: 4 fields, want at least 10",
	}, {
		name:    "an address that is no address",
		table:   header + "   0: 0100007F0:7FFD 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0 100 0 0 10 0\n",
		wantErr: `line 2: local address "0100007F0:7FFD": not an IPv4 or IPv6 address`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sockets, err := parseListeningSockets(strings.NewReader(tt.table))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range sockets {
				got = append(got, s.addr.String()+" "+s.inode)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("listening sockets (-want +got):\n%s", diff)
			}
		})
	}
}

// The check the end-to-end suite makes relies on these: every address that is not loopback is
// refused, whether IPv4, IPv6 or IPv4-mapped.
func TestLoopbackOnly(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "[::1]:1": true, "[::ffff:127.0.0.1]:1": true,
		"0.0.0.0:1": false, "[::]:1": false, "192.168.1.5:1": false, "[::ffff:0.0.0.0]:1": false,
	} {
		if got := Loopback(netip.MustParseAddrPort(addr)); got != want {
			t.Errorf("Loopback(%s) = %v, want %v", addr, got, want)
		}
	}
}
