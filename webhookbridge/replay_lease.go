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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Labels and name of replay claims.
const (
	// ReplayClaimLabel marks the Leases that are replay claims, so the sweep lists nothing else.
	ReplayClaimLabel = "tenantry.io/replay-claim"
	// replayClaimPrefix starts every claim's name; the rest is a hash of the call's signature.
	replayClaimPrefix = "tenantry-replay-"
	// DefaultReplaySweepInterval is how often a replica deletes expired claims.
	DefaultReplaySweepInterval = time.Minute
	// replaySweepPage bounds one List of the sweep, so a pass costs a bounded request.
	replaySweepPage = 500
)

// LeaseReplayStore is a ReplayStore kept in coordination.k8s.io/v1 Leases in the bridge's own
// namespace, which every replica reaches through the API server. A claim is a Lease named from
// a hash of the key, created atomically: the API server's AlreadyExists is the replay. The Lease
// records when it was claimed (acquireTime) and for how long (leaseDurationSeconds); Sweep
// deletes expired ones. A claim can expire safely after twice the timestamp window, because a
// call whose signature it holds is by then refused as stale by every verifier.
type LeaseReplayStore struct {
	// Client reaches the API server directly (not a cache: a claim must be persisted).
	Client client.Client
	// Namespace is the bridge's own namespace, where claims are kept.
	Namespace string
	// Clock is the store's notion of now; the real clock when nil.
	Clock clock.PassiveClock
}

var _ ReplayStore = (*LeaseReplayStore)(nil)

func (l *LeaseReplayStore) now() time.Time {
	if l.Clock == nil {
		return time.Now()
	}
	return l.Clock.Now()
}

// ReplayClaimName is the name of the Lease claiming key: a prefix and 32 bytes of its SHA-256,
// so the name is a valid object name whatever the key holds, and tells nothing of it.
func ReplayClaimName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return replayClaimPrefix + hex.EncodeToString(sum[:])
}

// Claim creates the Lease of key, expiring at expires.
func (l *LeaseReplayStore) Claim(ctx context.Context, key string, expires time.Time) error {
	now := l.now()
	seconds := int32(min(math.Ceil(expires.Sub(now).Seconds()), math.MaxInt32))
	if seconds < 1 {
		seconds = 1
	}
	acquired := metav1.NewMicroTime(now)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: l.Namespace, Name: ReplayClaimName(key),
			Labels: map[string]string{ReplayClaimLabel: "true", "app.kubernetes.io/managed-by": "tenantry-webhookbridge"},
		},
		Spec: coordinationv1.LeaseSpec{AcquireTime: &acquired, RenewTime: &acquired, LeaseDurationSeconds: &seconds},
	}
	err := l.Client.Create(ctx, lease)
	switch {
	case err == nil:
		return nil
	case apierrors.IsAlreadyExists(err):
		return ErrReplayed
	default:
		return fmt.Errorf("claiming a replay key in namespace %q: %w", l.Namespace, err)
	}
}

// claimExpired reports whether a claim's time is over at now. A Lease without the fields, which the
// bridge never writes, counts as expired once it is older than a day.
func claimExpired(lease *coordinationv1.Lease, now time.Time) bool {
	if lease.Spec.AcquireTime == nil || lease.Spec.LeaseDurationSeconds == nil {
		return now.Sub(lease.CreationTimestamp.Time) > 24*time.Hour
	}
	return !now.Before(lease.Spec.AcquireTime.Add(time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second))
}

// Sweep deletes expired claims: at most one page of them per call, and returns how many it
// deleted. Any replica may sweep; two sweeping at once only see NotFound, which is ignored, and
// a UID precondition keeps a sweep from deleting anything but the claim it read.
func (l *LeaseReplayStore) Sweep(ctx context.Context) (int, error) {
	var leases coordinationv1.LeaseList
	if err := l.Client.List(ctx, &leases, client.InNamespace(l.Namespace),
		client.MatchingLabels{ReplayClaimLabel: "true"}, client.Limit(replaySweepPage)); err != nil {
		return 0, fmt.Errorf("listing replay claims in namespace %q: %w", l.Namespace, err)
	}
	now := l.now()
	deleted := 0
	var errs []error
	for i := range leases.Items {
		lease := &leases.Items[i]
		if !claimExpired(lease, now) {
			continue
		}
		uid := lease.UID
		err := l.Client.Delete(ctx, lease, client.Preconditions{UID: &uid})
		switch {
		case err == nil:
			deleted++
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		default:
			errs = append(errs, fmt.Errorf("deleting replay claim %q: %w", lease.Name, err))
		}
	}
	return deleted, errors.Join(errs...)
}

// RunSweeps sweeps every interval (DefaultReplaySweepInterval when zero) until ctx ends. A
// failed sweep is logged and tried again at the next tick: claims left behind only cost storage
// until then, never correctness.
func (l *LeaseReplayStore) RunSweeps(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultReplaySweepInterval
	}
	log := logr.FromContextOrDiscard(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := l.Sweep(ctx); err != nil {
			log.Info("Sweeping expired replay claims failed; trying again later", "error", err.Error(), "deleted", n)
		} else if n > 0 {
			log.V(1).Info("Swept expired replay claims", "deleted", n)
		}
	}
}
