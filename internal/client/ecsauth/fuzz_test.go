package ecsauth

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzParseECSConfig: parsing never fails on text input; every entry the
// agent would keep survives conversion to each ECS format and back with the
// same username and password; Lookup's chosen key is always among the
// possible ones and names a usable entry.
func FuzzParseECSConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/ecsconfig/*.config")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data, "reg.example.com/team-a/app")
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, image string) {
		ef, err := ParseEnvFile(bytes.NewReader(data), "f")
		if err != nil {
			if len(data) <= maxEnvFileSize {
				t.Fatalf("ParseEnvFile failed on %d bytes: %v", len(data), err)
			}
			return
		}
		r := Analyze(ef, []string{image})
		m := r.Matches[0]
		if m.Key != "" && !slices.Contains(m.Possible, m.Key) {
			t.Fatalf("key %q not in %v", m.Key, m.Possible)
		}
		usable := map[string]bool{}
		var creds []Cred
		for _, e := range r.Auth.Entries {
			if e.Usable {
				usable[e.Key] = true
				creds = append(creds, Cred{Key: e.RawKey, Username: e.Username, Password: e.Password})
			}
		}
		for _, k := range m.Possible {
			if !usable[k] {
				t.Fatalf("possible key %q is not a usable entry", k)
			}
		}
		for _, typ := range []string{TypeDockercfg, TypeDocker} {
			snippet, _, err := ToECS(typ, creds)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseEnvFile(bytes.NewReader([]byte(snippet)), "g")
			if err != nil {
				t.Fatal(err)
			}
			a := Analyze(back, nil).Auth
			got := map[string]string{}
			for _, e := range a.Entries {
				if e.Usable {
					got[e.Key] = e.Username + "\x00" + e.Password
				}
			}
			perKey := map[string]int{}
			for _, c := range creds {
				perKey[ecsKey(c.Key)]++
			}
			for _, c := range creds {
				if perKey[ecsKey(c.Key)] > 1 {
					continue // colliding keys: the agent keeps a random one, so do we
				}
				if typ == TypeDocker && c.Username == "" && c.Password == "" {
					continue // the docker type cannot express empty credentials
				}
				k := stripScheme(ecsKey(c.Key))
				if v, ok := got[k]; ok && v != c.Username+"\x00"+c.Password {
					t.Fatalf("%s: %q changed to %q", typ, c.Key, v)
				}
			}
		}
	})
}
