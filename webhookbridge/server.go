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

// Package webhookbridge is the marketplace-facing HTTP service of Tenantry: it verifies the
// KooGallery production-interface calls (docs/protocol.md), and turns them into
// changes of TenantInstance and TenantDirectory specs, which the operator then reconciles.
//
// The bridge is stateless. Idempotency comes from deterministic instance names (InstanceName)
// and ordering from the send timestamps recorded in spec.marketplace, so any number of replicas
// can serve the same marketplace and a restart loses nothing. It writes specs and metadata only,
// never status, and it answers every call within a fixed budget.
package webhookbridge

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/internal/logcap"
	"github.com/tenantry/tenantry/webhookbridge/calltime"
	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// Defaults of Options.
const (
	DefaultPath               = "/saasproduce"
	DefaultMaxBodyBytes       = 1 << 20
	DefaultMaxBasicBodyBytes  = 64 << 10
	DefaultCallBudget         = 3 * time.Second
	DefaultOrderQueryTimeout  = 2 * time.Second
	DefaultFreezeRetryHorizon = 2 * time.Hour
	DefaultMaxInFlight        = 32
	DefaultDomainParam        = "domain"
	DefaultQueueWait          = 250 * time.Millisecond
	DefaultMaxConcurrentReads = 2 * DefaultMaxInFlight
)

// OrderQuerier looks a marketplace order up; *orderquery.Client implements it. Errors that
// match orderquery.ErrNotFound mean the order line does not exist; any other error is treated
// as transient.
type OrderQuerier interface {
	Query(ctx context.Context, orderID, orderLineID string) (*orderquery.Order, error)
}

