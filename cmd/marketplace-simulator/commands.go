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

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/simulator"
)

const (
	exitOK      = 0
	exitFailed  = 1 // a call failed or the bridge did not answer 000000
	exitUsage   = 2
	defaultURL  = "http://127.0.0.1:8080/saasproduce"
	defaultOrds = "http://127.0.0.1:8090"
)

// env carries what every subcommand needs.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name, summary, usage string
	run                  func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error
}

// usageError makes run exit with exitUsage.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// answerError makes run exit with exitFailed after the answer was printed.
var errNotSuccess = errors.New("bridge did not answer 000000")

func commands() []command {
	return []command{
		{"serve-orders", "serve the fake Order Query API, the usage push endpoint and their admin endpoint", serveOrdersUsage(), serveOrders},
		{"usage-faults", "make the usage endpoint of serve-orders fail (an outage or a refusal), or clear that", "Sets the fault of the usage endpoint of a running serve-orders: --http-status 503 for an\noutage, --code for a refusal; no flag clears it.", setUsageFaults},
		{"usage", "print what the usage ledger of serve-orders billed each instance", "Reads the usage ledger of a running serve-orders: each instance's total, the records\nit took (each metering_sn once) and the resends it dropped.", usageCommand},
		{"order", "register an order on a running serve-orders", "Registers an order and prints \"<orderId> <orderLineId>\".", registerOrder},
		{"faults", "set injected faults on a running serve-orders", "Sets latency and failures of the Order Query API; no flags clears them.", setFaults},
		{"buy", "send newInstance", "Sends newInstance for --order-id, or for a new order registered on --orders-url with --sku.", buy},
		{"query", "send queryInstance", "Sends queryInstance for --instance-id (comma-separated) or the ids given as arguments.", query},
		{"renew", "send refreshInstance", "Sends refreshInstance with --expire (yyyyMMddHHmmss, RFC 3339, or +duration from now).", renew},
		{"freeze", "send updateInstanceStatus FREEZE", "Sends updateInstanceStatus FREEZE.", freeze},
		{"unfreeze", "send updateInstanceStatus UNFREEZE", "Sends updateInstanceStatus UNFREEZE.", unfreeze},
		{"upgrade", "send upgradeInstance", "Sends upgradeInstance for --order-id, or for a CHANGE order registered on --orders-url with --sku.", upgrade},
		{"change-check", "send changeInstanceCheck", "Sends changeInstanceCheck for the target --product-id/--sku/--linear.", changeCheck},
		{"release", "send releaseInstance", "Sends releaseInstance.", release},
		{"tenant-sync", "send the kit tenantSync call", "Sends tenantSync (flag 0 delete, 1 add, 2 modify).", tenantSync},
		{"app-sync", "send the kit applicationSync call", "Sends applicationSync; the client secret (--client-secret-file or $TENANTRY_CLIENT_SECRET)\nis RSA-OAEP encrypted with --public-key-file.", appSync},
		{"auth-sync", "send the kit authSync call", "Sends authSync for --users-file (a JSON array of users) or the single user given by flags.", authSync},
		{"org-sync", "send the kit singleOrgSync call", "Sends singleOrgSync.", orgSync},
		{"all-org-sync", "send the kit allOrgSync call", "Sends allOrgSync with --orgs-file (a JSON array of {orgCode, orgName, parentCode}).", allOrgSync},
		{"lifecycle", "run a purchase-to-release scenario (--scenario)", lifecycleUsage, lifecycle},
		{"debug", "replay the seller console's interface debug flow (testFlag=1)", debugUsage, debug},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() {
			fmt.Fprintf(stderr, "usage: marketplace-simulator %s [flags]\n\n%s\n\nFlags:\n", c.name, c.usage)
			fs.PrintDefaults()
		}
		err := c.run(ctx, e, fs, args[1:])
		var ue usageError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "marketplace-simulator %s: %v\n", c.name, err)
			return exitUsage
		case errors.Is(err, errNotSuccess):
			return exitFailed
		default:
			fmt.Fprintf(stderr, "marketplace-simulator %s: %v\n", c.name, err)
			return exitFailed
		}
	}
	fmt.Fprintf(stderr, "marketplace-simulator: unknown command %q\n\n", args[0])
	printUsage(stderr, cmds)
	return exitUsage
}

