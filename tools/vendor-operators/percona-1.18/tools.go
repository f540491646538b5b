//go:build tools

// Package tools pins the operator's manager package for `go build`.
package tools

import _ "github.com/percona/percona-xtradb-cluster-operator/cmd/manager"
