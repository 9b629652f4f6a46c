package rewrite

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// PullSecret renders the kubernetes.io/dockerconfigjson Secret that the
// imagePullSecrets entries added by File refer to. The credentials are
// the ones the cluster should pull with, e.g. a read-only IAM user's
// access key (vendor proxy mode) rather than a 12-hour token.
func PullSecret(name, namespace, registry, username, password string) ([]byte, error) {
	if !validSecretName(name) {
		return nil, fmt.Errorf("secret name %q: want a DNS-1123 subdomain", name)
	}
	if username == "" || password == "" {
		return nil, fmt.Errorf("the pull secret needs a username and a password")
	}
	cfg := map[string]any{"auths": map[string]any{registry: map[string]string{
		"username": username,
		"password": password,
		"auth":     base64.StdEncoding.EncodeToString([]byte(username + ":" + password)),
	}}}
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\n")
	if namespace != "" {
		if !validSecretName(namespace) || strings.Contains(namespace, ".") {
			return nil, fmt.Errorf("namespace %q: want a DNS-1123 label", namespace)
		}
		b.WriteString("  namespace: " + namespace + "\n")
	}
	b.WriteString("type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: " + base64.StdEncoding.EncodeToString(js) + "\n")
	return []byte(b.String()), nil
}
