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

package protocol

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustTime(t *testing.T, parse func(string) (time.Time, error), s string) time.Time {
	t.Helper()
	tm, err := parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func idList(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%d", i)
	}
	return strings.Join(ids, ",")
}

func TestDecodeBasic(t *testing.T) {
	expire := mustTime(t, ParseExpireTime, "20991231235959")
	expireMs := mustTime(t, ParseExpireTime, "20991231235959123")
	tests := []struct {
		name    string
		body    string
		want    Request
		wantErr errInfo
	}{
		{
			name: "vector 1 newInstance",
			body: vec1Body,
			want: Request{Version: 2, Activity: ActivityNewInstance, SourceActivity: ActivityNewInstance, TestFlag: true,
				NewInstance: &NewInstance{OrderID: "CS2211181819B4LVS", OrderLineID: "CS2211181819B4LVS-000001", BusinessID: "87b94795-0603-4e24-8ae5-69420d60e3c8"}},
		},
		{
			name: "queryInstance trimmed and de-duplicated",
			body: `{"activity":"queryInstance","instanceId":" a , b,a ,c","testFlag":"0"}`,
			want: Request{Version: 2, Activity: ActivityQueryInstance, SourceActivity: ActivityQueryInstance,
				QueryInstance: &QueryInstance{InstanceIDs: []string{"a", "b", "c"}}},
		},
		{
			name: "queryInstance 100 ids",
			body: `{"activity":"queryInstance","instanceId":"` + idList(100) + `"}`,
			want: Request{Version: 2, Activity: ActivityQueryInstance, SourceActivity: ActivityQueryInstance,
				QueryInstance: &QueryInstance{InstanceIDs: strings.Split(idList(100), ",")}},
		},
		{
			name: "refreshInstance 14 digits",
			body: `{"activity":"refreshInstance","instanceId":"i1","orderId":"o2","orderLineId":"o2-1","scene":"RENEWAL","productId":"p","expireTime":"20991231235959"}`,
			want: Request{Version: 2, Activity: ActivityRefreshInstance, SourceActivity: ActivityRefreshInstance,
				RefreshInstance: &RefreshInstance{InstanceID: "i1", OrderID: "o2", OrderLineID: "o2-1", Scene: SceneRenewal, ProductID: "p", ExpireTime: expire}},
		},
		{
			name: "refreshInstance 17 digits, no productId",
			body: `{"activity":"refreshInstance","instanceId":"i1","orderId":"o2","orderLineId":"o2-1","scene":"TRIAL_TO_FORMAL","expireTime":"20991231235959123","productId":null}`,
			want: Request{Version: 2, Activity: ActivityRefreshInstance, SourceActivity: ActivityRefreshInstance,
				RefreshInstance: &RefreshInstance{InstanceID: "i1", OrderID: "o2", OrderLineID: "o2-1", Scene: SceneTrialToFormal, ExpireTime: expireMs}},
		},
		{
			name: "updateInstanceStatus",
			body: `{"activity":"updateInstanceStatus","instanceId":"i1","status":"UNFREEZE"}`,
			want: Request{Version: 2, Activity: ActivityUpdateInstanceStatus, SourceActivity: ActivityUpdateInstanceStatus,
				UpdateInstanceStatus: &UpdateInstanceStatus{InstanceID: "i1", Status: StatusUnfreeze}},
		},
		{
			name: "upgradeInstance",
			body: `{"activity":"upgradeInstance","instanceId":"i1","orderId":"o3","orderLineId":"o3-1"}`,
			want: Request{Version: 2, Activity: ActivityUpgradeInstance, SourceActivity: ActivityUpgradeInstance,
				UpgradeInstance: &UpgradeInstance{InstanceID: "i1", OrderID: "o3", OrderLineID: "o3-1"}},
		},
		{
			name: "changeInstanceCheck object",
			body: `{"activity":"changeInstanceCheck","instanceId":"i1","productInfo":{"productId":"p","skuCode":"s","linearValue":"10"}}`,
			want: Request{Version: 2, Activity: ActivityChangeInstanceCheck, SourceActivity: ActivityChangeInstanceCheck,
				ChangeInstanceCheck: &ChangeInstanceCheck{InstanceID: "i1", ProductInfo: ProductInfo{ProductID: "p", SkuCode: "s", LinearValue: "10"}}},
		},
		{
			name: "changeInstanceCheck one-element array, numeric linearValue",
			body: `{"activity":"changeInstanceCheck","instanceId":"i1","productInfo":[{"productId":"p","skuCode":"s","linearValue":2.5}]}`,
			want: Request{Version: 2, Activity: ActivityChangeInstanceCheck, SourceActivity: ActivityChangeInstanceCheck,
				ChangeInstanceCheck: &ChangeInstanceCheck{InstanceID: "i1", ProductInfo: ProductInfo{ProductID: "p", SkuCode: "s", LinearValue: "2.5"}}},
		},
		{
			name: "releaseInstance, unknown fields ignored",
			body: `{"activity":"releaseInstance","instanceId":"i1","somethingNew":{"x":[1]}}`,
			want: Request{Version: 2, Activity: ActivityReleaseInstance, SourceActivity: ActivityReleaseInstance,
				ReleaseInstance: &ReleaseInstance{InstanceID: "i1"}},
		},
		{name: "malformed JSON", body: `{"activity":`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "not an object", body: `["newInstance"]`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "duplicate key", body: `{"activity":"releaseInstance","instanceId":"a","instanceId":"b"}`, wantErr: errInfo{CodeInvalidParam, ReasonDuplicateKey, "instanceId"}},
		{name: "missing activity", body: `{"instanceId":"i1"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "activity"}},
		{name: "unknown activity", body: `{"activity":"expireInstance","instanceId":"i1"}`, wantErr: errInfo{CodeInvalidParam, ReasonUnknownActivity, "activity"}},
		{name: "activity not a string", body: `{"activity":1}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "activity"}},
		{name: "testFlag number", body: `{"activity":"releaseInstance","instanceId":"i1","testFlag":1}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "testFlag"}},
		{name: "testFlag other value", body: `{"activity":"releaseInstance","instanceId":"i1","testFlag":"true"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "testFlag"}},
		{name: "orderId number", body: `{"activity":"newInstance","orderId":123,"orderLineId":"l","businessId":"b"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{name: "orderLineId missing", body: `{"activity":"newInstance","orderId":"o","businessId":"b"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "orderLineId"}},
		{name: "businessId empty", body: `{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":""}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "businessId"}},
		{name: "businessId null", body: `{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":null}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "businessId"}},
		{name: "id with control character", body: `{"activity":"newInstance","orderId":"o\u0000","orderLineId":"l","businessId":"b"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{name: "id with space", body: `{"activity":"newInstance","orderId":"o 1","orderLineId":"l","businessId":"b"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{name: "id too long", body: `{"activity":"newInstance","orderId":"` + strings.Repeat("o", 257) + `","orderLineId":"l","businessId":"b"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "orderId"}},
		{name: "instanceId too long", body: `{"activity":"releaseInstance","instanceId":"` + strings.Repeat("i", 65) + `"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "instanceId"}},
		{name: "instanceId 64 ok but queryInstance 101 ids", body: `{"activity":"queryInstance","instanceId":"` + idList(101) + `"}`, wantErr: errInfo{CodeInvalidParam, ReasonTooManyIDs, "instanceId"}},
		{name: "queryInstance empty element", body: `{"activity":"queryInstance","instanceId":"a,,b"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "instanceId"}},
		{name: "queryInstance only commas", body: `{"activity":"queryInstance","instanceId":" , "}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "instanceId"}},
		{name: "queryInstance missing", body: `{"activity":"queryInstance","instanceId":"  "}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "instanceId"}},
		{name: "queryInstance array", body: `{"activity":"queryInstance","instanceId":["a"]}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "instanceId"}},
		{name: "refresh bad scene", body: `{"activity":"refreshInstance","instanceId":"i1","orderId":"o2","orderLineId":"o2-1","scene":"renewal","expireTime":"20991231235959"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "scene"}},
		{name: "refresh bad expireTime", body: `{"activity":"refreshInstance","instanceId":"i1","orderId":"o2","orderLineId":"o2-1","scene":"RENEWAL","expireTime":"20990230000000"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "expireTime"}},
		{name: "refresh missing expireTime", body: `{"activity":"refreshInstance","instanceId":"i1","orderId":"o2","orderLineId":"o2-1","scene":"RENEWAL"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "expireTime"}},
		{name: "status bad", body: `{"activity":"updateInstanceStatus","instanceId":"i1","status":"NORMAL"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "status"}},
		{name: "productInfo missing", body: `{"activity":"changeInstanceCheck","instanceId":"i1"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "productInfo"}},
		{name: "productInfo string", body: `{"activity":"changeInstanceCheck","instanceId":"i1","productInfo":"p"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "productInfo"}},
		{name: "productInfo two elements", body: `{"activity":"changeInstanceCheck","instanceId":"i1","productInfo":[{},{}]}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "productInfo"}},
		{name: "productInfo skuCode missing", body: `{"activity":"changeInstanceCheck","instanceId":"i1","productInfo":{"productId":"p"}}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "productInfo.skuCode"}},
		{name: "productInfo bad linearValue", body: `{"activity":"changeInstanceCheck","instanceId":"i1","productInfo":{"productId":"p","skuCode":"s","linearValue":"-1"}}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "productInfo.linearValue"}},
		{name: "productInfo linearValue boolean", body: `{"activity":"changeInstanceCheck","instanceId":"i1","productInfo":{"productId":"p","skuCode":"s","linearValue":true}}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "productInfo.linearValue"}},
		{name: "release missing instanceId", body: `{"activity":"releaseInstance"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "instanceId"}},
		{name: "upgrade missing orderId", body: `{"activity":"upgradeInstance","instanceId":"i1","orderLineId":"l"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "orderId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeBasic([]byte(tt.body))
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeBasic (-want +got):\n%s", diff)
			}
		})
	}
}

