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

// Package logcap caps the verbosity of a logr.Logger. Both binaries log through one: client-go
// logs with the logger it finds in a request's context, and from V(8) on it writes whole request
// and response bodies — tenant-admin Secrets (the admin password), application client secrets,
// directory users' phone numbers and e-mail addresses. Capping the logger keeps them out of the
// log whatever verbosity a binary is started with.
package logcap

import "github.com/go-logr/logr"

// MaxVerbosity is the most verbose level a capped logger ever writes.
const MaxVerbosity = 7

// Cap returns l with every level above MaxVerbosity disabled.
func Cap(l logr.Logger) logr.Logger {
	sink := l.GetSink()
	if sink == nil {
		return l
	}
	if cd, ok := sink.(logr.CallDepthLogSink); ok {
		sink = cd.WithCallDepth(1) // the wrapper's own frame
	}
	return logr.New(cappedSink{LogSink: sink})
}

// cappedSink is a logr.LogSink that drops levels above MaxVerbosity.
type cappedSink struct {
	logr.LogSink
}

// Init does nothing: the wrapped sink was initialised when its logger was made.
func (cappedSink) Init(logr.RuntimeInfo) {}

func (c cappedSink) Enabled(level int) bool {
	return level <= MaxVerbosity && c.LogSink.Enabled(level)
}

func (c cappedSink) Info(level int, msg string, kv ...any) {
	if level <= MaxVerbosity {
		c.LogSink.Info(level, msg, kv...)
	}
}

// Error is spelled out, not promoted, so that it has the same call depth as Info.
func (c cappedSink) Error(err error, msg string, kv ...any) {
	c.LogSink.Error(err, msg, kv...)
}

func (c cappedSink) WithValues(kv ...any) logr.LogSink {
	return cappedSink{LogSink: c.LogSink.WithValues(kv...)}
}

func (c cappedSink) WithName(name string) logr.LogSink {
	return cappedSink{LogSink: c.LogSink.WithName(name)}
}
