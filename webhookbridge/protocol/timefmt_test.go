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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseTimes(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ms*int(time.Millisecond), time.UTC)
	}
	tests := []struct {
		name    string
		parse   func(string) (time.Time, error)
		in      string
		want    time.Time
		wantErr bool
	}{
		{name: "expire 14 digits", parse: ParseExpireTime, in: "20200727153156", want: utc(2020, 7, 27, 15, 31, 56, 0)},
		{name: "expire 17 digits", parse: ParseExpireTime, in: "20200727153156789", want: utc(2020, 7, 27, 15, 31, 56, 789)},
		{name: "expire leap day", parse: ParseExpireTime, in: "20240229000000", want: utc(2024, 2, 29, 0, 0, 0, 0)},
		{name: "expire end of year", parse: ParseExpireTime, in: "20991231235959", want: utc(2099, 12, 31, 23, 59, 59, 0)},
		{name: "expire no leap day", parse: ParseExpireTime, in: "20230229000000", wantErr: true},
		{name: "expire 31 April", parse: ParseExpireTime, in: "20230431000000", wantErr: true},
		{name: "expire month 13", parse: ParseExpireTime, in: "20231301000000", wantErr: true},
		{name: "expire month 0", parse: ParseExpireTime, in: "20230001000000", wantErr: true},
		{name: "expire day 0", parse: ParseExpireTime, in: "20230100000000", wantErr: true},
		{name: "expire hour 24", parse: ParseExpireTime, in: "20230101240000", wantErr: true},
		{name: "expire minute 60", parse: ParseExpireTime, in: "20230101006000", wantErr: true},
		{name: "expire second 60", parse: ParseExpireTime, in: "20230101000060", wantErr: true},
		{name: "expire year 0", parse: ParseExpireTime, in: "00000101000000", wantErr: true},
		{name: "expire 15 digits", parse: ParseExpireTime, in: "202301010000001", wantErr: true},
		{name: "expire 12 digits", parse: ParseExpireTime, in: "202301010000", wantErr: true},
		{name: "expire with separators", parse: ParseExpireTime, in: "2023-01-01 0000", wantErr: true},
		{name: "expire with sign", parse: ParseExpireTime, in: "+2023010100000", wantErr: true},
		{name: "expire non-ASCII digits", parse: ParseExpireTime, in: "２０２３0101000000", wantErr: true},
		{name: "expire empty", parse: ParseExpireTime, in: "", wantErr: true},
		{name: "kit UTC+8", parse: ParseKitTimeStamp, in: "20220413093539534", want: utc(2022, 4, 13, 1, 35, 39, 534)},
		{name: "kit across midnight", parse: ParseKitTimeStamp, in: "20220101050000000", want: utc(2021, 12, 31, 21, 0, 0, 0)},
		{name: "kit 14 digits", parse: ParseKitTimeStamp, in: "20220413093539", wantErr: true},
		{name: "V1 UTC", parse: ParseV1TimeStamp, in: "20200727073711903", want: utc(2020, 7, 27, 7, 37, 11, 903)},
		{name: "V1 14 digits", parse: ParseV1TimeStamp, in: "20200727073711", wantErr: true},
		{name: "V1 letters", parse: ParseV1TimeStamp, in: "2020072707371190x", wantErr: true},
		{name: "millis", parse: ParseMillis, in: "1680508066618", want: utc(2023, 4, 3, 7, 47, 46, 618)},
		{name: "millis zero", parse: ParseMillis, in: "0", want: utc(1970, 1, 1, 0, 0, 0, 0)},
		{name: "millis negative", parse: ParseMillis, in: "-1", wantErr: true},
		{name: "millis leading zero", parse: ParseMillis, in: "01680508066618", wantErr: true},
		{name: "millis zero padded zero", parse: ParseMillis, in: "00", wantErr: true},
		{name: "millis plus sign", parse: ParseMillis, in: "+1680508066618", wantErr: true},
		{name: "millis decimal", parse: ParseMillis, in: "1680508066.618", wantErr: true},
		{name: "millis too long", parse: ParseMillis, in: "1234567890123456", wantErr: true},
		{name: "millis empty", parse: ParseMillis, in: "", wantErr: true},
		{name: "usage", parse: ParseUsageTime, in: "20220809T091000Z", want: utc(2022, 8, 9, 9, 10, 0, 0)},
		{name: "usage without T", parse: ParseUsageTime, in: "20220809 091000Z", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parsed time (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormatTimes(t *testing.T) {
	tm := time.Date(2022, 4, 13, 1, 35, 39, 534*int(time.Millisecond), time.UTC)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"expire", FormatExpireTime(tm.In(chinaStandardTime)), "20220413013539"},
		{"kit", FormatKitTimeStamp(tm), "20220413093539534"},
		{"V1", FormatV1TimeStamp(tm.In(chinaStandardTime)), "20220413013539534"},
		{"millis", FormatMillis(tm), "1649813739534"},
		{"usage", FormatUsageTime(tm.In(chinaStandardTime)), "20220413T013539Z"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	// Parse(Format(t)) is t at the format's precision.
	if back, err := ParseKitTimeStamp(FormatKitTimeStamp(tm)); err != nil || !back.Equal(tm) {
		t.Errorf("kit round trip = %v, %v", back, err)
	}
	if back, err := ParseExpireTime(FormatExpireTime(tm)); err != nil || !back.Equal(tm.Truncate(time.Second)) {
		t.Errorf("expire round trip = %v, %v", back, err)
	}
}
