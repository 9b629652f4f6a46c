package awsapi

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
)

func TestCallDecodeJSON(t *testing.T) {
	type input struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	}
	tests := []struct {
		name     string
		body     string
		want     input
		wantCode apierr.Code
		wantMsg  string
	}{
		{name: "empty body is {}", body: ""},
		{name: "members", body: `{"name":"a","count":2,"unknown":true}`, want: input{Name: "a", Count: 2}},
		{name: "wrong member type", body: `{"count":"x"}`, wantCode: apierr.SerializationException,
			wantMsg: "STRING_VALUE value can not be converted for member 'count'"},
		{name: "not JSON", body: `nope`, wantCode: apierr.SerializationException},
		{name: "trailing data", body: `{} {}`, wantCode: apierr.SerializationException, wantMsg: "unexpected data after the JSON object"},
		{name: "too large", body: `{"name":"` + strings.Repeat("x", protocol.MaxJSONBody) + `"}`, wantCode: apierr.PayloadTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got input
			err := (&Call{Body: []byte(tc.body)}).DecodeJSON(&got)
			if tc.wantCode == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if !apierr.HasCode(err, tc.wantCode) {
				t.Fatalf("err = %v, want code %s", err, tc.wantCode)
			}
			_, _, msg := apierr.JSON(err)
			if strings.HasPrefix(msg, protocol.ErrSerialization.Error()) {
				t.Errorf("message %q keeps the internal prefix", msg)
			}
			if tc.wantMsg != "" && msg != tc.wantMsg {
				t.Errorf("message = %q, want %q", msg, tc.wantMsg)
			}
		})
	}
}
