package ecrhost

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		host    string
		ok      bool
		account string
		region  string
	}{
		{"222222222222.dkr.ecr.eu-west-2.localhost:5000", true, "222222222222", "eu-west-2"},
		{"111111111111.dkr.ecr.us-east-1.amazonaws.com", true, "111111111111", "us-east-1"},
		{"111111111111.DKR.ECR.us-east-1.example.com", true, "111111111111", "us-east-1"},
		{"127.0.0.1:5000", false, "", ""},
		{"localhost", false, "", ""},
		{"11111111111.dkr.ecr.us-east-1.x", false, "", ""},
		{"111111111111.dkr.ecr", false, "", ""},
		{"abcdefghijkl.dkr.ecr.us-east-1.x", false, "", ""},
		{"[::1]:5000", false, "", ""},
	} {
		r, ok := Parse(tc.host)
		if ok != tc.ok || r.Account != tc.account || r.Region != tc.region {
			t.Errorf("Parse(%q) = %+v, %v; want %s %s %v", tc.host, r, ok, tc.account, tc.region, tc.ok)
		}
	}
	if h := Host("222222222222", "eu-west-2", "localhost:5000"); h != "222222222222.dkr.ecr.eu-west-2.localhost:5000" {
		t.Fatal(h)
	}
}

func TestAPIDomain(t *testing.T) {
	for _, tc := range []struct {
		host, domain string
		ok           bool
	}{
		{"api.ecr.us-east-1.amazonaws.com", "amazonaws.com", true},
		{"api.ecr.eu-west-2.registry.test:5443", "registry.test:5443", true},
		{"ecr.us-east-1.amazonaws.com", "amazonaws.com", true},
		{"API.ECR.us-east-1.Example.com", "Example.com", true},
		{"api.ecr.us-east-1", "", false},
		{"api.ecr.us-east-1.:5000", "", false},
		{"ecr..example.com", "", false},
		{"111111111111.dkr.ecr.us-east-1.amazonaws.com", "", false},
		{"localhost:5000", "", false},
		{"registry.example.com", "", false},
		{"ecr.example.com", "", false},
		{"ecr.registry.example.com", "", false},
		{"api.ecr.us-gov-west-1.amazonaws.com", "amazonaws.com", true},
		{"api.ecr.cn-north-1.amazonaws.com.cn", "amazonaws.com.cn", true},
		{"api.ecr.us-east-x.amazonaws.com", "", false},
	} {
		d, ok := APIDomain(tc.host)
		if d != tc.domain || ok != tc.ok {
			t.Errorf("APIDomain(%q) = %q, %v; want %q, %v", tc.host, d, ok, tc.domain, tc.ok)
		}
	}
}
