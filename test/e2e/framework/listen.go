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
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ControlPlaneComponents are every process kwokctl runs for a local cluster, by the name of its
// pid file.
var ControlPlaneComponents = []string{Etcd, KubeAPIServer, KubeControllerManager, KubeScheduler, KwokController}

// ListenAddresses are the local addresses on which a running control-plane component accepts TCP
// connections: the sockets among its open file descriptors that its network namespace's
// /proc/<pid>/net/tcp and tcp6 list in state LISTEN. Local clusters must listen on the loopback
// interface only (hack/kwokctl.yaml).
func (c *Cluster) ListenAddresses(component string) ([]netip.AddrPort, error) {
	pid, err := c.ComponentPid(component)
	if err != nil {
		return nil, err
	}
	inodes, err := socketInodes(pid)
	if err != nil {
		return nil, fmt.Errorf("listing the sockets of %s (pid %d): %w", component, pid, err)
	}
	var out []netip.AddrPort
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			return nil, fmt.Errorf("reading the %s sockets of %s: %w", table, component, err)
		}
		listening, err := parseListeningSockets(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the %s sockets of %s: %w", table, component, err)
		}
		for _, s := range listening {
			if inodes[s.inode] {
				out = append(out, s.addr)
			}
		}
	}
	return out, nil
}

// socketInodes are the inodes of the sockets a process holds open.
func socketInodes(pid int) (map[string]bool, error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed since the listing
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return inodes, nil
}

// listeningSocket is one LISTEN line of /proc/net/tcp or tcp6.
type listeningSocket struct {
	addr  netip.AddrPort
	inode string
}

// tcpListen is the state column's value for LISTEN (include/net/tcp_states.h).
const tcpListen = "0A"

// parseListeningSockets reads a /proc/net/tcp or tcp6 table and returns its sockets in state
// LISTEN. The local address is hex: an IPv4 address as one 32-bit word, an IPv6 one as four, each
// word in the machine's byte order, then a colon and the port in big-endian hex.
func parseListeningSockets(r io.Reader) ([]listeningSocket, error) {
	var out []listeningSocket
	sc := bufio.NewScanner(r)
	for line := 0; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if line == 0 || len(fields) == 0 {
			continue // the header
		}
		if len(fields) < 10 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 10", line+1, len(fields))
		}
		if fields[3] != tcpListen {
			continue
		}
		addr, err := parseProcAddr(fields[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line+1, err)
		}
		out = append(out, listeningSocket{addr: addr, inode: fields[9]})
	}
	return out, sc.Err()
}

func parseProcAddr(s string) (netip.AddrPort, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("local address %q has no port", s)
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("local address %q: not an IPv4 or IPv6 address", s)
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("local address %q: port: %w", s, err)
	}
	// The kernel prints each 32-bit word of the address (network-order bytes read as a number in
	// the machine's byte order) as a hex number: read the number back, and store it as the machine
	// does to get the bytes.
	ip := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// Loopback reports whether an address is reachable from this machine only.
func Loopback(a netip.AddrPort) bool { return a.Addr().Unmap().IsLoopback() }
