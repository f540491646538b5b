// Command control-plane is a multicall test binary: one build links etcd, kube-apiserver and
// kube-controller-manager from their upstream Go modules, and each runs as its own process
// (`control-plane etcd …`, `control-plane kube-apiserver …`, `control-plane kube-controller-manager …`),
// so the components' global state (feature gates, klog, metrics registries) never meets.
//
// It exists only to give wandb-operator's tests a real API server; nothing of it ships.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"

	_ "time/tzdata" // CronJob time zones, as the upstream binaries embed them

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/component-base/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

const usage = "usage: control-plane etcd|kube-apiserver|kube-controller-manager|kubelet-logs ADDRESS DIR|keygen PATH|version [flags]"

// exitWithParent ends the process when its standard input closes, so a component never
// outlives the test harness that started it (even one killed without cleanup). With
// CONTROL_PLANE_REMOVE_ON_EXIT set it first removes that folder (the control plane's data).
func exitWithParent() {
	if os.Getenv("CONTROL_PLANE_EXIT_ON_STDIN_EOF") != "1" {
		return
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		if dir := os.Getenv("CONTROL_PLANE_REMOVE_ON_EXIT"); dir != "" {
			_ = os.RemoveAll(dir)
		}
		os.Exit(0)
	}()
}

// keygen writes a new ECDSA P-256 private key (PEM) for signing service-account tokens.
func keygen(path string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}

func runCobra(command *cobra.Command, args []string) {
	command.SetArgs(args)
	os.Exit(cli.Run(command))
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	component, args := os.Args[1], os.Args[2:]
	exitWithParent()
	switch component {
	case "etcd":
		// etcdmain reads its flags from args[1:], as the etcd binary does.
		etcdmain.Main(append([]string{"etcd"}, args...))
	case "kube-apiserver":
		runCobra(apiserver.NewAPIServerCommand(), args)
	case "kube-controller-manager":
		runCobra(controllermanager.NewControllerManagerCommand(), args)
	case "kubelet-logs":
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		if err := serveKubeletLogs(args[0], args[1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "keygen":
		if len(args) != 1 {
			fmt.Fprintln(os.Stderr, usage)
			os.Exit(2)
		}
		if err := keygen(args[0]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "version":
		fmt.Println(version.Get().GitVersion)
	default:
		fmt.Fprintf(os.Stderr, "unknown component %q\n%s\n", component, usage)
		os.Exit(2)
	}
}
