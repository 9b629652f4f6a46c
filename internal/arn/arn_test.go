package arn

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    ARN
		wantErr bool
	}{
		{in: "arn:aws:ecr:eu-west-2:222222222222:repository/a/b", want: ARN{"aws", "ecr", "eu-west-2", "222222222222", "repository/a/b"}},
		{in: "arn:aws:iam::111111111111:root", want: ARN{"aws", "iam", "", "111111111111", "root"}},
		{in: "arn:aws:s3:::bucket/key:with:colons", want: ARN{"aws", "s3", "", "", "bucket/key:with:colons"}},
		{in: "*", wantErr: true},
		{in: "arn:aws:ecr", wantErr: true},
		{in: "arn:aws:ecr:r:a:", wantErr: true},
		{in: "urn:aws:ecr:r:a:x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("Parse(%q) err = %v", tt.in, err)
		}
		if err == nil && (got != tt.want || got.String() != tt.in) {
			t.Errorf("Parse(%q) = %+v (%s)", tt.in, got, got)
		}
	}
}

func TestBuilders(t *testing.T) {
	tests := []struct{ got, want string }{
		{User("111111111111", "/", "bob"), "arn:aws:iam::111111111111:user/bob"},
		{User("111111111111", "/dev/", "bob"), "arn:aws:iam::111111111111:user/dev/bob"},
		{Role("111111111111", "", "r"), "arn:aws:iam::111111111111:role/r"},
		{AssumedRole("111111111111", "r", "s"), "arn:aws:sts::111111111111:assumed-role/r/s"},
		{Root("111111111111"), "arn:aws:iam::111111111111:root"},
		{Repository("eu-west-2", "222222222222", "app"), "arn:aws:ecr:eu-west-2:222222222222:repository/app"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s want %s", tt.got, tt.want)
		}
	}
	if !IsAccountID("123456789012") || IsAccountID("12345678901a") || IsAccountID("1234") {
		t.Error("IsAccountID")
	}
}
