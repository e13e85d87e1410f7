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
	"errors"
	"fmt"
	"os"
	"strings"
)

// MaxKeys is how many keys a key file may hold: the current one and the previous one.
const MaxKeys = 2

// ParseKeys reads a key file's content: the current key on the first non-blank line and,
// during a rotation, the previous key on the next one. Surrounding whitespace and blank lines
// are ignored, so files written by editors, Secrets and `echo` all work. A rotation is: add the
// new key as the first line (both verify), switch the marketplace, watch
// tenantry_bridge_key_rotation_previous_key_total stop growing, then remove the old line.
func ParseKeys(data string) ([]string, error) {
	var keys []string
	for line := range strings.SplitSeq(data, "\n") {
		if k := strings.TrimSpace(line); k != "" {
			keys = append(keys, k)
		}
	}
	switch {
	case len(keys) == 0:
		return nil, errors.New("no key found")
	case len(keys) > MaxKeys:
		return nil, fmt.Errorf("%d keys found, at most %d (current, previous) are allowed", len(keys), MaxKeys)
	case len(keys) == 2 && keys[0] == keys[1]:
		return nil, errors.New("the previous key equals the current key")
	}
	return keys, nil
}

// LoadKeys reads keys from file when it is set, and otherwise from the environment variable
// env (same format), so keys can come from a mounted Secret or from the environment. Neither
// set yields no keys and no error; the key material never appears in errors.
func LoadKeys(file, env string) ([]string, error) {
	var data string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading key file: %w", err)
		}
		data = string(b)
	case os.Getenv(env) != "":
		data = os.Getenv(env)
	default:
		return nil, nil
	}
	keys, err := ParseKeys(data)
	if err != nil {
		if file != "" {
			return nil, fmt.Errorf("key file %q: %w", file, err)
		}
		return nil, fmt.Errorf("environment variable %q: %w", env, err)
	}
	return keys, nil
}
