package iam

// Message renders AWS's denial text (§6.8); "" when the request is allowed.
//
//	User: arn:aws:iam::111111111111:user/release is not authorized to perform:
//	ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app
//	because no resource-based policy allows the ecr:BatchGetImage action
func (d Decision) Message(req *Request) string {
	if d.Allowed {
		return ""
	}
	resource := req.Resource
	if resource == "" {
		resource = "*"
	}
	msg := "User: " + req.Principal.callerARN() + " is not authorized to perform: " + req.Action + " on resource: " + resource
	if c := denialContext(d.Denial, req.Action); c != "" {
		msg += " " + c
	}
	return msg
}

func denialContext(kind DenialKind, action string) string {
	switch kind {
	case NoIdentityAllow:
		return "because no identity-based policy allows the " + action + " action"
	case NoResourceAllow:
		return "because no resource-based policy allows the " + action + " action"
	case NoBoundaryAllow:
		return "because no permissions boundary allows the " + action + " action"
	case NoSessionAllow:
		return "because no session policy allows the " + action + " action"
	case ExplicitDenyIdentity:
		return "with an explicit deny in an identity-based policy"
	case ExplicitDenyResource:
		return "with an explicit deny in a resource-based policy"
	case ExplicitDenyBoundary:
		return "with an explicit deny in a permissions boundary"
	case ExplicitDenySession:
		return "with an explicit deny in a session policy"
	}
	return ""
}
