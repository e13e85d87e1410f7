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

package controllers

import (
	"context"
	"sync"
)

// A reconcile that changed something logs one line saying what, with the instance's key (from
// controller-runtime's logger) and the state it left the tenant in; one that changed nothing logs
// nothing. Every write of the reconcile notes itself here: applies that changed the object,
// creations, deletions, the finalizer and the status.

// changes is what one reconcile changed, in the order it changed it.
type changes struct {
	mu    sync.Mutex
	items []string
}

type changesKey struct{}

// withChanges gives ctx a record of the changes the reconcile makes.
func withChanges(ctx context.Context) (context.Context, *changes) {
	c := &changes{}
	return context.WithValue(ctx, changesKey{}, c), c
}

// noteChange records that the reconcile of ctx changed what, e.g. "Deployment/app" or "status".
func noteChange(ctx context.Context, what string) {
	if c, ok := ctx.Value(changesKey{}).(*changes); ok {
		c.mu.Lock()
		c.items = append(c.items, what)
		c.mu.Unlock()
	}
}

// list returns the changes noted, nil when none.
func (c *changes) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) == 0 {
		return nil
	}
	return append([]string(nil), c.items...)
}