// Options configures New.
type Options struct {
	// Client reads and writes the API server directly. It must not be a cached client: answers
	// to the marketplace must reflect what is persisted, not what an informer has seen so far.
	Client client.Client
	// Plans is where TenantPlans are read; nil reads them from the API server on every call.
	// An informer-backed cache spares the API server a LIST per purchase, upgrade and change
	// check. Plans change rarely, and a plan the cache has not seen yet only delays a purchase or
	// upgrade: it is answered 000005 and resent. TenantInstances are always read via Client
	// (see Instances for the one question a cache answers about them).
	Plans client.Reader
	// Instances, when set, is a watch cache of TenantInstance names (metadata only). It is asked
	// one question: is a new purchase's instance certainly absent? A name it does not hold is
	// created without reading it first, so a purchase costs one request; the Create settles any
	// doubt, because an instance the cache had not seen yet fails with AlreadyExists and is then
	// read live. Every answer still rests on what is persisted. nil: every purchase reads first.
	Instances client.Reader
	// Verifier checks signatures, timestamps and nonces; its Keys and KitKeys carry the current
	// key first and, during a rotation, the previous one.
	Verifier *protocol.Verifier
	// AccessKey is the current access key. It signs the Body-Sign header of answers to calls
	// that failed verification; a verified call is answered, and its V1 credentials encrypted,
	// with the key that verified it, so that during a rotation a marketplace still on the
	// previous key can check the answer (docs/protocol.md §6.12).
	AccessKey string
	// Orders is the Order Query client.
	Orders OrderQuerier
	// MerchantKey, when set, lets the bridge refuse an applicationSync whose clientSecret it
	// cannot decrypt (000002) instead of storing a secret the operator will never open.
	MerchantKey *rsa.PrivateKey
	// Recorder emits Events on TenantInstances; nil disables events.
	Recorder events.EventRecorder
	// Clock is the bridge's notion of now (expiry comparisons); the real clock when nil.
	Clock clock.PassiveClock
	// Path is the production URL path registered with the marketplace; DefaultPath when empty.
	Path string
	// MaxBodyBytes caps the bodies of kit calls, the largest the marketplace sends (an authSync
	// of 500 users is about 1 MiB), and is the upper bound of every family's cap;
	// DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// MaxBasicBodyBytes caps the bodies of basic lifecycle calls, which are a few KiB;
	// DefaultMaxBasicBodyBytes (64 KiB) when zero, and never above MaxBodyBytes. V1 calls are
	// GETs and have no body.
	MaxBasicBodyBytes int64
	// Replays is the replay memory the replicas share (docs/protocol.md §2.1): the signature of
	// a call whose answer would disclose a secret is claimed there before it is answered, and a
	// call whose claim fails for another reason than a replay is answered 000005. Nil leaves each
	// replica's verifier memory as the only one, which is enough for a single replica only.
	Replays ReplayStore
	// CallBudget bounds the work of one call, so every call is answered well within the
	// marketplace's 5 s; DefaultCallBudget when zero.
	CallBudget time.Duration
	// OrderQueryTimeout bounds an Order Query within the budget, leaving time to write and
	// answer; DefaultOrderQueryTimeout (capped at two thirds of CallBudget) when zero.
	OrderQueryTimeout time.Duration
	// FreezeRetryHorizon is how long after a renewal that moved the paid period into the future
	// a FREEZE is presumed to be a late resend of a freeze sent before the renewal, and ignored
	// (docs/protocol.md §6.10, see handleStatus); DefaultFreezeRetryHorizon (2 h, the longest
	// resend window documented for status calls) when zero.
	FreezeRetryHorizon time.Duration
	// MaxInFlight is how many calls are worked on at once; a call arriving when all slots are
	// taken waits for one up to what QueueWait leaves after its wait for a read permit, and is
	// otherwise answered 000005 at once, so that the marketplace resends it later instead of
	// every call slowing down past its timeout.
	// DefaultMaxInFlight when zero; negative means unlimited.
	MaxInFlight int
	// QueueWait is how long a call may wait in all for a read permit and then a call slot (what
	// it waited for its permit is taken off what it may wait for its slot); DefaultQueueWait when
	// zero.
	QueueWait time.Duration
	// MaxConcurrentReads is how many calls may hold a request body at once, from before it is
	// read until the call is answered, so that bodies in memory are bounded by MaxConcurrentReads
	// times the body cap however many clients upload slowly. A call finding every permit taken
	// waits up to QueueWait and is otherwise answered 000005 with its body unread. The permits
	// are apart from the call slots, so clients trickling bodies in do not take slots from calls
	// that arrived whole. DefaultMaxConcurrentReads when zero; negative means unlimited.
	MaxConcurrentReads int
	// DomainParam names the order line's extendParam (a custom purchase parameter of the product
	// listing) that carries the buyer's own domain: an order with it becomes a Dedicated tenant
	// served at that host. DefaultDomainParam when empty; "-" disables the mapping.
	DomainParam string
	// DenyHostSuffixes are DNS suffixes under which no order may claim a Dedicated host (see
	// reserveHost); DefaultDenyHostSuffixes when nil, none when empty.
	DenyHostSuffixes []string
	// DisableV1 turns the legacy V1 interface (GET calls on the production path) off: they are
	// answered 404 unread. V1 carries the buyer's details and its authToken in the URL, where
	// proxies and access logs keep them, so a seller whose products are all on V2 turns it off.
	DisableV1 bool
	// Logger is the base logger; every call gets a child of it in its context, never more
	// verbose than logcap.MaxVerbosity.
	Logger logr.Logger
}

// Server answers marketplace calls. Build it with New; it is safe for concurrent use.
type Server struct {
	client            client.Client
	plans             client.Reader
	instances         client.Reader
	verifier          *protocol.Verifier
	accessKey         string
	orders            OrderQuerier
	merchantKey       *rsa.PrivateKey
	recorder          events.EventRecorder
	clock             clock.PassiveClock
	basePath          string
	maxBody           int64
	maxBasicBody      int64
	replays           ReplayStore
	budget            time.Duration
	orderQueryTimeout time.Duration
	freezeHorizon     time.Duration
	slots             chan struct{}
	reads             chan struct{}
	queueWait         time.Duration
	domainParam       string
	denyHostSuffixes  []string
	disableV1         bool
	log               logr.Logger
}

