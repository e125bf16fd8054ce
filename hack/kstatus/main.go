// kstatus reads one Kubernetes object as JSON on stdin and prints what the
// kstatus library (sigs.k8s.io/cli-utils/pkg/kstatus/status), which Flux,
// kpt and `kubectl wait`-like tools use, computes for it:
//
//	<Status> <message>
//
// Status is one of Current, InProgress, Failed, Terminating, NotFound,
// Unknown. It exits 0 whatever the status; 1, with the reason on stderr, when
// the input is not one object or kstatus cannot read it. Built by
// hack/build-kube (its version in hack/versions.env).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// An object larger than this is not one the API server would store.
const maxInput = 16 << 20

func read(r io.Reader) (*unstructured.Unstructured, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("the object on stdin is larger than %d bytes", maxInput)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("no object on stdin (expected one object as JSON, e.g. kubectl get KIND NAME -o json)")
	}
	var obj map[string]interface{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("stdin is not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("stdin holds more than one JSON value (expected one object)")
	}
	if obj == nil {
		return nil, fmt.Errorf("stdin is JSON null, not an object")
	}
	u := &unstructured.Unstructured{}
	// UnstructuredJSONScheme wants apiVersion and kind, and turns numbers
	// into int64 or float64 as the status code expects.
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("stdin is not a Kubernetes object: %w", err)
	}
	return u, nil
}

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: kstatus < object.json (one Kubernetes object as JSON; no arguments)")
		os.Exit(2)
	}
	u, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus:", err)
		os.Exit(1)
	}
	res, err := status.Compute(u)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: %s %s/%s: %v\n", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		os.Exit(1)
	}
	fmt.Printf("%s %s\n", res.Status, res.Message)
}