func printUsage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: marketplace-simulator <command> [flags]   (marketplace-simulator <command> -h for details)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nBridge calls read the access key from --access-key-file or $TENANTRY_ACCESS_KEY, and the kit\nkey from --kit-key-file or $TENANTRY_KIT_KEY (default: the access key). They exit 1 when the\nanswer is not 000000.")
}

// parse parses args and rejects stray positional arguments unless allowed.
func parse(fs *flag.FlagSet, args []string, positional bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if !positional && fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	}
	return nil
}

func required(name, value string) error {
	if value == "" {
		return usageError{fmt.Sprintf("--%s is required", name)}
	}
	return nil
}

// requiredAll checks name/value pairs in order.
func requiredAll(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := required(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// bridgeFlags are shared by every command that calls the bridge.
type bridgeFlags struct {
	url, accessKeyFile, kitKeyFile, publicKeyFile string
	test, json, allowMissingBodySign              bool
	timeout                                       time.Duration
}

func addBridgeFlags(fs *flag.FlagSet, e *env) *bridgeFlags {
	b := &bridgeFlags{}
	fs.StringVar(&b.url, "bridge-url", or(e.getenv("TENANTRY_BRIDGE_URL"), defaultURL), "the bridge's production URL (kit calls go to <url>/produceAPI/v2/<name>); $TENANTRY_BRIDGE_URL")
	fs.StringVar(&b.accessKeyFile, "access-key-file", "", "file holding the access key (default $TENANTRY_ACCESS_KEY)")
	fs.StringVar(&b.kitKeyFile, "kit-key-file", "", "file holding the kit key (default $TENANTRY_KIT_KEY, else the access key)")
	fs.BoolVar(&b.test, "test", false, "mark calls as marketplace debug calls (testFlag=1)")
	fs.BoolVar(&b.json, "json", false, "print answers as JSON, one object per line")
	fs.BoolVar(&b.allowMissingBodySign, "allow-missing-body-sign", false, "accept answers without a Body-Sign header")
	fs.DurationVar(&b.timeout, "timeout", 20*time.Second, "timeout of each call")
	return b
}

func (b *bridgeFlags) client(e *env) (*simulator.Client, error) {
	accessKey, err := secret(b.accessKeyFile, e.getenv("TENANTRY_ACCESS_KEY"))
	if err != nil {
		return nil, fmt.Errorf("reading access key: %w", err)
	}
	if accessKey == "" {
		return nil, usageError{"no access key: set --access-key-file or $TENANTRY_ACCESS_KEY"}
	}
	kitKey, err := secret(b.kitKeyFile, e.getenv("TENANTRY_KIT_KEY"))
	if err != nil {
		return nil, fmt.Errorf("reading kit key: %w", err)
	}
	o := simulator.Options{
		BaseURL: b.url, AccessKey: accessKey, KitKey: kitKey, Test: b.test,
		AllowMissingBodySign: b.allowMissingBodySign,
		HTTP:                 &http.Client{Timeout: b.timeout},
	}
	if b.publicKeyFile != "" {
		pemBytes, err := os.ReadFile(b.publicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading public key: %w", err)
		}
		if o.MerchantPublicKey, err = simulator.ParsePublicKeyPEM(pemBytes); err != nil {
			return nil, fmt.Errorf("parsing public key %q: %w", b.publicKeyFile, err)
		}
	}
	c, err := simulator.NewClient(o)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return c, nil
}

// secret reads a key from file, falling back to an environment value; keys
// never come from flags so they stay out of shell history and ps.
func secret(file, fallback string) (string, error) {
	if file == "" {
		return strings.TrimSpace(fallback), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// report prints one answer and turns a non-000000 one into errNotSuccess.
func (b *bridgeFlags) report(e *env, step string, a *simulator.Answer, callErr error) error {
	if a != nil {
		printAnswer(e.stdout, b.json, step, a)
	}
	if callErr != nil {
		return callErr
	}
	if !a.OK() {
		if !b.json {
			fmt.Fprintf(e.stderr, "%s: bridge answered %s %q\n", step, a.ResultCode, a.ResultMsg)
		}
		return errNotSuccess
	}
	return nil
}

func printAnswer(w io.Writer, asJSON bool, step string, a *simulator.Answer) {
	if asJSON {
		out := struct {
			Step string `json:"step"`
			*simulator.Answer
			LatencyMs float64         `json:"latencyMs"`
			Body      json.RawMessage `json:"body,omitempty"`
		}{Step: step, Answer: a, LatencyMs: float64(a.Latency.Microseconds()) / 1000}
		if json.Valid(a.Raw) {
			out.Body = a.Raw
		}
		b, _ := json.Marshal(out)
		fmt.Fprintln(w, string(b))
		return
	}
	line := fmt.Sprintf("%s: %s %q", step, a.ResultCode, a.ResultMsg)
	if a.HTTPStatus != http.StatusOK {
		line = fmt.Sprintf("%s: HTTP %d %s", step, a.HTTPStatus, strings.TrimSpace(string(a.Raw)))
	}
	if a.InstanceID != "" {
		line += " instanceId=" + a.InstanceID
	}
	fmt.Fprintf(w, "%s (%s)\n", line, a.Latency.Round(time.Millisecond))
	for _, i := range a.Info {
		l := "  instance " + i.InstanceID
		if i.AppInfo != nil {
			l += " frontEndUrl=" + i.AppInfo.FrontEndURL
		}
		fmt.Fprintln(w, l)
	}
}

// send makes one signed call with the client the flags describe, within --timeout, and reports
// its answer as step.
func (b *bridgeFlags) send(ctx context.Context, e *env, step string, call func(context.Context, *simulator.Client) (*simulator.Answer, error)) error {
	c, err := b.client(e)
	if err != nil {
		return err
	}
	ctx, cancel := callCtx(ctx, b)
	defer cancel()
	a, err := call(ctx, c)
	return b.report(e, step, a, err)
}

func callCtx(ctx context.Context, b *bridgeFlags) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.timeout)
}

func serveOrders(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	listen := fs.String("listen", "127.0.0.1:8090", "address to listen on")
	ak := fs.String("ak", "", "seller access key (AK) requests must be signed with")
	sk := fs.String("sk", "", "seller secret key (SK); prefer --sk-file")
	akFile := fs.String("ak-file", "", "file holding the AK")
	skFile := fs.String("sk-file", "", "file holding the SK")
	sku := fs.String("default-sku", "tenantry.standard", "SKU of orders registered without one and of the documented mock orders")
	product := fs.String("default-product-id", "00301-000000-0--0", "product id of orders registered without one and of the mock orders")
	changeSKU := fs.String("mock-change-sku", "", "SKU of the mock upgrade order MOCKMONTYCHANGE (default: --default-sku)")
	mockLinear := fs.Int("mock-linear-value", simulator.DefaultMockLinearValue, "linearValue (quantity) of MOCKMONTYCHANGE and MOCKPERIODYEARNEWLINEAR")
	usageKey := fs.String("usage-key", "", "access key usage pushes are signed with (default: $TENANTRY_ACCESS_KEY)")
	usageGateway := fs.Bool("usage-require-gateway", false, "refuse usage pushes that are not also API-Gateway signed with the AK/SK")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if *mockLinear < 1 {
		return usageError{fmt.Sprintf("--mock-linear-value %d is not positive", *mockLinear)}
	}
	akValue, err := secret(*akFile, *ak)
	if err != nil {
		return fmt.Errorf("reading AK: %w", err)
	}
	skValue, err := secret(*skFile, *sk)
	if err != nil {
		return fmt.Errorf("reading SK: %w", err)
	}
	if akValue == "" || skValue == "" {
		return usageError{"an AK and an SK are required (--ak/--sk or --ak-file/--sk-file)"}
	}
	orders := simulator.NewOrderServer(simulator.OrderServerConfig{AK: akValue, SK: skValue, DefaultSKU: *sku, DefaultProductID: *product,
		MockChangeSKU: *changeSKU, MockLinearValue: *mockLinear, UsageKey: or(*usageKey, e.getenv("TENANTRY_ACCESS_KEY")), UsageRequiresGateway: *usageGateway})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %q: %w", *listen, err)
	}
	srv := &http.Server{Handler: orders, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	fmt.Fprintf(e.stdout, "serving Order Query and the usage push on http://%s (admin: %s, %s, %s)\n", ln.Addr(), simulator.AdminOrdersPath, simulator.AdminFaultsPath, simulator.AdminUsagePath)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// orderFlags describe an order to register.
type orderFlags struct {
	ordersURL, sku, productID, orderType, charging, periodType, expire, customerID, customerName, orderID string
	periodNumber, linear, lines                                                                           int
}

func addOrderFlags(fs *flag.FlagSet, e *env, defaultType string) *orderFlags {
	o := &orderFlags{}
	fs.StringVar(&o.ordersURL, "orders-url", or(e.getenv("TENANTRY_ORDERS_URL"), ""), "base URL of a running serve-orders; $TENANTRY_ORDERS_URL")
	fs.StringVar(&o.sku, "sku", "", "SKU code (default: the server's default SKU)")
	fs.StringVar(&o.productID, "product-id", "", "product id (default: the server's)")
	fs.StringVar(&o.orderType, "type", defaultType, "order type: NEW, TRIAL, TRIAL_TO_FORMAL, UNSUBSCRIBE, RENEW, CHANGE")
	fs.StringVar(&o.charging, "charging-mode", "", "PERIOD (default), ON_DEMAND, ONE_TIME, ON_DEMAND_PKG")
	fs.StringVar(&o.periodType, "period-type", "", "year, month (default), day, hour")
	fs.IntVar(&o.periodNumber, "period-number", 0, "number of periods (default 1)")
	fs.StringVar(&o.expire, "expire", "", "expiry: yyyyMMddHHmmss (UTC), RFC 3339, or +duration from now (default: now + period)")
	fs.IntVar(&o.linear, "linear", 0, "linear value (quantity) of the SKU")
	fs.StringVar(&o.customerID, "customer-id", "", "buyer customer id (default random)")
	fs.StringVar(&o.customerName, "customer-name", "", "buyer name")
	fs.StringVar(&o.orderID, "new-order-id", "", "force the new order's id (default: a marketplace-looking one)")
	fs.IntVar(&o.lines, "lines", 1, "number of order lines, all of the same product and SKU (a pay-per-use order may hold several)")
	return o
}

func (o *orderFlags) register(ctx context.Context) (simulator.RegisteredOrder, error) {
	if err := required("orders-url", o.ordersURL); err != nil {
		return simulator.RegisteredOrder{}, err
	}
	spec := simulator.OrderSpec{
		OrderID: o.orderID, SKU: o.sku, ProductID: o.productID, OrderType: strings.ToUpper(o.orderType),
		ChargingMode: o.charging, PeriodType: o.periodType, PeriodNumber: o.periodNumber, LinearValue: o.linear,
		CustomerID: o.customerID, CustomerName: o.customerName,
	}
	if o.lines < 1 || o.lines > 100 {
		return simulator.RegisteredOrder{}, usageError{fmt.Sprintf("--lines %d is not between 1 and 100", o.lines)}
	}
	if o.linear < 0 {
		return simulator.RegisteredOrder{}, usageError{fmt.Sprintf("--linear %d is negative", o.linear)}
	}
	if o.lines > 1 {
		for range o.lines {
			spec.Lines = append(spec.Lines, simulator.LineSpec{SKU: o.sku, ProductID: o.productID, LinearValue: o.linear})
		}
	}
	if o.expire != "" {
		t, err := parseExpire(o.expire, time.Now())
		if err != nil {
			return simulator.RegisteredOrder{}, usageError{err.Error()}
		}
		spec.ExpireTime = t
	}
	admin := &simulator.OrdersAdmin{URL: o.ordersURL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	return admin.RegisterOrder(ctx, spec)
}

func registerOrder(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	o := addOrderFlags(fs, e, simulator.OrderTypeNew)
	asJSON := fs.Bool("json", false, "print the whole order as JSON")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	reg, err := o.register(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(reg)
		fmt.Fprintln(e.stdout, string(b))
		return nil
	}
	for _, line := range reg.OrderLineIDs {
		fmt.Fprintf(e.stdout, "%s %s\n", reg.OrderID, line)
	}
	return nil
}

func setFaults(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	ordersURL := fs.String("orders-url", or(e.getenv("TENANTRY_ORDERS_URL"), defaultOrds), "base URL of a running serve-orders; $TENANTRY_ORDERS_URL")
	latency := fs.Duration("latency", 0, "delay every Order Query answer")
	code := fs.String("code", "", "answer Order Query with this result code, e.g. MKT.0250")
	status := fs.Int("http-status", 0, "HTTP status of the failure (alone: a bare HTTP error)")
	times := fs.Int("times", 0, "fail only this many requests (0: until cleared)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	f := simulator.Faults{Failure: simulator.Failure{Code: *code, HTTPStatus: *status, Times: *times}}
	if *latency > 0 {
		f.Latency = latency.String()
	}
	admin := &simulator.OrdersAdmin{URL: *ordersURL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	got, err := admin.SetFaults(ctx, f)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(got)
	fmt.Fprintln(e.stdout, string(b))
	return nil
}

func buy(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	orderID := fs.String("order-id", "", "order to buy (else one is registered on --orders-url)")
	lineID := fs.String("order-line-id", "", "order line (default <order-id>-000001)")
	o := addOrderFlags(fs, e, simulator.OrderTypeNew)
	if err := parse(fs, args, false); err != nil {
		return err
	}
	c, err := b.client(e)
	if err != nil {
		return err
	}
	id, line, err := orderIDs(ctx, e, *orderID, *lineID, o)
	if err != nil {
		return err
	}
	ctx, cancel := callCtx(ctx, b)
	defer cancel()
	a, err := c.Buy(ctx, id, line, b.test)
	return b.report(e, "buy", a, err)
}

// orderIDs returns the given order, or registers one when none is given.
func orderIDs(ctx context.Context, e *env, orderID, lineID string, o *orderFlags) (string, string, error) {
	if orderID == "" {
		if o.ordersURL == "" {
			return "", "", usageError{"--order-id or --orders-url is required"}
		}
		reg, err := o.register(ctx)
		if err != nil {
			return "", "", err
		}
		fmt.Fprintf(e.stderr, "registered order %s %s\n", reg.OrderID, reg.OrderLineID)
		return reg.OrderID, reg.OrderLineID, nil
	}
	if lineID == "" {
		lineID = orderID + "-000001"
	}
	return orderID, lineID, nil
}

func query(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	ids := fs.String("instance-id", "", "instance ids, comma-separated")
	if err := parse(fs, args, true); err != nil {
		return err
	}
	var all []string
	if *ids != "" {
		all = strings.Split(*ids, ",")
	}
	all = append(all, fs.Args()...)
	if len(all) == 0 {
		return usageError{"--instance-id or instance id arguments are required"}
	}
	return b.send(ctx, e, "query", func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
		return c.Query(ctx, all...)
	})
}

func renew(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	instanceID := fs.String("instance-id", "", "instance to renew")
	orderID := fs.String("order-id", "", "renewal order")
	lineID := fs.String("order-line-id", "", "renewal order line (default <order-id>-000001)")
	scene := fs.String("scene", simulator.SceneRenewal, "TRIAL_TO_FORMAL, RENEWAL, UNSUBSCRIBE_RENEWAL_PERIOD or RENEWAL_CHANGE")
	expire := fs.String("expire", "", "new expiry: yyyyMMddHHmmss (UTC), RFC 3339, or +duration from now")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := requiredAll("instance-id", *instanceID, "order-id", *orderID, "expire", *expire); err != nil {
		return err
	}
	t, err := parseExpire(*expire, time.Now())
	if err != nil {
		return usageError{err.Error()}
	}
	if *lineID == "" {
		*lineID = *orderID + "-000001"
	}
	return b.send(ctx, e, "renew", func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
		return c.Renew(ctx, *instanceID, *orderID, *lineID, *scene, t)
	})
}

// instanceCommand builds freeze, unfreeze and release, which take only an instance.
func instanceCommand(step string, call func(*simulator.Client, context.Context, string) (*simulator.Answer, error)) func(context.Context, *env, *flag.FlagSet, []string) error {
	return func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
		b := addBridgeFlags(fs, e)
		instanceID := fs.String("instance-id", "", "instance id")
		if err := parse(fs, args, false); err != nil {
			return err
		}
		if err := required("instance-id", *instanceID); err != nil {
			return err
		}
		return b.send(ctx, e, step, func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
			return call(c, ctx, *instanceID)
		})
	}
}

var (
	freeze   = instanceCommand("freeze", (*simulator.Client).Freeze)
	unfreeze = instanceCommand("unfreeze", (*simulator.Client).Unfreeze)
	release  = instanceCommand("release", (*simulator.Client).Release)
)

func upgrade(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	instanceID := fs.String("instance-id", "", "instance to upgrade")
	orderID := fs.String("order-id", "", "upgrade order (else a CHANGE order is registered on --orders-url)")
	lineID := fs.String("order-line-id", "", "upgrade order line (default <order-id>-000001)")
	o := addOrderFlags(fs, e, simulator.OrderTypeChange)
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := required("instance-id", *instanceID); err != nil {
		return err
	}
	c, err := b.client(e)
	if err != nil {
		return err
	}
	id, line, err := orderIDs(ctx, e, *orderID, *lineID, o)
	if err != nil {
		return err
	}
	ctx, cancel := callCtx(ctx, b)
	defer cancel()
	a, err := c.Upgrade(ctx, *instanceID, id, line)
	return b.report(e, "upgrade", a, err)
}

func changeCheck(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	instanceID := fs.String("instance-id", "", "instance to check")
	productID := fs.String("product-id", "", "target product id")
	sku := fs.String("sku", "", "target SKU code")
	linear := fs.Int("linear", 0, "target linear value (omitted when 0)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := requiredAll("instance-id", *instanceID, "sku", *sku); err != nil {
		return err
	}
	return b.send(ctx, e, "change-check", func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
		return c.ChangeCheck(ctx, *instanceID, *productID, *sku, *linear)
	})
}

// kitFlags are the identifiers most kit calls share.
type kitFlags struct {
	instanceID, tenantID, appID string
	flag                        int
}

func addKitFlags(fs *flag.FlagSet, withApp bool) *kitFlags {
	k := &kitFlags{}
	fs.StringVar(&k.instanceID, "instance-id", "", "instance id (empty when testing credentials)")
	fs.StringVar(&k.tenantID, "tenant-id", "", "tenant id")
	if withApp {
		fs.StringVar(&k.appID, "app-id", "", "application id")
	}
	fs.IntVar(&k.flag, "flag", simulator.FlagAdd, "0 delete, 1 add, 2 modify")
	return k
}

func tenantSync(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	k := addKitFlags(fs, false)
	orderID := fs.String("order-id", "", "order id")
	code := fs.String("tenant-code", "", "tenant code")
	name := fs.String("name", "", "tenant name")
	domain := fs.String("domain-name", "", "tenant login domain")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	return b.send(ctx, e, "tenant-sync", func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
		return c.TenantSync(ctx, simulator.TenantSync{InstanceID: k.instanceID, OrderID: *orderID, TenantID: k.tenantID, TenantCode: *code, Name: *name, DomainName: *domain, Flag: k.flag})
	})
}

