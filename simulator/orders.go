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

package simulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Paths served by OrderServer.
const (
	// OrderQueryPath is the marketplace's Order Query API path (docs/protocol.md §7).
	OrderQueryPath = "/api/mkp-openapi-public/global/v1/order/query"
	// AdminOrdersPath registers (POST) and reads (GET .../{id}) simulated orders.
	AdminOrdersPath = "/simulator/orders"
	// AdminFaultsPath reads (GET) and sets (POST) injected faults.
	AdminFaultsPath = "/simulator/faults"
)

// Marketplace Order Query result codes, from the public error table. The
// simulator keeps its own copy so nothing is shared with the bridge's client.
const (
	MKTSuccess      = "MKT.0000"
	MKTInvalidInput = "MKT.0100" // also what an unknown order id yields
	MKTInvalidParam = "MKT.0101"
	MKTIllegalToken = "MKT.0154" // AK/SK authentication failed
	MKTRateLimited  = "MKT.0250"
	MKTInternal     = "MKT.0999"
)

// Order types, charging modes and period types the marketplace uses.
const (
	OrderTypeNew           = "NEW"
	OrderTypeTrial         = "TRIAL"
	OrderTypeTrialToFormal = "TRIAL_TO_FORMAL"
	OrderTypeUnsubscribe   = "UNSUBSCRIBE"
	OrderTypeRenew         = "RENEW"
	OrderTypeChange        = "CHANGE"

	ChargingPeriod       = "PERIOD"
	ChargingOnDemand     = "ON_DEMAND"
	ChargingOneTime      = "ONE_TIME"
	ChargingOnDemandPack = "ON_DEMAND_PKG"

	PeriodYear  = "year"
	PeriodMonth = "month"
	PeriodDay   = "day"
	PeriodHour  = "hour"
)

const (
	maxAdminBody       = 1 << 20
	marketTimeLayout   = "20060102150405"
	defaultProductID   = "00301-000000-0--0"
	defaultSKU         = "tenantry.standard"
	defaultCustomerNam = "simulated-customer"
)

// Order is the marketplace's orderInfo object, in its wire form.
type Order struct {
	OrderID    string      `json:"orderId"`
	OrderType  string      `json:"orderType"`
	CreateTime string      `json:"createTime"`
	BuyerInfo  Buyer       `json:"buyerInfo"`
	OrderLine  []OrderLine `json:"orderLine"`
}

// Buyer is the marketplace's buyerInfo object.
type Buyer struct {
	CustomerID   string `json:"customerId"`
	CustomerName string `json:"customerName"`
	UserID       string `json:"userId,omitempty"`
	UserName     string `json:"userName,omitempty"`
	MobilePhone  string `json:"mobilePhone,omitempty"`
	Email        string `json:"email,omitempty"`
}

// OrderLine is the marketplace's orderLine object.
type OrderLine struct {
	OrderLineID  string    `json:"orderLineId"`
	ChargingMode string    `json:"chargingMode"`
	PeriodType   string    `json:"periodType,omitempty"`
	PeriodNumber int       `json:"periodNumber,omitempty"`
	ExpireTime   string    `json:"expireTime,omitempty"`
	ProductInfo  []Product `json:"productInfo"`
	ExtendParams []Param   `json:"extendParams,omitempty"`
}

// Product is the marketplace's productInfo object.
type Product struct {
	ProductID   string `json:"productId"`
	SkuCode     string `json:"skuCode"`
	LinearValue int    `json:"linearValue,omitempty"`
}

