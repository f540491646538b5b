//go:build tools

// Package tools pins the S3 server the client tests use (versitygw, a real S3 gateway that
// checks AWS Signature V4 against its root credentials) for `go build`.
package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