func appSync(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	k := addKitFlags(fs, true)
	clientID := fs.String("client-id", "", "OAuth client id")
	secretFile := fs.String("client-secret-file", "", "file holding the OAuth client secret (default $TENANTRY_CLIENT_SECRET)")
	fs.StringVar(&b.publicKeyFile, "public-key-file", "", "merchant RSA public key (PEM) encrypting the client secret")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := required("public-key-file", b.publicKeyFile); err != nil {
		return err
	}
	clientSecret, err := secret(*secretFile, e.getenv("TENANTRY_CLIENT_SECRET"))
	if err != nil {
		return fmt.Errorf("reading client secret: %w", err)
	}
	return b.send(ctx, e, "app-sync", func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
		return c.ApplicationSync(ctx, simulator.ApplicationSync{InstanceID: k.instanceID, TenantID: k.tenantID, AppID: k.appID, ClientID: *clientID, ClientSecret: clientSecret, Flag: k.flag})
	})
}

func authSync(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	k := addKitFlags(fs, true)
	usersFile := fs.String("users-file", "", "JSON array of users ({userName, name, orgCode, role, enable, mobile, email, ...})")
	var u simulator.KitUser
	fs.StringVar(&u.UserName, "user-name", "", "single user: login name")
	fs.StringVar(&u.Name, "name", "", "single user: display name")
	fs.StringVar(&u.OrgCode, "org-code", "", "single user: department code")
	fs.StringVar(&u.Role, "role", "user", "single user: user or admin")
	fs.StringVar(&u.Enable, "enable", "true", "single user: true or false")
	fs.StringVar(&u.Email, "email", "", "single user: e-mail")
	fs.StringVar(&u.Mobile, "mobile", "", "single user: mobile number")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	var users []simulator.KitUser
	switch {
	case *usersFile != "":
		if err := readJSON(*usersFile, &users); err != nil {
			return err
		}
	case u.UserName != "":
		users = []simulator.KitUser{u}
	default:
		return usageError{"--users-file or --user-name is required"}
	}
	return b.send(ctx, e, "auth-sync", func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
		return c.AuthSync(ctx, simulator.AuthSync{InstanceID: k.instanceID, TenantID: k.tenantID, AppID: k.appID, Users: users, Flag: k.flag})
	})
}

