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

package webhookbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/tenantry/tenantry/webhookbridge"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// postUnsigned sends an unsigned-but-well-formed call (a fresh timestamp, a nonce, a wrong signature of
// the right form) of family "basic" or a kit name to base, its body from r (chunked when size is
// -1), and returns the answer's result code.
func postUnsigned(ctx context.Context, g Gomega, base, kit string, r io.Reader, size int64) string {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sig := strings.Repeat("ab", 32)
	u := base + "?signature=" + sig + "&timestamp=" + ts + "&nonce=n0nce"
	if kit != "" {
		u = base + protocol.KitPathPrefix + kit
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, r)
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	req.ContentLength = size
	req.Header.Set("Content-Type", protocol.ContentType)
	if kit != "" {
		req.Header.Set("x-sign", sig)
		req.Header.Set("x-timestamp", ts)
		req.Header.Set("x-nonce", "n0nce")
	}
	resp, err := http.DefaultClient.Do(req)
	g.ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	g.ExpectWithOffset(1, resp.StatusCode).To(Equal(http.StatusOK))
	var a struct {
		ResultCode string `json:"resultCode"`
	}
	g.ExpectWithOffset(1, json.NewDecoder(resp.Body).Decode(&a)).To(Succeed())
	return a.ResultCode
}

// padded is a JSON object of exactly n bytes.
func padded(n int) []byte {
	head := `{"activity":"queryInstance","pad":"`
	return []byte(head + strings.Repeat("x", n-len(head)-2) + `"}`)
}

// Each call family has its own body cap (docs/protocol.md §1): basic calls are small, kit calls
// may carry an authSync of 500 users. A body over its family's cap is refused 000002 whether its
// length is announced or not; a kit body of a size a basic call may not have passes the size
// check (here to be refused for its signature, 000001).
func TestBodyCapsPerCallFamily(t *testing.T) {
	integration(t)
	ctx := context.Background()
	basicCap, kitCap := webhookbridge.DefaultMaxBasicBodyBytes, webhookbridge.DefaultMaxBodyBytes
	for _, tc := range []struct {
		name    string
		kit     string
		size    int
		chunked bool
		want    string
	}{
		{name: "basic at its cap", size: basicCap, want: protocol.CodeAuthFailed},
		{name: "basic over its cap", size: basicCap + 1, want: protocol.CodeInvalidParam},
		{name: "basic over its cap, chunked", size: basicCap + 1, chunked: true, want: protocol.CodeInvalidParam},
		{name: "kit over the basic cap", kit: protocol.KitAuthSync, size: 4 * basicCap, want: protocol.CodeAuthFailed},
		{name: "kit at its cap", kit: protocol.KitAuthSync, size: kitCap, want: protocol.CodeAuthFailed},
		{name: "kit over its cap", kit: protocol.KitAuthSync, size: kitCap + 1, want: protocol.CodeInvalidParam},
		{name: "kit over its cap, chunked", kit: protocol.KitAuthSync, size: kitCap + 1, chunked: true, want: protocol.CodeInvalidParam},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			body := padded(tc.size)
			size := int64(len(body))
			var r io.Reader = bytes.NewReader(body)
			if tc.chunked {
				size, r = -1, io.MultiReader(r) // hides the length: sent chunked
			}
			g.Expect(postUnsigned(ctx, g, bridgeURL, tc.kit, r, size)).To(Equal(tc.want))
		})
	}
}

// A call takes a read permit before its body is read (docs/protocol.md §1), so bodies trickled
// in by slow clients occupy at most MaxConcurrentReads permits and memory for as many bodies: a
// call arriving when they hold every permit is shed 000005 without its body being read — here a
// body that never arrives.
func TestSlowUploadsBeyondTheSlotsAreShedUnread(t *testing.T) {
	integration(t)
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base := newBridge(t, func(o *webhookbridge.Options) {
		o.MaxConcurrentReads = 2
		o.QueueWait = time.Millisecond
	})

	// Two uploads that send their headers and a first KiB, then stall. One that reaches the
	// bridge while a call below holds a permit is itself shed, unread, so each upload is sent
	// again until it stalls holding a permit.
	var (
		mu      sync.Mutex
		writers []*io.PipeWriter
		wg      sync.WaitGroup
	)
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				pr, pw := io.Pipe()
				mu.Lock()
				writers = append(writers, pw)
				mu.Unlock()
				go func() { _, _ = pw.Write(make([]byte, 1024)) }()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+protocol.KitPathPrefix+protocol.KitAuthSync, pr)
				req.ContentLength = 1 << 20
				if resp, err := http.DefaultClient.Do(req); err == nil {
					_ = resp.Body.Close()
				}
			}
		})
	}
	defer func() {
		cancel()
		mu.Lock()
		for _, w := range writers {
			_ = w.CloseWithError(io.ErrUnexpectedEOF)
		}
		mu.Unlock()
		wg.Wait()
	}()

	// Once the stalled uploads hold both permits, a further call is shed.
	g.Eventually(func() string {
		return postUnsigned(ctx, g, base, "", bytes.NewReader(padded(512)), 512)
	}).Should(Equal(protocol.CodeInternalError))

	// And its body is not read: one that never arrives is still answered, 000005.
	pr, pw := io.Pipe()
	defer func() { _ = pw.Close() }()
	go func() { _, _ = pw.Write([]byte(`{"activity":`)) }()
	g.Expect(postUnsigned(ctx, g, base, protocol.KitTenantSync, pr, 1<<20)).To(Equal(protocol.CodeInternalError))
}
