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
// KooGallery production-interface calls (shared/marketplace/PROTOCOL.md), and turns them into
// changes of TenantInstance and TenantDirectory specs, which the operator then reconciles.
//
// The bridge is stateless. Idempotency comes from deterministic instance names (InstanceName)
// and ordering from the send timestamps recorded in spec.marketplace, so any number of replicas
// can serve the same marketplace and a restart loses nothing. It writes specs and metadata only,
// never status, and it answers every call within a fixed budget.
package webhookbridge

import (
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

	"github.com/tenantry/tenantry/webhookbridge/orderquery"
	"github.com/tenantry/tenantry/webhookbridge/protocol"
)

// Defaults of Options.
const (
	DefaultPath               = "/saasproduce"
	DefaultMaxBodyBytes       = 1 << 20
	DefaultCallBudget         = 3 * time.Second
	DefaultOrderQueryTimeout  = 2 * time.Second
	DefaultFreezeRetryHorizon = time.Hour
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
	// Verifier checks signatures, timestamps and nonces; its Keys and KitKeys carry the current
	// key first and, during a rotation, the previous one.
	Verifier *protocol.Verifier
	// AccessKey is the current access key. It signs every answer's Body-Sign header and
	// encrypts V1 credentials.
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
	// MaxBodyBytes caps request bodies; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// CallBudget bounds the work of one call, so every call is answered well within the
	// marketplace's 5 s; DefaultCallBudget when zero.
	CallBudget time.Duration
	// OrderQueryTimeout bounds an Order Query within the budget, leaving time to write and
	// answer; DefaultOrderQueryTimeout (capped at two thirds of CallBudget) when zero.
	OrderQueryTimeout time.Duration
	// FreezeRetryHorizon is how long after an UNFREEZE a FREEZE is presumed to be a late resend
	// of a freeze sent before the renewal that preceded the UNFREEZE (see handleStatus);
	// DefaultFreezeRetryHorizon when zero, the marketplace's resend horizon for status calls.
	FreezeRetryHorizon time.Duration
	// Logger is the base logger; every call gets a child of it in its context.
	Logger logr.Logger
}

// Server answers marketplace calls. Build it with New; it is safe for concurrent use.
type Server struct {
	client            client.Client
	verifier          *protocol.Verifier
	accessKey         string
	orders            OrderQuerier
	merchantKey       *rsa.PrivateKey
	recorder          events.EventRecorder
	clock             clock.PassiveClock
	basePath          string
	maxBody           int64
	budget            time.Duration
	orderQueryTimeout time.Duration
	freezeHorizon     time.Duration
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
	case o.MaxBodyBytes < 0 || o.CallBudget < 0 || o.OrderQueryTimeout < 0 || o.FreezeRetryHorizon < 0:
		return nil, errors.New("webhook bridge: negative body cap, budget, timeout or horizon")
	}
	if err := o.Verifier.Validate(); err != nil {
		return nil, fmt.Errorf("webhook bridge: %w", err)
	}
	s := &Server{
		client: o.Client, verifier: o.Verifier, accessKey: o.AccessKey, orders: o.Orders,
		merchantKey: o.MerchantKey, recorder: o.Recorder, clock: o.Clock,
		maxBody: o.MaxBodyBytes, budget: o.CallBudget, orderQueryTimeout: o.OrderQueryTimeout,
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
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.budget == 0 {
		s.budget = DefaultCallBudget
	}
	if s.orderQueryTimeout == 0 {
		s.orderQueryTimeout = min(DefaultOrderQueryTimeout, s.budget*2/3)
	}
	if s.freezeHorizon == 0 {
		s.freezeHorizon = DefaultFreezeRetryHorizon
	}
	if s.log.GetSink() == nil {
		s.log = logr.Discard()
	}
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
// (404, 405), which is the only case where the answer is not HTTP 200 with a signed body.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == s.basePath || p == s.basePath+"/" || (s.basePath == "" && p == "/"):
			switch r.Method {
			case http.MethodPost:
				s.serve(w, r, familyBasic)
			case http.MethodGet:
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
	// sentAt is the marketplace's send time, used to order state changes (PROTOCOL.md §6.3).
	sentAt time.Time
	// ignored names why a state-changing call changed nothing although it was answered 000000.
	ignored string
}

const activityUnverified = "unverified"

// serve runs one call: read, verify, decode, act, answer, audit. Every path ends in write, so
// every call is answered HTTP 200 with a signed JSON body.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, family string) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), s.budget)
	defer cancel()
	c := &call{family: family, activity: activityUnverified}
	log := s.log.WithValues("family", family)
	ctx = logr.NewContext(ctx, log)

	resp, err := s.process(ctx, r, c)
	if err != nil {
		resp = protocol.NewResponse(codeFor(err))
	}
	s.write(ctx, w, resp)
	s.audit(ctx, c, resp.ResultCode, time.Since(start), err)
}

// process verifies the call over the bytes received and dispatches it. The body is read up to
// the cap plus one byte, so an oversized body is detected without reading it all.
func (s *Server) process(ctx context.Context, r *http.Request, c *call) (protocol.Response, error) {
	var body []byte
	if family := c.family; family != familyV1 {
		b, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
		if err != nil {
			verificationFailuresTotal.WithLabelValues("unreadable-body").Inc()
			return protocol.Response{}, &codeError{code: protocol.CodeInvalidParam, reason: "unreadable-body", err: fmt.Errorf("reading request body: %w", err)}
		}
		if int64(len(b)) > s.maxBody {
			verificationFailuresTotal.WithLabelValues(protocol.ReasonBodyTooLarge).Inc()
			return protocol.Response{}, protocol.BodyTooLarge(s.maxBody)
		}
		body = b
	}
	switch c.family {
	case familyBasic:
		return s.processBasic(ctx, r, body, c)
	case familyKit:
		return s.processKit(ctx, r, body, c)
	default:
		return s.processV1(ctx, r, c)
	}
}

// verified accounts for the outcome of a verification: the failure reason metric, or the
// previous-key metric when a rotated-out key still matched.
func verified(family string, keyIndex int, err error) error {
	if err != nil {
		verificationFailuresTotal.WithLabelValues(protocol.ReasonOf(err)).Inc()
		return err
	}
	if keyIndex > 0 {
		previousKeyTotal.WithLabelValues(family).Inc()
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

// write encodes resp, signs exactly the encoded bytes and sends them with HTTP 200.
func (s *Server) write(ctx context.Context, w http.ResponseWriter, resp protocol.Response) {
	body := protocol.EncodeResponse(resp)
	h := w.Header()
	h.Set("Content-Type", protocol.ContentType)
	h.Set(protocol.HeaderBodySign, protocol.BodySign(s.accessKey, body))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		logr.FromContextOrDiscard(ctx).V(1).Info("Writing the answer failed", "error", err.Error())
	}
}