func orgSync(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	k := addKitFlags(fs, false)
	code := fs.String("org-code", "", "department code")
	name := fs.String("org-name", "", "department name")
	parent := fs.String("parent-code", "", "parent department code")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := required("org-code", *code); err != nil {
		return err
	}
	return b.send(ctx, e, "org-sync", func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
		return c.SingleOrgSync(ctx, simulator.SingleOrgSync{InstanceID: k.instanceID, TenantID: k.tenantID, OrgCode: *code, OrgName: *name, ParentCode: *parent, Flag: k.flag})
	})
}

func allOrgSync(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	instanceID := fs.String("instance-id", "", "instance id")
	tenantID := fs.String("tenant-id", "", "tenant id")
	orgsFile := fs.String("orgs-file", "", "JSON array of {orgCode, orgName, parentCode}")
	asString := fs.Bool("as-string", false, "send orgInfoList as a JSON-encoded string")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := required("orgs-file", *orgsFile); err != nil {
		return err
	}
	var orgs []simulator.Org
	if err := readJSON(*orgsFile, &orgs); err != nil {
		return err
	}
	return b.send(ctx, e, "all-org-sync", func(ctx context.Context, c *simulator.Client) (*simulator.Answer, error) {
		return c.AllOrgSync(ctx, simulator.AllOrgSync{InstanceID: *instanceID, TenantID: *tenantID, Orgs: orgs, OrgListAsString: *asString})
	})
}

