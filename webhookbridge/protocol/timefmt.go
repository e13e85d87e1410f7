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
	"fmt"
	"strconv"
	"time"
)

// Layouts of the marketplace's compact time formats.
const (
	// ExpireTimeLayout is expireTime's 14-digit form, UTC.
	ExpireTimeLayout = "20060102150405"
	// MilliTimeLayout is the 17-digit form with milliseconds (kit timeStamp in
	// UTC+8, V1 timeStamp in UTC, and the long form of expireTime).
	MilliTimeLayout = "20060102150405.000"
	// UsageTimeLayout is yyyyMMdd'T'HHmmss'Z' of usage records and X-Sdk-Date.
	UsageTimeLayout = "20060102T150405Z"
)

// chinaStandardTime is the fixed UTC+8 zone of kit timeStamps. A fixed zone,
// not time.LoadLocation("Asia/Shanghai"), so the result never depends on the
// image's tzdata.
var chinaStandardTime = time.FixedZone("UTC+8", 8*60*60)

// ParseExpireTime parses expireTime (docs/protocol.md §5): UTC yyyyMMddHHmmss, or
// the 17-digit form with milliseconds that examples also show. Only ASCII
// digits and real calendar values are accepted. The result is in UTC.
func ParseExpireTime(s string) (time.Time, error) {
	switch len(s) {
	case 14, 17:
		return parseCompact(s, time.UTC)
	default:
		return time.Time{}, fmt.Errorf("time %q: want 14 or 17 digits", s)
	}
}

// FormatExpireTime formats t as UTC yyyyMMddHHmmss (the 14-digit expireTime).
func FormatExpireTime(t time.Time) string {
	return t.UTC().Format(ExpireTimeLayout)
}

// ParseKitTimeStamp parses a kit body's timeStamp: 17 digits yyyyMMddHHmmssSSS
// in UTC+8 (docs/protocol.md §5). The result is the same instant in UTC.
func ParseKitTimeStamp(s string) (time.Time, error) {
	if len(s) != 17 {
		return time.Time{}, fmt.Errorf("time %q: want 17 digits", s)
	}
	return parseCompact(s, chinaStandardTime)
}

// FormatKitTimeStamp formats t as a kit timeStamp (17 digits, UTC+8).
func FormatKitTimeStamp(t time.Time) string {
	return formatMilli(t.In(chinaStandardTime))
}

// ParseV1TimeStamp parses the V1 timeStamp parameter: 17 digits
// yyyyMMddHHmmssSSS in UTC (docs/protocol.md §2.3).
func ParseV1TimeStamp(s string) (time.Time, error) {
	if len(s) != 17 {
		return time.Time{}, fmt.Errorf("time %q: want 17 digits", s)
	}
	return parseCompact(s, time.UTC)
}

// FormatV1TimeStamp formats t as a V1 timeStamp (17 digits, UTC).
func FormatV1TimeStamp(t time.Time) string {
	return formatMilli(t.UTC())
}

func formatMilli(t time.Time) string {
	s := t.Format(MilliTimeLayout)
	return s[:14] + s[15:]
}

// ParseMillis parses a UNIX time in milliseconds written as a canonical
// decimal string (the basic and kit timestamps): ASCII digits only, no sign, no
// leading zero ("0" itself aside), at most 15 digits (enough for year 9999).
// The result is in UTC.
//
// Canonical only, because the signed string joins nonce and timestamp with no
// separator (docs/protocol.md §2.1): were "0T" accepted as well as "T", a
// captured call whose nonce ends in 0 could be resent with that 0 moved into
// the timestamp, under the same signature and a different nonce.
func ParseMillis(s string) (time.Time, error) {
	if len(s) == 0 || len(s) > 15 || !allDigits(s) {
		return time.Time{}, fmt.Errorf("millisecond timestamp %q: want 1 to 15 decimal digits", s)
	}
	if len(s) > 1 && s[0] == '0' {
		return time.Time{}, fmt.Errorf("millisecond timestamp %q: leading zero", s)
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("millisecond timestamp %q: %w", s, err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// FormatMillis formats t as a decimal UNIX time in milliseconds.
func FormatMillis(t time.Time) string {
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// FormatUsageTime formats t as UTC yyyyMMdd'T'HHmmss'Z' (usage records).
func FormatUsageTime(t time.Time) string {
	return t.UTC().Format(UsageTimeLayout)
}

// ParseUsageTime parses yyyyMMdd'T'HHmmss'Z' strictly.
func ParseUsageTime(s string) (time.Time, error) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, fmt.Errorf("time %q: want yyyyMMdd'T'HHmmss'Z'", s)
	}
	return parseCompact(s[:8]+s[9:15], time.UTC)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseCompact parses 14 (seconds) or 17 (milliseconds) ASCII digits in loc and
// rejects values that are not a real calendar time (month 13, 30 February, hour
// 24, second 60, year 0).
// minYear is the earliest year a marketplace time may carry.
const minYear = 1970

func parseCompact(s string, loc *time.Location) (time.Time, error) {
	if (len(s) != 14 && len(s) != 17) || !allDigits(s) {
		return time.Time{}, fmt.Errorf("time %q: want digits yyyyMMddHHmmss[SSS]", s)
	}
	n := func(i, j int) int {
		v := 0
		for _, c := range s[i:j] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := n(0, 4), n(4, 6), n(6, 8)
	hour, minute, sec := n(8, 10), n(10, 12), n(12, 14)
	ms := 0
	if len(s) == 17 {
		ms = n(14, 17)
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("time %q: not a calendar time", s)
	}
	if year < minYear {
		// The marketplace did not exist before; and year 1 would be Go's zero time, which
		// means "absent" everywhere else.
		return time.Time{}, fmt.Errorf("time %q: before %d", s, minYear)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), loc)
	if t.Day() != day || t.Month() != time.Month(month) {
		return time.Time{}, fmt.Errorf("time %q: day %d does not exist in that month", s, day)
	}
	return t.UTC(), nil
}