// Param is one of a line's extendParams.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// OrderSpec describes an order to invent. Every field is optional: defaults
// give a one-month NEW PERIOD order for the server's default SKU.
type OrderSpec struct {
	// OrderID forces the id; a marketplace-looking one is generated when empty.
	OrderID      string    `json:"orderId,omitempty"`
	SKU          string    `json:"sku,omitempty"`
	ProductID    string    `json:"productId,omitempty"`
	OrderType    string    `json:"orderType,omitempty"`
	ChargingMode string    `json:"chargingMode,omitempty"`
	PeriodType   string    `json:"periodType,omitempty"`
	PeriodNumber int       `json:"periodNumber,omitempty"`
	ExpireTime   time.Time `json:"expireTime,omitzero"`
	LinearValue  int       `json:"linearValue,omitempty"`
	CustomerID   string    `json:"customerId,omitempty"`
	CustomerName string    `json:"customerName,omitempty"`
	ExtendParams []Param   `json:"extendParams,omitempty"`
	// Lines, when set, makes one order line per entry instead of the single line SKU,
	// ProductID and LinearValue describe, all with the order's charging mode and period. A
	// pay-per-use (ON_DEMAND) order may hold several lines of one product, which a bridge must
	// turn into one instance (docs/protocol.md §6.7).
	Lines []LineSpec `json:"lines,omitempty"`
}

// LineSpec is one order line of an OrderSpec with several lines; an empty SKU or ProductID is
// the OrderSpec's, else the server's default.
type LineSpec struct {
	SKU          string  `json:"sku,omitempty"`
	ProductID    string  `json:"productId,omitempty"`
	LinearValue  int     `json:"linearValue,omitempty"`
	ExtendParams []Param `json:"extendParams,omitempty"`
}

// RegisteredOrder is what the admin endpoint answers: the ids a buy needs,
// and the full order as Order Query will report it.
type RegisteredOrder struct {
	OrderID string `json:"orderId"`
	// OrderLineID is the first line, the one a single-line order has.
	OrderLineID string `json:"orderLineId"`
	// OrderLineIDs are all the order's lines, in order.
	OrderLineIDs []string `json:"orderLineIds,omitempty"`
	Order        Order    `json:"order"`
}

func registered(o Order) RegisteredOrder {
	r := RegisteredOrder{OrderID: o.OrderID, Order: o}
	for _, l := range o.OrderLine {
		r.OrderLineIDs = append(r.OrderLineIDs, l.OrderLineID)
	}
	if len(r.OrderLineIDs) > 0 {
		r.OrderLineID = r.OrderLineIDs[0]
	}
	return r
}