const lifecycleUsage = `Runs a purchase-to-release scenario against the bridge, registering its orders on --orders-url.
Prints what each call sends (-> ) and what came back, and fails on the first answer that is not
000000. With --kubeconfig it also checks after each step what the TenantInstance says.

Scenarios (--scenario):
  basic            buy, query, freeze, unfreeze, renew, upgrade to --upgrade-sku, release
  trial-to-formal  a trial purchase; TRIAL_TO_FORMAL; changeInstanceCheck then a renewal with a
                   change (RENEWAL_CHANGE) to --upgrade-sku and --quantity, recorded as
                   spec.pendingChange; that renewal refunded (UNSUBSCRIBE_RENEWAL_PERIOD); release
  scale-out        --sku bought with linearValue --quantity, then an upgrade order of the same
                   SKU with linearValue --scale-quantity (spec.quantity follows); release
  resend-older     renewals R1, R2, then R1 resent; upgrades U1 (--upgrade-sku, --quantity),
                   U2 (--scale-quantity), then U1 resent — each resend with a fresh timestamp
                   and nonce; the older orders must change nothing; release`

func lifecycle(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	b := addBridgeFlags(fs, e)
	ordersURL := fs.String("orders-url", or(e.getenv("TENANTRY_ORDERS_URL"), defaultOrds), "base URL of a running serve-orders; $TENANTRY_ORDERS_URL")
	scenario := fs.String("scenario", simulator.ScenarioBasic, "scenario to run: "+strings.Join(simulator.Scenarios(), ", "))
	sku := fs.String("sku", "", "SKU bought first")
	upgradeSKU := fs.String("upgrade-sku", "", "SKU upgraded or changed to")
	productID := fs.String("product-id", "", "product id (default: the server's)")
	attempts := fs.Int("max-attempts", 30, "newInstance/upgradeInstance resends while the bridge answers 000004")
	quantity := fs.Int("quantity", simulator.DefaultQuantity, "linearValue bought (scale-out, resend-older) or changed to at renewal (trial-to-formal)")
	scaleQuantity := fs.Int("scale-quantity", simulator.DefaultScaleQuantity, "linearValue scaled to (scale-out, resend-older)")
	keep := fs.Bool("keep", false, "leave the instance in place instead of releasing it at the end")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the bridge's cluster: check the TenantInstance after each step")
	verifyTimeout := fs.Duration("verify-timeout", 30*time.Second, "how long a TenantInstance may take to show what a step changed")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	if err := requiredAll("sku", *sku, "upgrade-sku", *upgradeSKU); err != nil {
		return err
	}
	if !slices.Contains(simulator.Scenarios(), *scenario) {
		return usageError{fmt.Sprintf("unknown scenario %q (known: %s)", *scenario, strings.Join(simulator.Scenarios(), ", "))}
	}
	if *quantity < 1 || *scaleQuantity < 1 {
		return usageError{"--quantity and --scale-quantity must be positive"}
	}
	c, err := b.client(e)
	if err != nil {
		return err
	}
	cfg := simulator.LifecycleConfig{
		Client:        c,
		Orders:        &simulator.OrdersAdmin{URL: *ordersURL, HTTP: &http.Client{Timeout: 10 * time.Second}},
		SKU:           *sku,
		UpgradeSKU:    *upgradeSKU,
		ProductID:     *productID,
		Test:          b.test,
		MaxAttempts:   *attempts,
		Quantity:      *quantity,
		ScaleQuantity: *scaleQuantity,
		Keep:          *keep,
		Report:        func(step string, a *simulator.Answer) { printAnswer(e.stdout, b.json, step, a) },
	}
	if !b.json {
		cfg.Sent = func(step, call string) { fmt.Fprintf(e.stdout, "-> %s: %s\n", step, call) }
	}
	if *kubeconfig != "" {
		checker, err := newInstanceChecker(*kubeconfig, *verifyTimeout)
		if err != nil {
			return err
		}
		cfg.Verify = func(ctx context.Context, step string, want simulator.Expectation) error {
			if err := checker.verify(ctx, step, want); err != nil {
				return err
			}
			if !b.json {
				fmt.Fprintf(e.stdout, "   %s: TenantInstance %s checked\n", step, want.InstanceID)
			}
			return nil
		}
	}
	res, err := simulator.RunScenario(ctx, *scenario, cfg)
	var se *simulator.StepError
	if errors.As(err, &se) {
		fmt.Fprintf(e.stderr, "%s: bridge answered %s %q\n", se.Step, se.Answer.ResultCode, se.Answer.ResultMsg)
		return errNotSuccess
	}
	if err != nil {
		return err
	}
	if !b.json {
		fmt.Fprintf(e.stdout, "lifecycle of instance %s completed (scenario %s)\n", res.InstanceID, *scenario)
	}
	return nil
}

