package iam

import "time"

// ManagedPolicy is an AWS-managed policy berth preloads.
type ManagedPolicy struct {
	Name, ARN, Path, DefaultVersionID, Document, Description string
	CreateDate, UpdateDate                                   time.Time
}

const readOnlyActions = `"ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:GetRepositoryPolicy",
        "ecr:DescribeRepositories",
        "ecr:ListImages",
        "ecr:DescribeImages",
        "ecr:BatchGetImage",
        "ecr:GetLifecyclePolicy",
        "ecr:GetLifecyclePolicyPreview",
        "ecr:ListTagsForResource",
        "ecr:DescribeImageScanFindings"`

// AWSManagedPolicies returns the AWS-managed ECR policies with their real
// documents (as published by AWS and mirrored by moto 5.2.1). Each call
// returns fresh values.
func AWSManagedPolicies() []ManagedPolicy {
	date := func(s string) time.Time {
		t, _ := time.Parse(time.RFC3339, s)
		return t
	}
	mk := func(name, version, created, updated, desc, doc string) ManagedPolicy {
		return ManagedPolicy{
			Name:             name,
			ARN:              "arn:aws:iam::aws:policy/" + name,
			Path:             "/",
			DefaultVersionID: version,
			Document:         doc,
			Description:      desc,
			CreateDate:       date(created),
			UpdateDate:       date(updated),
		}
	}
	return []ManagedPolicy{
		mk("AmazonEC2ContainerRegistryReadOnly", "v3", "2015-12-21T17:04:15Z", "2019-12-10T20:56:32Z",
			"Provides read-only access to Amazon EC2 Container Registry repositories.",
			`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        `+readOnlyActions+`
      ],
      "Resource": "*"
    }
  ]
}`),
		mk("AmazonEC2ContainerRegistryPowerUser", "v3", "2015-12-21T17:05:33Z", "2019-12-10T20:48:08Z",
			"Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.",
			`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        `+readOnlyActions+`,
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage"
      ],
      "Resource": "*"
    }
  ]
}`),
		mk("AmazonEC2ContainerRegistryFullAccess", "v3", "2015-12-21T17:06:48Z", "2020-12-05T00:04:19Z",
			"Provides administrative access to Amazon ECR resources",
			`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ecr:*",
        "cloudtrail:LookupEvents"
      ],
      "Resource": "*"
    },
    {
      "Effect": "Allow",
      "Action": [
        "iam:CreateServiceLinkedRole"
      ],
      "Resource": "*",
      "Condition": {
        "StringEquals": {
          "iam:AWSServiceName": [
            "replication.ecr.amazonaws.com"
          ]
        }
      }
    }
  ]
}`),
		mk("AmazonEC2ContainerRegistryPullOnly", "v1", "2024-10-04T16:58:49Z", "2024-10-04T16:58:49Z",
			"Provides read-only access to Amazon ECR repositories to pull images.",
			`{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ecr:GetAuthorizationToken",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchImportUpstreamImage"
      ],
      "Resource": "*"
    }
  ]
}`),
	}
}
