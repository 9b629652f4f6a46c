package protocol

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden files")

const (
	iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"
	reqID = "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"
)

var created = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

type iamUser struct {
	Path       string  `xml:"Path"`
	UserName   string  `xml:"UserName"`
	UserID     string  `xml:"UserId"`
	Arn        string  `xml:"Arn"`
	CreateDate ISOTime `xml:"CreateDate"`
	// PasswordLastUsed is unset in the fixtures and must vanish.
	PasswordLastUsed ISOTime `xml:"PasswordLastUsed"`
}

func bob() iamUser {
	return iamUser{Path: "/", UserName: "bob", UserID: "AIDAEXAMPLEEXAMPLE123", Arn: "arn:aws:iam::123456789012:user/bob", CreateDate: ISOTime(created)}
}

type ecrRepo struct {
	RepositoryName string    `json:"repositoryName"`
	CreatedAt      EpochTime `json:"createdAt"`
	ImageTagMut    string    `json:"imageTagMutability,omitempty"`
}

// TestDocShapes pins the two §1.2 examples from the protocol reference
// (whitespace between tags removed, placeholders filled in).
func TestDocShapes(t *testing.T) {
	const createUser = `<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
    <CreateUserResult><User><Path>/</Path><UserName>bob</UserName><UserId>AIDAEXAMPLEEXAMPLE123</UserId>
      <Arn>arn:aws:iam::123456789012:user/bob</Arn><CreateDate>2024-05-01T12:00:00Z</CreateDate></User>
    </CreateUserResult>
    <ResponseMetadata><RequestId>uuid</RequestId></ResponseMetadata>
  </CreateUserResponse>`
	const noSuchEntity = `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
    <Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.</Message></Error>
    <RequestId>uuid</RequestId>
  </ErrorResponse>`
	squeeze := regexp.MustCompile(`>\s+<`)
	rec := httptest.NewRecorder()
	WriteQuery(rec, "CreateUser", iamNS, "uuid", struct {
		User iamUser `xml:"User"`
	}{bob()})
	if want := squeeze.ReplaceAllString(createUser, "><"); rec.Body.String() != want {
		t.Errorf("CreateUser\n got %s\nwant %s", rec.Body, want)
	}
	rec = httptest.NewRecorder()
	WriteQueryError(rec, iamNS, "uuid", 404, "NoSuchEntity", "The user with name bob cannot be found.")
	if want := squeeze.ReplaceAllString(noSuchEntity, "><"); rec.Body.String() != want {
		t.Errorf("ErrorResponse\n got %s\nwant %s", rec.Body, want)
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		file   string
		status int
		header http.Header
		write  func(w http.ResponseWriter)
	}{
		{"iam/create_user.xml", 200, http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {reqID}}, func(w http.ResponseWriter) {
			WriteQuery(w, "CreateUser", iamNS, reqID, struct {
				User iamUser `xml:"User"`
			}{bob()})
		}},
		{"iam/delete_user.xml", 200, nil, func(w http.ResponseWriter) { WriteQuery(w, "DeleteUser", iamNS, reqID, nil) }},
		{"iam/list_users.xml", 200, nil, func(w http.ResponseWriter) {
			WriteQuery(w, "ListUsers", iamNS, reqID, struct {
				Users       Members[iamUser] `xml:"Users"`
				IsTruncated bool             `xml:"IsTruncated"`
			}{Members[iamUser]{bob(), bob()}, false})
		}},
		{"iam/list_users_empty.xml", 200, nil, func(w http.ResponseWriter) {
			WriteQuery(w, "ListUsers", iamNS, reqID, struct {
				Users       Members[iamUser] `xml:"Users"`
				IsTruncated bool             `xml:"IsTruncated"`
			}{nil, false})
		}},
		{"iam/error_no_such_entity.xml", 404, http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {reqID}}, func(w http.ResponseWriter) {
			WriteQueryError(w, iamNS, reqID, 404, "NoSuchEntity", "The user with name bob cannot be found.")
		}},
		{"sts/error_service_failure.xml", 500, nil, func(w http.ResponseWriter) {
			WriteQueryError(w, stsNS, reqID, 500, "ServiceFailure", "a <b> & 'c'")
		}},
		{"ecr/describe_repositories.json", 200, http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {reqID}}, func(w http.ResponseWriter) {
			WriteJSON(w, reqID, map[string]any{"repositories": []ecrRepo{{RepositoryName: "team/app", CreatedAt: EpochTime(created.Add(123 * time.Millisecond))}}})
		}},
		{"ecr/empty_output.json", 200, nil, func(w http.ResponseWriter) { WriteJSON(w, reqID, nil) }},
		{"ecr/error_repository_not_found.json", 400, http.Header{"X-Amzn-Errortype": {"RepositoryNotFoundException"}, "Content-Type": {"application/x-amz-json-1.1"}}, func(w http.ResponseWriter) {
			WriteJSONError(w, reqID, 400, "RepositoryNotFoundException", "The repository with name 'x' does not exist in the registry with id '222222222222'")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.write(rec)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			for k, v := range tc.header {
				if got := rec.Header().Get(k); got != v[0] {
					t.Errorf("header %s = %q, want %q", k, got, v[0])
				}
			}
			path := filepath.Join("testdata", "golden", tc.file)
			if *update {
				_ = os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, rec.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Fatalf("body differs from %s\n got %s\nwant %s", path, rec.Body.Bytes(), want)
			}
		})
	}
}