func readJSON(file string, v any) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading %q: %w", file, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decoding %q: %w", file, err)
	}
	return nil
}

// parseExpire accepts the marketplace's yyyyMMddHHmmss (UTC), RFC 3339, or
// "+<duration>" relative to now.
func parseExpire(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil {
			return time.Time{}, fmt.Errorf("expiry %q: %w", s, err)
		}
		return now.Add(dur).UTC(), nil
	}
	if t, err := time.ParseInLocation("20060102150405", s, time.UTC); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("expiry %q is neither yyyyMMddHHmmss, RFC 3339 nor +duration", s)
	}
	return t.UTC(), nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func usageCommand(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	ordersURL := fs.String("orders-url", or(e.getenv("TENANTRY_ORDERS_URL"), defaultOrds), "base URL of a running serve-orders; $TENANTRY_ORDERS_URL")
	asJSON := fs.Bool("json", false, "print the whole ledger as JSON")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	admin := &simulator.OrdersAdmin{URL: *ordersURL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	ledger, err := admin.Usage(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(ledger)
		fmt.Fprintln(e.stdout, string(b))
		return nil
	}
	for _, line := range ledger.BilledLines() {
		fmt.Fprintln(e.stdout, line)
	}
	fmt.Fprintf(e.stdout, "%d records in %d pushes; %d resent records dropped; %d pushes refused\n",
		len(ledger.Records), ledger.Pushes, ledger.Duplicates, ledger.Refused)
	return nil
}

func setUsageFaults(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
	ordersURL := fs.String("orders-url", or(e.getenv("TENANTRY_ORDERS_URL"), defaultOrds), "base URL of a running serve-orders; $TENANTRY_ORDERS_URL")
	code := fs.String("code", "", "answer usage pushes with this result code, e.g. MKT.9002")
	status := fs.Int("http-status", 0, "HTTP status of the failure (alone: a bare HTTP error, e.g. 503 for an outage)")
	times := fs.Int("times", 0, "fail only this many pushes (0: until cleared)")
	if err := parse(fs, args, false); err != nil {
		return err
	}
	admin := &simulator.OrdersAdmin{URL: *ordersURL, HTTP: &http.Client{Timeout: 10 * time.Second}}
	got, err := admin.SetUsageFaults(ctx, simulator.Failure{Code: *code, HTTPStatus: *status, Times: *times})
	if err != nil {
		return err
	}
	b, _ := json.Marshal(got)
	fmt.Fprintln(e.stdout, string(b))
	return nil
}
