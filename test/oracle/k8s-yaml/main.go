// Command k8s-yaml answers "how does Argo CD read this YAML stream?" for vaultfill's tests.
//
// It reads a stream exactly as Argo CD's CMP server reads a plugin's stdout: gitops-engine's
// kube.SplitYAMLToString (argo-cd v3.6.1, gitops-engine/pkg/utils/kube/kube.go). That is
// apimachinery's NewYAMLOrJSONDecoder(stream, 4096) decoding each document into a
// runtime.RawExtension (sigs.k8s.io/yaml, i.e. go-yaml v2 and YAML 1.1, then encoding/json),
// skipping documents whose trimmed JSON is empty or null. The raw JSON is passed through as
// it is, so an int stays an int and never becomes a float64 on the way.
//
// Answer, one JSON line per stream: {"documents":[<JSON>…]} or {"error":"<message>"}.
//
//	k8s-yaml < stream.yaml    one stream on stdin, one answer
//	k8s-yaml --serve          requests on stdin, each a 4-byte big-endian length and that
//	                          many bytes of YAML; one answer line per request, flushed
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// maxRequest guards the server against a garbled length prefix (it would otherwise try to
// allocate up to 4 GiB); tests never send streams anywhere near this.
const maxRequest = 256 << 20

type answer struct {
	Documents []json.RawMessage `json:"-"`
	Error     string            `json:"error"`
}

// read mirrors SplitYAMLToString line by line; only the result's shape differs.
func read(stream []byte) (ans answer) {
	// One hostile input must not take the server (and every later test case) down with it.
	defer func() {
		if r := recover(); r != nil {
			ans = answer{Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	d := kubeyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	docs := []json.RawMessage{}
	for {
		ext := runtime.RawExtension{}
		if err := d.Decode(&ext); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return answer{Error: err.Error()}
		}
		ext.Raw = bytes.TrimSpace(ext.Raw)
		if len(ext.Raw) == 0 || bytes.Equal(ext.Raw, []byte("null")) {
			continue
		}
		docs = append(docs, ext.Raw)
	}
	return answer{Documents: docs}
}

func write(out *bufio.Writer, ans answer) error {
	enc := json.NewEncoder(out) // Encode ends the line
	enc.SetEscapeHTML(false)    // keep '<path:…>' in error messages readable
	var err error
	if ans.Error == "" {
		// Its own type so that a stream without documents still says "documents": [].
		err = enc.Encode(struct {
			Documents []json.RawMessage `json:"documents"`
		}{ans.Documents})
	} else {
		err = enc.Encode(ans)
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

func serve(in io.Reader, out *bufio.Writer) error {
	var size [4]byte
	for {
		if _, err := io.ReadFull(in, size[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil // the client closed stdin between requests: a clean end
			}
			return fmt.Errorf("reading a request length: %w", err)
		}
		n := binary.BigEndian.Uint32(size[:])
		if n > maxRequest {
			return fmt.Errorf("request of %d bytes exceeds %d", n, maxRequest)
		}
		stream := make([]byte, n)
		if _, err := io.ReadFull(in, stream); err != nil {
			return fmt.Errorf("reading a request of %d bytes: %w", n, err)
		}
		if err := write(out, read(stream)); err != nil {
			return err
		}
	}
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	var err error
	switch {
	case len(os.Args) == 2 && os.Args[1] == "--serve":
		err = serve(bufio.NewReader(os.Stdin), out)
	case len(os.Args) == 1:
		var stream []byte
		if stream, err = io.ReadAll(os.Stdin); err == nil {
			err = write(out, read(stream))
		}
	default:
		err = errors.New("usage: k8s-yaml [--serve] < stream")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-yaml:", err)
		os.Exit(1)
	}
}