// Failure is an injected fault. With Code set, matching Order Query requests
// get that marketplace result code (with HTTPStatus, or the code's usual
// status); with only HTTPStatus set they get a bare HTTP error, as from a
// failing gateway. Times limits the fault to that many requests (0: until
// cleared).
type Failure struct {
	Code       string `json:"code,omitempty"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
	Times      int    `json:"times,omitempty"`
}

// Faults is the admin representation of the injected faults.
type Faults struct {
	// Latency is a Go duration string ("1.5s"); empty for none.
	Latency string `json:"latency,omitempty"`
	Failure
}

// OrderServerConfig configures NewOrderServer.
type OrderServerConfig struct {
	// AK and SK are the seller key pair requests must be signed with.
	AK, SK string
	// DefaultSKU and DefaultProductID fill OrderSpecs and the documented mock orders.
	DefaultSKU, DefaultProductID string
	// MockChangeSKU is the SKU of the mock upgrade order MOCKMONTYCHANGE; DefaultSKU when
	// empty. MockLinearValue is the linearValue (quantity) of MOCKMONTYCHANGE and of the
	// other mock orders that carry one; DefaultMockLinearValue when zero.
	MockChangeSKU   string
	MockLinearValue int
	// MaxSkew bounds X-Sdk-Date; DefaultGatewaySkew when zero.
	MaxSkew time.Duration
	// UsageKey is the access key usage pushes are signed with (their signature header).
	UsageKey string
	// UsageRequiresGateway refuses usage pushes that are not also API-Gateway signed with AK/SK.
	UsageRequiresGateway bool
	// Now is the server clock; time.Now when nil.
	Now func() time.Time
}

// OrderServer is a fake marketplace Order Query API with an admin endpoint to
// register orders and inject faults. It is meant for tests and local demos:
// the admin endpoint is unauthenticated, so bind it to a private address.
type OrderServer struct {
	cfg OrderServerConfig
	mux *http.ServeMux

	mu      sync.Mutex
	orders  map[string]Order
	latency time.Duration
	failure Failure

	usage        UsageLedger
	usageSNs     map[string]bool
	usageFailure Failure
}

// NewOrderServer returns an OrderServer holding no orders but the documented
// mock ones.
func NewOrderServer(cfg OrderServerConfig) *OrderServer {
	if cfg.DefaultSKU == "" {
		cfg.DefaultSKU = defaultSKU
	}
	if cfg.DefaultProductID == "" {
		cfg.DefaultProductID = defaultProductID
	}
	if cfg.MockChangeSKU == "" {
		cfg.MockChangeSKU = cfg.DefaultSKU
	}
	if cfg.MockLinearValue <= 0 {
		cfg.MockLinearValue = DefaultMockLinearValue
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = DefaultGatewaySkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &OrderServer{cfg: cfg, orders: map[string]Order{}, usageSNs: map[string]bool{}}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET "+OrderQueryPath, s.serveQuery)
	s.mux.HandleFunc("GET "+OrderQueryPath+"/{$}", s.serveQuery)
	s.mux.HandleFunc("POST "+AdminOrdersPath, s.serveCreateOrder)
	s.mux.HandleFunc("GET "+AdminOrdersPath+"/{id}", s.serveGetOrder)
	s.mux.HandleFunc("GET "+AdminFaultsPath, s.serveGetFaults)
	s.mux.HandleFunc("POST "+AdminFaultsPath, s.serveSetFaults)
	s.mux.HandleFunc("POST "+UsagePath, s.serveUsage)
	s.mux.HandleFunc("GET "+AdminUsagePath, s.serveGetUsage)
	s.mux.HandleFunc("POST "+AdminUsageFaultsPath, s.serveSetUsageFaults)
	return s
}

// ServeHTTP implements http.Handler.
func (s *OrderServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetLatency delays every Order Query answer by d, to exercise the caller's
// deadlines. Zero removes the delay.
func (s *OrderServer) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetFailure injects f into the following Order Query requests; the zero
// Failure clears it.
func (s *OrderServer) SetFailure(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = f
}

// CreateOrder invents an order from spec and stores it, replacing any order
// with the same id.
func (s *OrderServer) CreateOrder(spec OrderSpec) Order {
	o := s.newOrder(spec)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[o.OrderID] = o
	return o
}

// RegisterOrder is CreateOrder in the shape Lifecycle needs, so a scenario can
// run against an in-process server or a remote one (see OrdersAdmin) alike.
func (s *OrderServer) RegisterOrder(_ context.Context, spec OrderSpec) (RegisteredOrder, error) {
	return registered(s.CreateOrder(spec)), nil
}

// Order returns a stored or mock order.
func (s *OrderServer) Order(id string) (Order, bool) {
	s.mu.Lock()
	o, ok := s.orders[id]
	s.mu.Unlock()
	if ok {
		return o, true
	}
	return s.mockOrder(id)
}

func (s *OrderServer) newOrder(spec OrderSpec) Order {
	now := s.cfg.Now().UTC()
	id := spec.OrderID
	if id == "" {
		id = newOrderID(now)
	}
	orderType := or(spec.OrderType, OrderTypeNew)
	charging := or(spec.ChargingMode, ChargingPeriod)
	var periodType string
	var periodNumber int
	if charging == ChargingPeriod {
		periodType = or(spec.PeriodType, PeriodMonth)
		if orderType == OrderTypeTrial && spec.PeriodType == "" {
			periodType = PeriodDay
		}
		periodNumber = spec.PeriodNumber
		if periodNumber == 0 {
			periodNumber = 1
		}
	}
	expire := spec.ExpireTime
	if expire.IsZero() && charging == ChargingPeriod {
		expire = addPeriod(now, periodType, periodNumber)
	}
	lineSpecs := spec.Lines
	if len(lineSpecs) == 0 {
		lineSpecs = []LineSpec{{SKU: spec.SKU, ProductID: spec.ProductID, LinearValue: spec.LinearValue, ExtendParams: spec.ExtendParams}}
	}
	lines := make([]OrderLine, 0, len(lineSpecs))
	for i, ls := range lineSpecs {
		params := ls.ExtendParams
		if params == nil {
			params = spec.ExtendParams
		}
		line := OrderLine{
			OrderLineID:  fmt.Sprintf("%s-%06d", id, i+1),
			ChargingMode: charging,
			PeriodType:   periodType,
			PeriodNumber: periodNumber,
			ProductInfo: []Product{{
				ProductID:   or(ls.ProductID, or(spec.ProductID, s.cfg.DefaultProductID)),
				SkuCode:     or(ls.SKU, or(spec.SKU, s.cfg.DefaultSKU)),
				LinearValue: ls.LinearValue,
			}},
			ExtendParams: params,
		}
		if !expire.IsZero() {
			line.ExpireTime = expire.UTC().Format(marketTimeLayout)
		}
		lines = append(lines, line)
	}
	customerID := spec.CustomerID
	if customerID == "" {
		customerID = randomHex(16)
	}
	return Order{
		OrderID:    id,
		OrderType:  orderType,
		CreateTime: now.Format(marketTimeLayout),
		BuyerInfo: Buyer{
			CustomerID:   customerID,
			CustomerName: or(spec.CustomerName, defaultCustomerNam),
			UserID:       customerID,
			UserName:     or(spec.CustomerName, defaultCustomerNam),
		},
		OrderLine: lines,
	}
}

// DefaultMockLinearValue is the linearValue of the mock orders that carry one, unless
// OrderServerConfig.MockLinearValue says otherwise.
const DefaultMockLinearValue = 5

// MockOrder describes one of the mock order ids the marketplace answers for any seller, so a
// bridge can be debugged before any real purchase exists (docs/protocol.md §7).
type MockOrder struct {
	OrderID     string
	Description string
}

// MockOrders lists the mock order ids the OrderServer answers. The first four are the ones
// the public documentation names; the others stand for the remaining order types and charging
// modes, following the same naming.
func MockOrders() []MockOrder {
	return []MockOrder{
		{"MOCKPERIODYEARNEW", "NEW, PERIOD, one year, the default SKU"},
		{"MOCKPERIODDAYTRIAL", "TRIAL, PERIOD, seven days, the default SKU"},
		{"MOCKMONTYRENEW", "RENEW, PERIOD, one month, the default SKU"},
		{"MOCKMONTYCHANGE", "CHANGE (upgrade or renewal change), PERIOD, one month, the change SKU with the mock linearValue"},
		{"MOCKMONTYTRIALTOFORMAL", "TRIAL_TO_FORMAL, PERIOD, one month, the default SKU"},
		{"MOCKMONTYUNSUBSCRIBE", "UNSUBSCRIBE, PERIOD, one month, the default SKU"},
		{"MOCKPERIODYEARNEWLINEAR", "NEW, PERIOD, one year, the default SKU with the mock linearValue"},
		{"MOCKONETIMENEW", "NEW, ONE_TIME, the default SKU"},
		{"MOCKONDEMAND", "NEW, ON_DEMAND, the default SKU"},
		{"MOCKONDEMANDMULTI", "NEW, ON_DEMAND, two lines (-000001, -000002) of the default product and SKU"},
		{"MOCKONDEMANDPKG", "NEW, ON_DEMAND_PKG, the default SKU"},
	}
}

// mockSpec is the order a mock id stands for.
func (s *OrderServer) mockSpec(id string) (OrderSpec, bool) {
	period := func(orderType, periodType string, n int) OrderSpec {
		return OrderSpec{OrderType: orderType, ChargingMode: ChargingPeriod, PeriodType: periodType, PeriodNumber: n}
	}
	var spec OrderSpec
	switch id {
	case "MOCKPERIODYEARNEW":
		spec = period(OrderTypeNew, PeriodYear, 1)
	case "MOCKPERIODYEARNEWLINEAR":
		spec = period(OrderTypeNew, PeriodYear, 1)
		spec.LinearValue = s.cfg.MockLinearValue
	case "MOCKPERIODDAYTRIAL":
		spec = period(OrderTypeTrial, PeriodDay, 7)
	case "MOCKMONTYTRIALTOFORMAL":
		spec = period(OrderTypeTrialToFormal, PeriodMonth, 1)
	case "MOCKMONTYUNSUBSCRIBE":
		spec = period(OrderTypeUnsubscribe, PeriodMonth, 1)
	case "MOCKMONTYRENEW":
		spec = period(OrderTypeRenew, PeriodMonth, 1)
	case "MOCKMONTYCHANGE":
		spec = period(OrderTypeChange, PeriodMonth, 1)
		spec.SKU, spec.LinearValue = s.cfg.MockChangeSKU, s.cfg.MockLinearValue
	case "MOCKONETIMENEW":
		spec = OrderSpec{OrderType: OrderTypeNew, ChargingMode: ChargingOneTime}
	case "MOCKONDEMAND":
		spec = OrderSpec{OrderType: OrderTypeNew, ChargingMode: ChargingOnDemand}
	case "MOCKONDEMANDMULTI":
		spec = OrderSpec{OrderType: OrderTypeNew, ChargingMode: ChargingOnDemand, Lines: []LineSpec{{}, {}}}
	case "MOCKONDEMANDPKG":
		spec = OrderSpec{OrderType: OrderTypeNew, ChargingMode: ChargingOnDemandPack}
	default:
		return OrderSpec{}, false
	}
	return spec, true
}

func (s *OrderServer) mockOrder(id string) (Order, bool) {
	spec, ok := s.mockSpec(id)
	if !ok {
		return Order{}, false
	}
	spec.OrderID = id
	// A stable customer keeps repeated queries of a mock order consistent.
	spec.CustomerID = "68cbc86abc2018ab880d92f36422fa0e"
	return s.newOrder(spec), true
}

type queryAnswer struct {
	ResultCode string `json:"resultCode"`
	ResultMsg  string `json:"resultMsg"`
	OrderInfo  *Order `json:"orderInfo,omitempty"`
}

func (s *OrderServer) serveQuery(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency := s.latency
	failure := s.failure
	if failure.Times > 0 {
		s.failure.Times--
		if s.failure.Times == 0 {
			s.failure = Failure{}
		}
	}
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if failure.Code != "" {
		status := failure.HTTPStatus
		if status == 0 {
			status = statusForCode(failure.Code)
		}
		writeJSON(w, status, queryAnswer{ResultCode: failure.Code, ResultMsg: "injected failure"})
		return
	}
	if failure.HTTPStatus != 0 {
		http.Error(w, http.StatusText(failure.HTTPStatus), failure.HTTPStatus)
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, queryAnswer{ResultCode: MKTInvalidParam, ResultMsg: "Invalid parameter"})
		return
	}
	lookup := func(ak string) (string, bool) { return s.cfg.SK, ak == s.cfg.AK && ak != "" }
	if _, err := verifyGatewayRequest(r, body, lookup, s.cfg.Now(), s.cfg.MaxSkew); err != nil {
		writeJSON(w, http.StatusUnauthorized, queryAnswer{ResultCode: MKTIllegalToken, ResultMsg: "Illegal token"})
		return
	}

	q := r.URL.Query()
	orderID, lineID := q.Get("orderId"), q.Get("orderLineId")
	if orderID == "" || len(orderID) > 64 || len(lineID) > 64 {
		writeJSON(w, http.StatusBadRequest, queryAnswer{ResultCode: MKTInvalidParam, ResultMsg: "Invalid parameter"})
		return
	}
	order, ok := s.Order(orderID)
	if ok && lineID != "" {
		var lines []OrderLine
		for _, l := range order.OrderLine {
			if l.OrderLineID == lineID {
				lines = append(lines, l)
			}
		}
		order.OrderLine, ok = lines, len(lines) > 0
	}
	if !ok {
		// The public error table lists MKT.0100 with HTTP 500; a bridge must
		// trust the code, not the status.
		writeJSON(w, statusForCode(MKTInvalidInput), queryAnswer{ResultCode: MKTInvalidInput, ResultMsg: "Failure of input parameter: order not found"})
		return
	}
	writeJSON(w, http.StatusOK, queryAnswer{ResultCode: MKTSuccess, ResultMsg: "success", OrderInfo: &order})
}

// statusForCode is the HTTP status the public error table pairs with a code.
func statusForCode(code string) int {
	switch code {
	case MKTSuccess:
		return http.StatusOK
	case MKTInvalidParam, "MKT.0199":
		return http.StatusBadRequest
	case "MKT.0150", "MKT.0151", MKTIllegalToken:
		return http.StatusUnauthorized
	case MKTRateLimited:
		return http.StatusNotAcceptable
	}
	return http.StatusInternalServerError
}

func (s *OrderServer) serveCreateOrder(w http.ResponseWriter, r *http.Request) {
	var spec OrderSpec
	if err := decodeAdmin(r, &spec); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := validSpec(spec); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusCreated, registered(s.CreateOrder(spec)))
}

// maxOrderLines bounds the lines of a registered order; the marketplace's orders hold a few.
const maxOrderLines = 100

// validSpec refuses a spec the marketplace could never produce.
func validSpec(spec OrderSpec) error {
	if len(spec.OrderID) > 64 {
		return errors.New("orderId longer than 64 characters")
	}
	if len(spec.Lines) > maxOrderLines {
		return fmt.Errorf("more than %d lines", maxOrderLines)
	}
	if spec.LinearValue < 0 {
		return errors.New("linearValue is negative")
	}
	for i, l := range spec.Lines {
		if l.LinearValue < 0 {
			return fmt.Errorf("lines[%d].linearValue is negative", i)
		}
	}
	return nil
}

func (s *OrderServer) serveGetOrder(w http.ResponseWriter, r *http.Request) {
	o, ok := s.Order(r.PathValue("id"))
	if !ok {
		http.Error(w, "order not found", http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, registered(o))
}

func (s *OrderServer) serveGetFaults(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	f := Faults{Failure: s.failure}
	if s.latency > 0 {
		f.Latency = s.latency.String()
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, f)
}

func (s *OrderServer) serveSetFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	if err := decodeAdmin(r, &f); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var latency time.Duration
	if f.Latency != "" {
		d, err := time.ParseDuration(f.Latency)
		if err != nil || d < 0 {
			http.Error(w, fmt.Sprintf("latency %q is not a non-negative duration", f.Latency), http.StatusBadRequest)
			return
		}
		latency = d
	}
	if f.HTTPStatus != 0 && (f.HTTPStatus < 100 || f.HTTPStatus > 599) {
		http.Error(w, fmt.Sprintf("httpStatus %d is not an HTTP status", f.HTTPStatus), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.latency, s.failure = latency, f.Failure
	s.mu.Unlock()
	s.serveGetFaults(w, r)
}

func decodeAdmin(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("decoding request body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// newOrderID returns an id shaped like the marketplace's: "CS", the UTC
// date and minute as yyMMddHHmm, then five random upper-case alphanumerics.
func newOrderID(now time.Time) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "CS" + now.UTC().Format("0601021504") + string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

func addPeriod(t time.Time, periodType string, n int) time.Time {
	switch strings.ToLower(periodType) {
	case PeriodYear:
		return t.AddDate(n, 0, 0)
	case PeriodDay:
		return t.AddDate(0, 0, n)
	case PeriodHour:
		return t.Add(time.Duration(n) * time.Hour)
	}
	return t.AddDate(0, n, 0)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