// New validates o, fills in defaults and registers the bridge's metrics.
func New(o Options) (*Server, error) {
	switch {
	case o.Client == nil:
		return nil, errors.New("webhook bridge: no Kubernetes client")
	case o.Verifier == nil:
		return nil, errors.New("webhook bridge: no verifier")
	case o.AccessKey == "":
		return nil, errors.New("webhook bridge: no access key")
	case o.Orders == nil:
		return nil, errors.New("webhook bridge: no Order Query client")
	case o.MaxBodyBytes < 0 || o.MaxBasicBodyBytes < 0 || o.CallBudget < 0 || o.OrderQueryTimeout < 0 || o.FreezeRetryHorizon < 0 || o.QueueWait < 0:
		return nil, errors.New("webhook bridge: negative body cap, budget, timeout, horizon or queue wait")
	}
	if err := o.Verifier.Validate(); err != nil {
		return nil, fmt.Errorf("webhook bridge: %w", err)
	}
	s := &Server{
		client: o.Client, plans: o.Plans, instances: o.Instances, verifier: o.Verifier, accessKey: o.AccessKey, orders: o.Orders,
		merchantKey: o.MerchantKey, recorder: o.Recorder, clock: o.Clock,
		maxBody: o.MaxBodyBytes, maxBasicBody: o.MaxBasicBodyBytes, replays: o.Replays, budget: o.CallBudget, orderQueryTimeout: o.OrderQueryTimeout,
		freezeHorizon: o.FreezeRetryHorizon, log: o.Logger,
	}
	path := o.Path
	if path == "" {
		path = DefaultPath
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("webhook bridge: path %q does not start with a slash", path)
	}
	s.basePath = strings.TrimRight(path, "/")
	if s.plans == nil {
		s.plans = o.Client
	}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxBasicBody == 0 {
		s.maxBasicBody = DefaultMaxBasicBodyBytes
	}
	s.maxBasicBody = min(s.maxBasicBody, s.maxBody)
	if s.budget == 0 {
		s.budget = DefaultCallBudget
	}
	if s.orderQueryTimeout == 0 {
		s.orderQueryTimeout = min(DefaultOrderQueryTimeout, s.budget*2/3)
	}
	if s.freezeHorizon == 0 {
		s.freezeHorizon = DefaultFreezeRetryHorizon
	}
	switch {
	case o.MaxInFlight == 0:
		s.slots = make(chan struct{}, DefaultMaxInFlight)
	case o.MaxInFlight > 0:
		s.slots = make(chan struct{}, o.MaxInFlight)
	}
	switch o.DomainParam {
	case "":
		s.domainParam = DefaultDomainParam
	case "-":
	default:
		s.domainParam = o.DomainParam
	}
	s.denyHostSuffixes = normalizeHostSuffixes(o.DenyHostSuffixes)
	s.disableV1 = o.DisableV1
	switch {
	case o.MaxConcurrentReads == 0:
		s.reads = make(chan struct{}, DefaultMaxConcurrentReads)
	case o.MaxConcurrentReads > 0:
		s.reads = make(chan struct{}, o.MaxConcurrentReads)
	}
	s.queueWait = o.QueueWait
	if s.queueWait == 0 {
		s.queueWait = DefaultQueueWait
	}
	if s.log.GetSink() == nil {
		s.log = logr.Discard()
	}
	s.log = logcap.Cap(s.log)
	registerMetrics()
	return s, nil
}

// Call families, also the "family" of audit lines and the previous-key metric.
const (
	familyBasic = "basic"
	familyKit   = "kit"
	familyV1    = "v1"
)

// Handler routes the production URL: POST <path> (V2 basic), GET <path> (legacy V1) and
// POST <path>/produceAPI/v2/<name> (kit). Anything else is refused at the transport level
// (404, 405); that, and a body that cannot be read (the connection is dropped), are the only
// cases where the answer is not HTTP 200 with a signed body.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == s.basePath || p == s.basePath+"/" || (s.basePath == "" && p == "/"):
			switch r.Method {
			case http.MethodPost:
				s.serve(w, r, familyBasic)
			case http.MethodGet:
				if s.disableV1 {
					http.NotFound(w, r)
					return
				}
				s.serve(w, r, familyV1)
			default:
				w.Header().Set("Allow", "GET, POST")
				http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			}
		case strings.HasPrefix(p, s.basePath+protocol.KitPathPrefix):
			if r.Method != http.MethodPost {
				w.Header().Set("Allow", "POST")
				http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
				return
			}
			s.serve(w, r, familyKit)
		default:
			http.NotFound(w, r)
		}
	})
}

