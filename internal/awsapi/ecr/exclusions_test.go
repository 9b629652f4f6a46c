package ecr_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
)

func TestPullTimeUpdateExclusions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var want []string
	for i := range 3 {
		p := fmt.Sprintf("arn:aws:iam::111111111111:role/scanner-%d", i)
		out := must[*ecrsdk.RegisterPullTimeUpdateExclusionOutput](t)(e.root.RegisterPullTimeUpdateExclusion(ctx, &ecrsdk.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(p)}))
		if *out.PrincipalArn != p || out.CreatedAt == nil {
			t.Fatalf("register %+v", out)
		}
		want = append(want, p)
	}
	_, err := e.root.RegisterPullTimeUpdateExclusion(ctx, &ecrsdk.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(want[0])})
	apiErr(t, err, "ExclusionAlreadyExistsException", want[0])
	_, err = e.root.RegisterPullTimeUpdateExclusion(ctx, &ecrsdk.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String("arn:aws:iam::111111111111:group/devs")})
	apiErr(t, err, "InvalidParameterException", "Invalid parameter at 'principalArn' failed to satisfy constraint: 'must satisfy regular expression")

	var got []string
	var token *string
	for pages := 0; ; pages++ {
		page := must[*ecrsdk.ListPullTimeUpdateExclusionsOutput](t)(e.root.ListPullTimeUpdateExclusions(ctx, &ecrsdk.ListPullTimeUpdateExclusionsInput{MaxResults: aws.Int32(2), NextToken: token}))
		if len(page.PullTimeUpdateExclusions) > 2 || pages > 2 {
			t.Fatalf("page %d of %d", pages, len(page.PullTimeUpdateExclusions))
		}
		got = append(got, page.PullTimeUpdateExclusions...)
		if token = page.NextToken; token == nil {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}

	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")
	_, err = ro.RegisterPullTimeUpdateExclusion(ctx, &ecrsdk.RegisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String("arn:aws:iam::111111111111:user/ro")})
	apiErr(t, err, "AccessDeniedException", "ecr:RegisterPullTimeUpdateExclusion")

	de := must[*ecrsdk.DeregisterPullTimeUpdateExclusionOutput](t)(e.root.DeregisterPullTimeUpdateExclusion(ctx, &ecrsdk.DeregisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(want[1])}))
	if *de.PrincipalArn != want[1] {
		t.Fatalf("deregister %+v", de)
	}
	_, err = e.root.DeregisterPullTimeUpdateExclusion(ctx, &ecrsdk.DeregisterPullTimeUpdateExclusionInput{PrincipalArn: aws.String(want[1])})
	apiErr(t, err, "ExclusionNotFoundException", want[1])
	left := must[*ecrsdk.ListPullTimeUpdateExclusionsOutput](t)(e.root.ListPullTimeUpdateExclusions(ctx, &ecrsdk.ListPullTimeUpdateExclusionsInput{}))
	if len(left.PullTimeUpdateExclusions) != 2 || left.NextToken != nil {
		t.Fatalf("left %+v", left)
	}
}

// TestPullTimeUpdateExclusionLimit pins the bound shared by the stored
// registry documents (checkDocLimit) and its message.
func TestPullTimeUpdateExclusionLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	register := func(i int) error {
		_, err := e.root.RegisterPullTimeUpdateExclusion(ctx, &ecrsdk.RegisterPullTimeUpdateExclusionInput{
			PrincipalArn: aws.String(fmt.Sprintf("arn:aws:iam::111111111111:role/r-%03d", i))})
		return err
	}
	for i := range 100 {
		if err := register(i); err != nil {
			t.Fatalf("exclusion %d: %v", i, err)
		}
	}
	apiErr(t, register(100), "LimitExceededException", "The registry already has the maximum of 100 pull time update exclusions")
}
