package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// serveKubeletLogs is the stand-in kubelet's HTTPS server for the one kubelet API the vendor
// operators use here: container logs, which kube-apiserver proxies from `pods/log` to the
// Node's kubelet endpoint. It serves `GET /containerLogs/{namespace}/{pod}/{container}` from
// `DIR/{namespace}/{pod}/{container}.log` (a file the data plane writes; absent: a container
// that printed nothing), honouring `tailLines`. Everything else (exec, attach, port-forward,
// stats) answers 501, so a caller that needs more fails loudly. The certificate is
// self-signed at start: kube-apiserver runs without `--kubelet-certificate-authority`, so it
// does not verify the kubelet's serving certificate.
func serveKubeletLogs(address, dir string) error {
	certificate, err := selfSigned()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/containerLogs/", func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
		if r.Method != http.MethodGet || len(parts) != 3 || anyUnsafe(parts) {
			http.Error(w, "expected GET /containerLogs/{namespace}/{pod}/{container}", http.StatusBadRequest)
			return
		}
		text, err := os.ReadFile(filepath.Join(dir, parts[0], parts[1], parts[2]+".log"))
		if err != nil && !os.IsNotExist(err) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		lines := strings.SplitAfter(string(text), "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if tail, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil && tail >= 0 && tail < len(lines) {
			lines = lines[len(lines)-tail:]
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(strings.Join(lines, "")))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the stand-in kubelet serves container logs only, not "+r.URL.Path, http.StatusNotImplemented)
	})
	server := &http.Server{
		Addr:              address,
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	return server.ListenAndServeTLS("", "")
}

func anyUnsafe(parts []string) bool {
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\\") {
			return true
		}
	}
	return false
}

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1, valid for a day.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	template := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "stand-in-node"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, &template, &template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