// call is what the bridge learned about one call, for its handlers, audit line and metrics.
// Fields are filled in as they become trustworthy: nothing from the body before verification.
type call struct {
	family string
	// activity is the metrics label: "unverified" until the call verified and decoded.
	activity string
	// instanceID is the instance the call is about, once known.
	instanceID string
	testFlag   bool
	// sentAt is the marketplace's send time, used to order state changes (docs/protocol.md §6.3).
	sentAt time.Time
	// ignored names why a state-changing call changed nothing although it was answered 000000.
	ignored string
	// key is the key that verified the call, empty until one did. It signs the answer and
	// encrypts V1 credentials (docs/protocol.md §6.12): during a rotation the marketplace may
	// still sign with, and check answers against, the previous key.
	key string
}

const activityUnverified = "unverified"

// serve runs one call: read, verify, decode, act, answer, audit. Every path but one ends in
// write, so every call is answered HTTP 200 with a signed JSON body; the exception is a body that
// cannot be read, whose connection is dropped unanswered (see readBody).
func (s *Server) serve(w http.ResponseWriter, r *http.Request, family string) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), s.budget)
	defer cancel()
	// The time the call spends in requests to the API server and Order Query is charged to this
	// tracker by the clients' transports (cmd/webhookbridge), its queueing here; audit records
	// the rest as the bridge's own time.
	ctx, tracker := calltime.Start(ctx, nil)
	c := &call{family: family, activity: activityUnverified}
	log := s.log.WithValues("family", family)
	ctx = logr.NewContext(ctx, log)

	// A read permit is taken before the body is read and held until the call is answered, so
	// at most MaxConcurrentReads bodies are in memory at once however many clients upload
	// (docs/protocol.md §1); a client trickling its body in is cut off by the server's
	// ReadTimeout. The call slot is taken once the body is in, so slow senders hold no slot.
	queue := &queueBudget{left: s.queueWait}
	queued := tracker.Begin(calltime.Queue)
	releaseRead, ok := queue.acquire(ctx, s.reads)
	queued()
	if !ok {
		s.shed(ctx, w, c, start, errTooManyReads)
		return
	}
	defer releaseRead()
	body, err := s.readBody(r, c)
	if errors.Is(err, errUnreadableBody) {
		log.Info("Marketplace call dropped unanswered", "activity", c.activity, "reason", "unreadable-body",
			"latency", time.Since(start).String(), "detail", err.Error())
		panic(http.ErrAbortHandler)
	}

	queued = tracker.Begin(calltime.Queue)
	release, ok := queue.acquire(ctx, s.slots)
	queued()
	if !ok {
		s.shed(ctx, w, c, start, errOverCapacity)
		return
	}
	defer release()

	var resp protocol.Response
	if err == nil {
		resp, err = s.process(ctx, r, body, c)
	}
	if err != nil {
		resp = protocol.NewResponse(codeFor(err))
	}
	s.write(ctx, w, c, resp)
	s.audit(ctx, c, resp.ResultCode, time.Since(start), err)
}

// errOverCapacity and errTooManyReads are the audit reasons of a call shed because every call
// slot, or every read permit, was busy.
var (
	errOverCapacity = &codeError{code: protocol.CodeInternalError, reason: "over-capacity", err: errors.New("every call slot is busy; the marketplace will resend")}
	errTooManyReads = &codeError{code: protocol.CodeInternalError, reason: "over-capacity-reads", err: errors.New("every read permit is taken; the body was not read; the marketplace will resend")}
)

// shed answers a call over capacity: nothing was verified or persisted (nor, for want of a read
// permit, read), so a retryable answer is the honest one, and a quick one keeps the
// marketplace's resends from piling up.
func (s *Server) shed(ctx context.Context, w http.ResponseWriter, c *call, start time.Time, reason *codeError) {
	shedCallsTotal.Inc()
	s.write(ctx, w, c, protocol.NewResponse(protocol.CodeInternalError))
	s.audit(ctx, c, protocol.CodeInternalError, time.Since(start), reason)
}

// queueBudget is how long one call may still wait, in all, for a read permit and then a call
// slot (Options.QueueWait): a call that waited for its permit has only the rest for its slot, so
// that an acknowledged call queues at most QueueWait however both are contended.
type queueBudget struct {
	left time.Duration
}

