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
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // MGF1-SHA1 for applicationSync's OAEP
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"
)

// Kit sync flags (docs/protocol.md §5, 联营 kit bodies).
const (
	FlagDelete = 0
	FlagAdd    = 1
	FlagModify = 2
	// FlagCancel is authSync's "cancel authorisation".
	FlagCancel = 3
)

// TenantSync is the body of a tenantSync call: the buyer enterprise bound
// to an instance.
type TenantSync struct {
	InstanceID string `json:"instanceId"`
	OrderID    string `json:"orderId"`
	TenantID   string `json:"tenantId"`
	TenantCode string `json:"tenantCode"`
	Name       string `json:"name"`
	DomainName string `json:"domainName"`
	Flag       int    `json:"flag"`
}

// ApplicationSync is the body of an applicationSync call. ClientSecret is
// given in clear; the Client encrypts it with the merchant's public key.
type ApplicationSync struct {
	InstanceID   string `json:"instanceId"`
	TenantID     string `json:"tenantId"`
	AppID        string `json:"appId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	Flag         int    `json:"flag"`
}

// AuthSync is the body of an authSync call: users authorised to an app.
type AuthSync struct {
	InstanceID string    `json:"instanceId"`
	TenantID   string    `json:"tenantId"`
	AppID      string    `json:"appId"`
	Users      []KitUser `json:"userList"`
	// CurrentSyncTime defaults to the call's timeStamp.
	CurrentSyncTime string `json:"currentSyncTime"`
	Flag            int    `json:"flag"`
}

// KitUser is one entry of authSync's userList.
type KitUser struct {
	UserName string `json:"userName"`
	Name     string `json:"name"`
	OrgCode  string `json:"orgCode"`
	// Role is "user" or "admin".
	Role string `json:"role"`
	// Enable is "true" or "false" (a string on the wire).
	Enable       string `json:"enable"`
	Mobile       string `json:"mobile,omitempty"`
	Email        string `json:"email,omitempty"`
	Position     string `json:"position,omitempty"`
	EmployeeCode string `json:"employeeCode,omitempty"`
	EmployeeType string `json:"employeeType,omitempty"`
}

// SingleOrgSync is the body of a singleOrgSync call: one department changed.
type SingleOrgSync struct {
	InstanceID string `json:"instanceId"`
	TenantID   string `json:"tenantId"`
	OrgCode    string `json:"orgCode"`
	OrgName    string `json:"orgName"`
	ParentCode string `json:"parentCode"`
	Flag       int    `json:"flag"`
}

// AllOrgSync is the body of an allOrgSync call: the full department list.
type AllOrgSync struct {
	InstanceID string `json:"instanceId"`
	TenantID   string `json:"tenantId"`
	Orgs       []Org  `json:"orgInfoList"`
	// OrgListAsString sends orgInfoList as a JSON-encoded string, a form the
	// marketplace is known to use.
	OrgListAsString bool `json:"-"`
}

// Org is one department.
type Org struct {
	OrgCode    string `json:"orgCode"`
	OrgName    string `json:"orgName"`
	ParentCode string `json:"parentCode"`
}

// TenantSync sends a tenantSync kit call.
func (c *Client) TenantSync(ctx context.Context, b TenantSync) (*Answer, error) {
	return c.kitBody(ctx, "tenantSync", b)
}

// ApplicationSync sends an applicationSync kit call, encrypting ClientSecret
// with RSA-OAEP (SHA-256, MGF1-SHA1, as Java's default OAEP provider does)
// under Options.MerchantPublicKey.
func (c *Client) ApplicationSync(ctx context.Context, b ApplicationSync) (*Answer, error) {
	if c.o.MerchantPublicKey == nil {
		return nil, errors.New("applicationSync needs the merchant's public key")
	}
	secret, err := encryptClientSecret(c.o.MerchantPublicKey, b.ClientSecret)
	if err != nil {
		return nil, err
	}
	b.ClientSecret = secret
	return c.kitBody(ctx, "applicationSync", b)
}

// AuthSync sends an authSync kit call.
func (c *Client) AuthSync(ctx context.Context, b AuthSync) (*Answer, error) {
	if b.CurrentSyncTime == "" {
		b.CurrentSyncTime = kitTime(c.o.Now())
	}
	if b.Users == nil {
		b.Users = []KitUser{}
	}
	return c.kitBody(ctx, "authSync", b)
}

// SingleOrgSync sends a singleOrgSync kit call.
func (c *Client) SingleOrgSync(ctx context.Context, b SingleOrgSync) (*Answer, error) {
	return c.kitBody(ctx, "singleOrgSync", b)
}

// AllOrgSync sends an allOrgSync kit call.
func (c *Client) AllOrgSync(ctx context.Context, b AllOrgSync) (*Answer, error) {
	orgs := b.Orgs
	if orgs == nil {
		orgs = []Org{}
	}
	var list any = orgs
	if b.OrgListAsString {
		s, err := json.Marshal(orgs)
		if err != nil {
			return nil, fmt.Errorf("encoding orgInfoList: %w", err)
		}
		list = string(s)
	}
	body := struct {
		InstanceID  string `json:"instanceId"`
		TenantID    string `json:"tenantId"`
		OrgInfoList any    `json:"orgInfoList"`
	}{b.InstanceID, b.TenantID, list}
	return c.kitBody(ctx, "allOrgSync", body)
}

// KitCall signs an arbitrary body as the kit call name (tenantSync, ...) and
// posts it, for tests the typed methods cannot express.
func (c *Client) KitCall(ctx context.Context, name string, body []byte) (*Answer, error) {
	return c.kit(ctx, name, body)
}

// kitBody encodes v and appends the common testFlag (an integer) and
// timeStamp (yyyyMMddHHmmssSSS, UTC+8) members.
func (c *Client) kitBody(ctx context.Context, name string, v any) (*Answer, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding %s body: %w", name, err)
	}
	body := bytes.TrimRight(buf.Bytes(), "\n")
	testFlag := 0
	if c.o.Test {
		testFlag = 1
	}
	extra, err := object(field{"testFlag", testFlag}, field{"timeStamp", kitTime(c.o.Now())})
	if err != nil {
		return nil, err
	}
	// Splice: {"a":1} + {"testFlag":0,...} → {"a":1,"testFlag":0,...}
	joined := append(append(append([]byte{}, body[:len(body)-1]...), ','), extra[1:]...)
	return c.kit(ctx, name, joined)
}

func kitTime(t time.Time) string {
	return formatMillis(t.In(time.FixedZone("UTC+8", kitTimestampZoneOffset)))
}

func encryptClientSecret(pub *rsa.PublicKey, secret string) (string, error) {
	ct, err := rsa.EncryptOAEPWithOptions(rand.Reader, pub, []byte(secret), &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1})
	if err != nil {
		return "", fmt.Errorf("encrypting client secret: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// ParsePublicKeyPEM reads the merchant's RSA public key from PEM: a PKIX
// "PUBLIC KEY", a PKCS#1 "RSA PUBLIC KEY" or a "CERTIFICATE".
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %q block: %w", block.Type, err)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("key in %q block is not RSA", block.Type)
	}
	return pub, nil
}