const tenantBody = `{"instanceId":"i1","orderId":"o1","tenantId":"t1","tenantCode":"huawei","name":"Huawei Tech","domainName":"https://x.example.com","flag":%s,"testFlag":%s,"timeStamp":"20220413093539534"}`

func TestDecodeKit(t *testing.T) {
	kitTS := mustTime(t, ParseKitTimeStamp, "20220413093539534")
	users := `[{"userName":"u1","name":"User One","orgCode":"o1","role":"admin","enable":"true","mobile":"123","email":"u1@example.com"},{"userName":"u2","name":"User Two","orgCode":"o1","role":"user","enable":"false"}]`
	orgs := `[{"orgCode":"o1","orgName":"Root"},{"orgCode":"o2","orgName":"Child","parentCode":"o1"}]`
	orgsString, _ := json.Marshal(orgs)
	common := `"testFlag":1,"timeStamp":"20220413093539534","tenantId":"t1","instanceId":"i1"`
	bigUsers := make([]string, MaxKitUsers+1)
	for i := range bigUsers {
		bigUsers[i] = `{"userName":"u","name":"n","orgCode":"o","role":"user","enable":"true"}`
	}
	tests := []struct {
		name    string
		kit     string
		body    string
		want    KitRequest
		wantErr errInfo
	}{
		{
			name: "vector 2 tenantSync",
			kit:  KitTenantSync,
			body: vec2Body,
			want: KitRequest{Name: KitTenantSync, TimeStamp: kitTS, InstanceID: "huaiweitest123456", OrderID: "CS1906666666ABCDE",
				TenantSync: &TenantSync{TenantID: "68cbc86abc2018ab880d92f36422fa0e", TenantCode: "huawei", Name: "huaiweitest", DomainName: "https://example.tenantaccount.com", Flag: FlagAdd}},
		},
		{
			name: "credential test with empty instance",
			kit:  KitTenantSync,
			body: `{"instanceId":"","orderId":"","tenantId":"t1","flag":0,"testFlag":1,"timeStamp":"20220413093539534"}`,
			want: KitRequest{Name: KitTenantSync, TestFlag: true, TimeStamp: kitTS, TenantSync: &TenantSync{TenantID: "t1", Flag: FlagDelete}},
		},
		{
			name: "applicationSync",
			kit:  KitApplicationSync,
			body: `{` + common + `,"appId":"a1","clientId":"c1","clientSecret":"c2VjcmV0","flag":2}`,
			want: KitRequest{Name: KitApplicationSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				ApplicationSync: &ApplicationSync{TenantID: "t1", AppID: "a1", ClientID: "c1", ClientSecret: "c2VjcmV0", Flag: FlagModify}},
		},
		{
			name: "applicationSync delete without client",
			kit:  KitApplicationSync,
			body: `{` + common + `,"appId":"a1","flag":0}`,
			want: KitRequest{Name: KitApplicationSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				ApplicationSync: &ApplicationSync{TenantID: "t1", AppID: "a1", Flag: FlagDelete}},
		},
		{
			name: "authSync",
			kit:  KitAuthSync,
			body: `{` + common + `,"appId":"a1","userList":` + users + `,"currentSyncTime":"20220413093539534","flag":3}`,
			want: KitRequest{Name: KitAuthSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				AuthSync: &AuthSync{TenantID: "t1", AppID: "a1", CurrentSyncTime: "20220413093539534", Flag: FlagCancel, UserList: []KitUser{
					{UserName: "u1", Name: "User One", OrgCode: "o1", Role: RoleAdmin, Enable: true, Mobile: "123", Email: "u1@example.com"},
					{UserName: "u2", Name: "User Two", OrgCode: "o1", Role: RoleUser},
				}}},
		},
		{
			name: "singleOrgSync",
			kit:  KitSingleOrgSync,
			body: `{` + common + `,"orgCode":"o2","orgName":"Child","parentCode":"o1","flag":1}`,
			want: KitRequest{Name: KitSingleOrgSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				SingleOrgSync: &SingleOrgSync{TenantID: "t1", OrgCode: "o2", OrgName: "Child", ParentCode: "o1", Flag: FlagAdd}},
		},
		{
			name: "allOrgSync array",
			kit:  KitAllOrgSync,
			body: `{` + common + `,"orgInfoList":` + orgs + `}`,
			want: KitRequest{Name: KitAllOrgSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				AllOrgSync: &AllOrgSync{TenantID: "t1", OrgInfoList: []Org{{OrgCode: "o1", OrgName: "Root"}, {OrgCode: "o2", OrgName: "Child", ParentCode: "o1"}}}},
		},
		{
			name: "allOrgSync JSON string",
			kit:  KitAllOrgSync,
			body: `{` + common + `,"orgInfoList":` + string(orgsString) + `}`,
			want: KitRequest{Name: KitAllOrgSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				AllOrgSync: &AllOrgSync{TenantID: "t1", OrgInfoList: []Org{{OrgCode: "o1", OrgName: "Root"}, {OrgCode: "o2", OrgName: "Child", ParentCode: "o1"}}}},
		},
		{name: "unknown name", kit: "userSync", body: vec2Body, wantErr: errInfo{CodeInvalidParam, ReasonUnknownKitName, "name"}},
		{name: "malformed", kit: KitTenantSync, body: `{"flag":1,`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, ""}},
		{name: "testFlag missing", kit: KitTenantSync, body: `{"tenantId":"t1","flag":1,"timeStamp":"20220413093539534"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "testFlag"}},
		{name: "testFlag string", kit: KitTenantSync, body: fmt.Sprintf(tenantBody, "1", `"1"`), wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "testFlag"}},
		{name: "testFlag 1.0", kit: KitTenantSync, body: fmt.Sprintf(tenantBody, "1", `1.0`), wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "testFlag"}},
		{name: "testFlag 2", kit: KitTenantSync, body: fmt.Sprintf(tenantBody, "1", `2`), wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "testFlag"}},
		{name: "flag 3 outside authSync", kit: KitTenantSync, body: fmt.Sprintf(tenantBody, "3", `0`), wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "flag"}},
		{name: "flag 1e0", kit: KitTenantSync, body: fmt.Sprintf(tenantBody, "1e0", `0`), wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "flag"}},
		{name: "flag missing", kit: KitTenantSync, body: `{"tenantId":"t1","testFlag":0,"timeStamp":"20220413093539534"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "flag"}},
		{name: "flag boolean", kit: KitTenantSync, body: fmt.Sprintf(tenantBody, "true", `0`), wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "flag"}},
		{name: "timeStamp missing", kit: KitTenantSync, body: `{"tenantId":"t1","testFlag":0,"flag":1}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "timeStamp"}},
		{name: "timeStamp 14 digits", kit: KitTenantSync, body: `{"tenantId":"t1","testFlag":0,"flag":1,"timeStamp":"20220413093539"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "timeStamp"}},
		{name: "timeStamp number", kit: KitTenantSync, body: `{"tenantId":"t1","testFlag":0,"flag":1,"timeStamp":20220413093539534}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "timeStamp"}},
		{name: "tenantId missing", kit: KitTenantSync, body: `{"testFlag":0,"flag":1,"timeStamp":"20220413093539534"}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "tenantId"}},
		{name: "application clientSecret missing on add", kit: KitApplicationSync, body: `{` + common + `,"appId":"a1","clientId":"c1","flag":1}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "clientSecret"}},
		{name: "authSync userList missing", kit: KitAuthSync, body: `{` + common + `,"appId":"a1","flag":1}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "userList"}},
		{name: "authSync userList object", kit: KitAuthSync, body: `{` + common + `,"appId":"a1","flag":1,"userList":{}}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "userList"}},
		{name: "authSync too many users", kit: KitAuthSync, body: `{` + common + `,"appId":"a1","flag":1,"userList":[` + strings.Join(bigUsers, ",") + `]}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "userList"}},
		// role, enable and name are only stored (docs/protocol.md §6.11): an unknown role is kept
		// and noted, a JSON boolean enable is read as its literal, a missing name is empty.
		{
			name: "authSync unknown role kept and noted",
			kit:  KitAuthSync,
			body: `{` + common + `,"appId":"a1","flag":1,"userList":[{"userName":"u","name":"n","orgCode":"o","role":"root","enable":"true"}]}`,
			want: KitRequest{Name: KitAuthSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				AuthSync: &AuthSync{TenantID: "t1", AppID: "a1", Flag: FlagAdd, UserList: []KitUser{
					{UserName: "u", Name: "n", OrgCode: "o", Role: "root", Enable: true},
				}},
				Notes: []string{"userList[0].role: unknown value kept"}},
		},
		{
			name: "authSync enable boolean",
			kit:  KitAuthSync,
			body: `{` + common + `,"appId":"a1","flag":1,"userList":[{"userName":"u","name":"n","orgCode":"o","role":"user","enable":true},{"userName":"v","name":"n","orgCode":"o","role":"user","enable":false}]}`,
			want: KitRequest{Name: KitAuthSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				AuthSync: &AuthSync{TenantID: "t1", AppID: "a1", Flag: FlagAdd, UserList: []KitUser{
					{UserName: "u", Name: "n", OrgCode: "o", Role: RoleUser, Enable: true},
					{UserName: "v", Name: "n", OrgCode: "o", Role: RoleUser},
				}}},
		},
		{
			name: "authSync unknown enable is false and noted",
			kit:  KitAuthSync,
			body: `{` + common + `,"appId":"a1","flag":1,"userList":[{"userName":"u","name":"n","orgCode":"o","role":"user","enable":"yes"}]}`,
			want: KitRequest{Name: KitAuthSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				AuthSync: &AuthSync{TenantID: "t1", AppID: "a1", Flag: FlagAdd, UserList: []KitUser{
					{UserName: "u", Name: "n", OrgCode: "o", Role: RoleUser},
				}},
				Notes: []string{"userList[0].enable: unknown value taken as false"}},
		},
		{
			name: "authSync second user without name",
			kit:  KitAuthSync,
			body: `{` + common + `,"appId":"a1","flag":1,"userList":[{"userName":"u","name":"n","orgCode":"o","role":"user","enable":"true"},{"userName":"v","orgCode":"o","role":"user","enable":"true"}]}`,
			want: KitRequest{Name: KitAuthSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				AuthSync: &AuthSync{TenantID: "t1", AppID: "a1", Flag: FlagAdd, UserList: []KitUser{
					{UserName: "u", Name: "n", OrgCode: "o", Role: RoleUser, Enable: true},
					{UserName: "v", OrgCode: "o", Role: RoleUser, Enable: true},
				}}},
		},
		{name: "authSync second user without userName", kit: KitAuthSync, body: `{` + common + `,"appId":"a1","flag":1,"userList":[{"userName":"u","name":"n","orgCode":"o","role":"user","enable":"true"},{"name":"v","orgCode":"o","role":"user","enable":"true"}]}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "userList[1].userName"}},
		{name: "authSync user not an object", kit: KitAuthSync, body: `{` + common + `,"appId":"a1","flag":1,"userList":["u"]}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "userList[0]"}},
		{
			name: "singleOrgSync orgName missing on add",
			kit:  KitSingleOrgSync,
			body: `{` + common + `,"orgCode":"o2","flag":1}`,
			want: KitRequest{Name: KitSingleOrgSync, TestFlag: true, TimeStamp: kitTS, InstanceID: "i1",
				SingleOrgSync: &SingleOrgSync{TenantID: "t1", OrgCode: "o2", Flag: FlagAdd}},
		},
		{name: "singleOrgSync orgCode missing on add", kit: KitSingleOrgSync, body: `{` + common + `,"orgName":"Child","flag":1}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "orgCode"}},
		{name: "allOrgSync string not an array", kit: KitAllOrgSync, body: `{` + common + `,"orgInfoList":"{}"}`, wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "orgInfoList"}},
		{name: "allOrgSync string malformed", kit: KitAllOrgSync, body: `{` + common + `,"orgInfoList":"[{"}`, wantErr: errInfo{CodeInvalidParam, ReasonMalformedJSON, "orgInfoList"}},
		{name: "allOrgSync org without code", kit: KitAllOrgSync, body: `{` + common + `,"orgInfoList":[{"orgName":"x"}]}`, wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "orgInfoList[0].orgCode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeKit(tt.kit, []byte(tt.body))
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeKit (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKitNameFromPath(t *testing.T) {
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"/saasproduce/produceAPI/v2/tenantSync", KitTenantSync, true},
		{"/produceAPI/v2/allOrgSync", KitAllOrgSync, true},
		{"/produceAPI/v2/other", "", false},
		{"/saasproduce", "", false},
	}
	for _, tt := range tests {
		got, ok := KitNameFromPath(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("KitNameFromPath(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecodeV1(t *testing.T) {
	expire := mustTime(t, ParseExpireTime, "20200727153156")
	parse := func(s string) url.Values {
		q, err := url.ParseQuery(s)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	tests := []struct {
		name    string
		query   string
		want    Request
		wantErr errInfo
	}{
		{
			name:  "vector 4 newInstance",
			query: vec4Query + "&authToken=" + url.QueryEscape(vec4AuthToken),
			want: Request{Version: 1, Activity: ActivityNewInstance, SourceActivity: V1ActivityNewInstance, TestFlag: true,
				NewInstance: &NewInstance{OrderID: "CS1906666666ABCDE", BusinessID: "61e834ba-7b97-4418-b8f7-e5345137278c",
					CustomerID: "68cbc86abc2018ab880d92f36422fa0e", ProductID: "00301-666666-0--0", ExpireTime: expire}},
		},
		{
			name:  "refreshInstance trial to formal",
			query: "activity=refreshInstance&instanceId=i1&orderId=o2&expireTime=20200727153156&trialToFormal=1",
			want: Request{Version: 1, Activity: ActivityRefreshInstance, SourceActivity: V1ActivityRefreshInstance,
				RefreshInstance: &RefreshInstance{InstanceID: "i1", OrderID: "o2", Scene: SceneTrialToFormal, ExpireTime: expire}},
		},
		{
			name:  "expireInstance is a freeze",
			query: "activity=expireInstance&instanceId=i1&testFlag=0",
			want: Request{Version: 1, Activity: ActivityUpdateInstanceStatus, SourceActivity: V1ActivityExpireInstance,
				UpdateInstanceStatus: &UpdateInstanceStatus{InstanceID: "i1", Status: StatusFreeze}},
		},
		{
			name:  "instanceStatus NORMAL is unfreeze",
			query: "activity=instanceStatus&instanceId=i1&instanceStatus=NORMAL",
			want: Request{Version: 1, Activity: ActivityUpdateInstanceStatus, SourceActivity: V1ActivityInstanceStatus,
				UpdateInstanceStatus: &UpdateInstanceStatus{InstanceID: "i1", Status: StatusUnfreeze}},
		},
		{
			name:  "instanceStatus via status",
			query: "activity=instanceStatus&instanceId=i1&status=FREEZE",
			want: Request{Version: 1, Activity: ActivityUpdateInstanceStatus, SourceActivity: V1ActivityInstanceStatus,
				UpdateInstanceStatus: &UpdateInstanceStatus{InstanceID: "i1", Status: StatusFreeze}},
		},
		{
			name:  "upgrade",
			query: "activity=upgrade&instanceId=i1&orderId=o3&productId=p&skuCode=s",
			want: Request{Version: 1, Activity: ActivityUpgradeInstance, SourceActivity: V1ActivityUpgrade,
				UpgradeInstance: &UpgradeInstance{InstanceID: "i1", OrderID: "o3", ProductID: "p", SkuCode: "s"}},
		},
		{
			name:  "queryInstance",
			query: "activity=queryInstance&instanceId=a,b",
			want: Request{Version: 1, Activity: ActivityQueryInstance, SourceActivity: V1ActivityQueryInstance,
				QueryInstance: &QueryInstance{InstanceIDs: []string{"a", "b"}}},
		},
		{
			name:  "releaseInstance",
			query: "activity=releaseInstance&instanceId=i1",
			want: Request{Version: 1, Activity: ActivityReleaseInstance, SourceActivity: V1ActivityReleaseInstance,
				ReleaseInstance: &ReleaseInstance{InstanceID: "i1"}},
		},
		{name: "missing activity", query: "instanceId=i1", wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "activity"}},
		{name: "V2-only activity", query: "activity=upgradeInstance&instanceId=i1", wantErr: errInfo{CodeInvalidParam, ReasonUnknownActivity, "activity"}},
		{name: "repeated parameter", query: "activity=releaseInstance&instanceId=i1&instanceId=i2", wantErr: errInfo{CodeInvalidParam, ReasonDuplicateParam, "instanceId"}},
		{name: "newInstance without customerId", query: "activity=newInstance&orderId=o&businessId=b&productId=p", wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "customerId"}},
		{name: "newInstance bad encryptType", query: "activity=newInstance&orderId=o&businessId=b&productId=p&customerId=c&encryptType=3", wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "encryptType"}},
		{name: "newInstance bad expireTime", query: "activity=newInstance&orderId=o&businessId=b&productId=p&customerId=c&expireTime=2020", wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "expireTime"}},
		{name: "instanceStatus bad value", query: "activity=instanceStatus&instanceId=i1&instanceStatus=UNFREEZE", wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "instanceStatus"}},
		{name: "refresh without expireTime", query: "activity=refreshInstance&instanceId=i1&orderId=o2", wantErr: errInfo{CodeInvalidParam, ReasonMissingField, "expireTime"}},
		{name: "testFlag bad", query: "activity=releaseInstance&instanceId=i1&testFlag=yes", wantErr: errInfo{CodeInvalidParam, ReasonInvalidField, "testFlag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := parse(tt.query)
			got, err := DecodeV1(q)
			if diff := cmp.Diff(tt.wantErr, infoOf(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s\nerr: %v", diff, err)
			}
			if err == nil {
				tt.want.V1Params = q
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeV1 (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeResponse(t *testing.T) {
	memo := "请联系 <support@example.com> & 😀 é\u2028"
	resp := NewResponse(CodeSuccess)
	resp.Info = []InstanceInfo{{
		InstanceID: "i1",
		AppInfo:    &AppInfo{FrontEndURL: "https://t.example.com/?a=1&b=<2>", UserName: "admin", Password: "p\"w", Memo: memo},
		UsageInfo:  []UsageInfo{{RelatedInstanceID: "i1", UsageValue: "1.5", StatisticalTime: "20220809T091000Z"}},
	}}
	got := EncodeResponse(resp)
	want := `{"resultCode":"000000","resultMsg":"success.","info":[{"instanceId":"i1","appInfo":{"frontEndUrl":"https://t.example.com/?a=1&b=<2>","userName":"admin","password":"p\"w","memo":"\u8bf7\u8054\u7cfb <support@example.com> & \ud83d\ude00 \u00e9\u2028"}` +
		`,"usageInfo":[{"relatedInstanceId":"i1","usageValue":"1.5","statisticalTime":"20220809T091000Z"}]}]}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("EncodeResponse (-want +got):\n%s", diff)
	}
	for i, b := range got {
		if b >= 0x80 {
			t.Fatalf("byte %d of the response is not ASCII", i)
		}
	}
	var back Response
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(resp, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	if diff := cmp.Diff(`{"resultCode":"000005","resultMsg":"internal error."}`, string(EncodeResponse(map[string]any{"x": make(chan int)}))); diff != "" {
		t.Errorf("unencodable value (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(`{"resultCode":"000002","resultMsg":"invalid parameter."}`, string(EncodeResponse(ErrorResponse(ParamError("x", "bad"))))); diff != "" {
		t.Errorf("error response (-want +got):\n%s", diff)
	}
}

func TestEncryptAppInfoV1(t *testing.T) {
	for _, et := range []string{"", EncryptTypeAES256, EncryptTypeAES128} {
		info := &AppInfo{FrontEndURL: "https://t.example.com", UserName: "hwadmin", Password: "Huawei@12345"}
		if err := EncryptAppInfoV1(vecKey, info, et); err != nil {
			t.Fatal(err)
		}
		if info.UserName == "hwadmin" || info.Password == "Huawei@12345" || info.FrontEndURL != "https://t.example.com" {
			t.Fatalf("encryptType %q: unexpected app info %+v", et, info)
		}
		user, err := DecryptCredential(vecKey, info.UserName, et)
		if err != nil {
			t.Fatal(err)
		}
		pass, err := DecryptCredential(vecKey, info.Password, et)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"hwadmin", "Huawei@12345"}, []string{user, pass}); diff != "" {
			t.Errorf("encryptType %q round trip (-want +got):\n%s", et, diff)
		}
	}
	empty := &AppInfo{FrontEndURL: "u"}
	if err := EncryptAppInfoV1(vecKey, empty, ""); err != nil || *empty != (AppInfo{FrontEndURL: "u"}) {
		t.Errorf("empty credentials changed: %+v, %v", empty, err)
	}
	if err := EncryptAppInfoV1(vecKey, &AppInfo{UserName: "u"}, "9"); err == nil {
		t.Error("unknown encryptType accepted")
	}
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Codes() {
		if len(c) != 6 || seen[c] {
			t.Errorf("bad or repeated code %q", c)
		}
		seen[c] = true
		if Message(c) == "" {
			t.Errorf("code %s has no message", c)
		}
	}
	if len(seen) != 14 {
		t.Errorf("%d codes, want 14", len(seen))
	}
	if Message("999999") != Message(CodeInternalError) {
		t.Error("unknown code does not get the internal-error message")
	}
	if got := CodeOf(fmt.Errorf("wrapped: %w", AuthError(ReasonBadSignature))); got != CodeAuthFailed {
		t.Errorf("CodeOf(wrapped auth error) = %s", got)
	}
	if got := CodeOf(fmt.Errorf("plain")); got != CodeInternalError {
		t.Errorf("CodeOf(plain) = %s", got)
	}
	if got := CodeOf(nil); got != CodeSuccess {
		t.Errorf("CodeOf(nil) = %s", got)
	}
	err := ParamError("orderId", "bad %q", "x")
	if diff := cmp.Diff(`code 000002 (invalid-field): field "orderId": bad "x"`, err.Error()); diff != "" {
		t.Errorf("Error() (-want +got):\n%s", diff)
	}
}