// acquire takes a place in sem (nil: unlimited), waiting at most what is left of the budget (and
// never past ctx), and takes the wait off the budget. It reports false when none freed up in time.
func (b *queueBudget) acquire(ctx context.Context, sem chan struct{}) (release func(), ok bool) {
	if sem == nil {
		return func() {}, true
	}
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	default:
	}
	start := time.Now()
	defer func() { b.left -= time.Since(start) }()
	if b.left <= 0 {
		return nil, false
	}
	t := time.NewTimer(b.left)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// errUnreadableBody marks a request body that could not be read to its end: the server's
// ReadTimeout cut a slow sender off, or the connection broke. Nobody is left to read an answer,
// and a slow sender must not learn anything from one, so serve drops the connection.
var errUnreadableBody = errors.New("request body unreadable")

// bodyCap is the largest body a call of family may carry: MaxBasicBodyBytes for basic calls,
// MaxBodyBytes for kit calls. V1 calls are GETs and carry none.
func (s *Server) bodyCap(family string) int64 {
	switch family {
	case familyBasic:
		return s.maxBasicBody
	case familyKit:
		return s.maxBody
	}
	return 0
}

// readBody reads a POST body up to its family's cap plus one byte, so an oversized body is
// detected without reading it all (protocol.BodyTooLarge); a Content-Length over the cap is
// refused without reading anything. V1 calls are GETs and have none.
func (s *Server) readBody(r *http.Request, c *call) ([]byte, error) {
	if c.family == familyV1 {
		return nil, nil
	}
	limit := s.bodyCap(c.family)
	if r.ContentLength > limit {
		verificationFailuresTotal.WithLabelValues(protocol.ReasonBodyTooLarge).Inc()
		return nil, protocol.BodyTooLarge(limit)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // one allocation for a body sent with its length
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1)); err != nil {
		verificationFailuresTotal.WithLabelValues("unreadable-body").Inc()
		return nil, fmt.Errorf("%w: %w", errUnreadableBody, err)
	}
	if int64(buf.Len()) > limit {
		verificationFailuresTotal.WithLabelValues(protocol.ReasonBodyTooLarge).Inc()
		return nil, protocol.BodyTooLarge(limit)
	}
	return buf.Bytes(), nil
}

// process verifies the call over the body bytes received and dispatches it.
func (s *Server) process(ctx context.Context, r *http.Request, body []byte, c *call) (protocol.Response, error) {
	switch c.family {
	case familyBasic:
		return s.processBasic(ctx, r, body, c)
	case familyKit:
		return s.processKit(ctx, r, body, c)
	default:
		return s.processV1(ctx, r, c)
	}
}

// answerKey is the key that signs c's answer and encrypts its V1 credentials: the key that
// verified the call, or the current access key when none did (docs/protocol.md §6.12).
func (s *Server) answerKey(c *call) string {
	if c != nil && c.key != "" {
		return c.key
	}
	return s.accessKey
}

// verified accounts for the outcome of c's verification against keys (the access keys, or the
// kit keys), current first: the failure reason metric, or else the key that matched, noted in c
// so that the answer is signed and V1 credentials encrypted with it (docs/protocol.md §6.12),
// and the previous-key metric when a rotated-out key matched.
func verified(c *call, keys []string, keyIndex int, err error) error {
	if err != nil {
		verificationFailuresTotal.WithLabelValues(protocol.ReasonOf(err)).Inc()
		return err
	}
	if keyIndex >= 0 && keyIndex < len(keys) {
		c.key = keys[keyIndex]
	}
	if keyIndex > 0 {
		previousKeyTotal.WithLabelValues(c.family).Inc()
	}
	return nil
}

// window is the verifier's timestamp window.
func (s *Server) window() time.Duration {
	if s.verifier.Window > 0 {
		return s.verifier.Window
	}
	return protocol.DefaultWindow
}

// write encodes resp, signs exactly the encoded bytes with c's answer key and sends them with
// HTTP 200.
func (s *Server) write(ctx context.Context, w http.ResponseWriter, c *call, resp protocol.Response) {
	body := protocol.EncodeResponse(resp)
	h := w.Header()
	h.Set("Content-Type", protocol.ContentType)
	h.Set(protocol.HeaderBodySign, protocol.BodySign(s.answerKey(c), body))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("Writing the answer failed", "error", err.Error())
	}
}
