// Command pluginconfig decodes ConfigManagementPlugin files strictly against Argo CD's own
// PluginConfig type (cmpserver/plugin), the way argocd-cmp-server reads them (YAML to JSON, then
// JSON) but refusing unknown fields, which Argo CD drops without a word (`lockRepo` was one),
// and then runs Argo CD's own validation. Prints "<file>: ok" or "<file>: <error>" per file;
// exits 1 if any file fails.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/argoproj/argo-cd/v3/cmpserver/plugin"
	"sigs.k8s.io/yaml"
)

func main() {
	failed := false
	for _, file := range os.Args[1:] {
		if err := check(file); err != nil {
			fmt.Printf("%s: %v\n", file, err)
			failed = true
		} else {
			fmt.Printf("%s: ok\n", file)
		}
	}
	if failed {
		os.Exit(1)
	}
}

func check(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	decoder := json.NewDecoder(bytes.NewReader(js))
	decoder.DisallowUnknownFields()
	var config plugin.PluginConfig
	if err := decoder.Decode(&config); err != nil {
		return err
	}
	return plugin.ValidatePluginConfig(config)
}
