package iam

import (
	"strings"
	"testing"
)

func TestAWSManagedPolicies(t *testing.T) {
	wantActions := map[string]int{
		"AmazonEC2ContainerRegistryReadOnly":   12,
		"AmazonEC2ContainerRegistryPowerUser":  16,
		"AmazonEC2ContainerRegistryFullAccess": 3,
		"AmazonEC2ContainerRegistryPullOnly":   4,
	}
	got := AWSManagedPolicies()
	if len(got) != len(wantActions) {
		t.Fatalf("got %d policies", len(got))
	}
	byName := map[string]*Policy{}
	for _, mp := range got {
		n, ok := wantActions[mp.Name]
		if !ok {
			t.Fatalf("unexpected policy %s", mp.Name)
		}
		if mp.ARN != "arn:aws:iam::aws:policy/"+mp.Name || mp.Path != "/" || mp.Description == "" || mp.CreateDate.IsZero() {
			t.Errorf("%s: bad metadata %+v", mp.Name, mp)
		}
		if err := CheckPolicySize(mp.Document, MaxIdentityPolicySize); err != nil {
			t.Errorf("%s: %v", mp.Name, err)
		}
		p := mustParse(t, mp.Document, IdentityPolicy)
		count := 0
		for _, s := range p.raw {
			count += len(s.actions)
			if len(s.resources) != 1 || s.resources[0] != "*" {
				t.Errorf("%s: resources %v", mp.Name, s.resources)
			}
		}
		if count != n {
			t.Errorf("%s: %d actions, want %d", mp.Name, count, n)
		}
		byName[mp.Name] = p
	}
	if got[0].DefaultVersionID != "v3" || got[3].DefaultVersionID != "v1" {
		t.Errorf("versions: %s %s", got[0].DefaultVersionID, got[3].DefaultVersionID)
	}
	// Fresh values each call.
	again := AWSManagedPolicies()
	again[0].Document = "changed"
	if AWSManagedPolicies()[0].Document == "changed" {
		t.Error("AWSManagedPolicies shares state")
	}

	alice := user(acctA, "alice")
	tests := []struct {
		policy, action string
		ctx            map[string][]string
		want           bool
	}{
		{"AmazonEC2ContainerRegistryReadOnly", "ecr:BatchGetImage", nil, true},
		{"AmazonEC2ContainerRegistryReadOnly", "ecr:PutImage", nil, false},
		{"AmazonEC2ContainerRegistryPowerUser", "ecr:PutImage", nil, true},
		{"AmazonEC2ContainerRegistryPowerUser", "ecr:DeleteRepository", nil, false},
		{"AmazonEC2ContainerRegistryFullAccess", "ecr:DeleteRepository", nil, true},
		{"AmazonEC2ContainerRegistryFullAccess", "iam:CreateServiceLinkedRole", map[string][]string{"iam:AWSServiceName": {"replication.ecr.amazonaws.com"}}, true},
		{"AmazonEC2ContainerRegistryFullAccess", "iam:CreateServiceLinkedRole", map[string][]string{"iam:AWSServiceName": {"ec2.amazonaws.com"}}, false},
		{"AmazonEC2ContainerRegistryPullOnly", "ecr:GetDownloadUrlForLayer", nil, true},
		{"AmazonEC2ContainerRegistryPullOnly", "ecr:DescribeRepositories", nil, false},
	}
	for _, tt := range tests {
		d := Evaluate(&Request{Principal: alice, Action: tt.action, Resource: repoA, IdentityPolicies: []*Policy{byName[tt.policy]}, Context: tt.ctx})
		if d.Allowed != tt.want {
			t.Errorf("%s %s: allowed=%v, want %v", tt.policy, tt.action, d.Allowed, tt.want)
		}
	}
	if !strings.Contains(got[2].Document, `"iam:AWSServiceName"`) {
		t.Error("FullAccess lost its condition")
	}
}
