// Command httpproxy answers, for vaultfill's tests, which proxy Go's own rules pick for a URL:
// golang.org/x/net/http/httpproxy, the package net/http vendors for ProxyFromEnvironment, which
// Vault's Go client (and so argocd-vault-plugin) uses. One JSON case per stdin line:
//
//	{"httpProxy":"…","httpsProxy":"…","noProxy":"…","cgi":false,"url":"https://vault:8200/v1/x"}
//
// and one JSON answer per stdout line: {"proxy":"http://…"} or {"proxy":""} or {"error":"…"}.
package main

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"

	"golang.org/x/net/http/httpproxy"
)

type request struct {
	HTTPProxy  string `json:"httpProxy"`
	HTTPSProxy string `json:"httpsProxy"`
	NoProxy    string `json:"noProxy"`
	CGI        bool   `json:"cgi"`
	URL        string `json:"url"`
}

type answer struct {
	Proxy *string `json:"proxy,omitempty"`
	Error string  `json:"error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var r request
		var a answer
		if err := json.Unmarshal(in.Bytes(), &r); err != nil {
			a.Error = err.Error()
		} else if u, err := url.Parse(r.URL); err != nil {
			a.Error = err.Error()
		} else {
			cfg := httpproxy.Config{HTTPProxy: r.HTTPProxy, HTTPSProxy: r.HTTPSProxy, NoProxy: r.NoProxy, CGI: r.CGI}
			p, err := cfg.ProxyFunc()(u)
			if err != nil {
				a.Error = err.Error()
			} else {
				s := ""
				if p != nil {
					s = p.String()
				}
				a.Proxy = &s
			}
		}
		if err := out.Encode(a); err != nil {
			os.Exit(1)
		}
	}
}
