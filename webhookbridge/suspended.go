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

package webhookbridge

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
)

// SuspendedRetryAfter is the Retry-After of the suspended page, in seconds: a renewal takes
// effect within minutes, and crawlers should neither hammer nor forget the tenant.
const SuspendedRetryAfter = 3600

// suspendedPage is self-contained (no external assets, inline CSS), so it renders even when the
// visitor's network blocks everything but the tenant's host. html/template escapes the Host.
var suspendedPage = template.Must(template.New("suspended").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Subscription suspended · 订阅已暂停</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f4f5f7;color:#1f2329;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei",sans-serif}
main{max-width:34rem;margin:2rem;padding:2.5rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.25rem;margin:0 0 1.5rem;color:#4e5969;font-weight:500}
p{line-height:1.6;margin:.5rem 0}.zh{color:#4e5969}.host{margin-top:1.5rem;padding-top:1rem;border-top:1px solid #e5e6eb;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9rem;color:#86909c;word-break:break-all}
</style>
</head>
<body>
<main>
<h1>This subscription is suspended</h1>
<h2 lang="zh-CN">订阅已暂停</h2>
<p>The service at this address is paused because its subscription has expired or was suspended. All data is kept. Renewing the subscription in Huawei Cloud KooGallery restores the service within minutes.</p>
<p class="zh" lang="zh-CN">该地址的服务因订阅到期或被暂停而停止，所有数据均已保留。在华为云云商店（KooGallery）续费后，服务将在几分钟内恢复。</p>
{{if .}}<p class="host">{{.}}</p>{{end}}
</main>
</body>
</html>
`))

// SuspendedPage serves, for any path and host, the page frozen tenants' Ingresses point at: HTTP
// 503 (the service is temporarily unavailable, so caches and crawlers keep the tenant) with
// Retry-After, explaining in English and Chinese that renewing in KooGallery restores it.
func SuspendedPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := suspendedPage.Execute(&buf, r.Host); err != nil {
			http.Error(w, "This subscription is suspended / 订阅已暂停", http.StatusServiceUnavailable)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Retry-After", strconv.Itoa(SuspendedRetryAfter))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(http.StatusServiceUnavailable)
		if r.Method != http.MethodHead {
			_, _ = w.Write(buf.Bytes())
		}
	})
}
