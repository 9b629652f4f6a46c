package iam

import (
	"bytes"
	"encoding/json"
)

type canonicalStatement struct {
	Sid          string                         `json:"Sid,omitempty"`
	Effect       string                         `json:"Effect"`
	Principal    any                            `json:"Principal,omitempty"`
	NotPrincipal any                            `json:"NotPrincipal,omitempty"`
	Action       []string                       `json:"Action,omitempty"`
	NotAction    []string                       `json:"NotAction,omitempty"`
	Resource     []string                       `json:"Resource,omitempty"`
	NotResource  []string                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string][]string `json:"Condition,omitempty"`
}

type canonicalPolicy struct {
	Version   string               `json:"Version"`
	ID        string               `json:"Id,omitempty"`
	Statement []canonicalStatement `json:"Statement"`
}

// Canonical renders the policy in a normal form: fixed field order, every
// list as an array, condition operators and keys sorted. Parsing it again
// yields an equivalent policy.
func (p *Policy) Canonical() string {
	cp := canonicalPolicy{Version: p.version, ID: p.id, Statement: make([]canonicalStatement, len(p.raw))}
	for i := range p.raw {
		rs := &p.raw[i]
		cs := &cp.Statement[i]
		cs.Sid = rs.sid
		cs.Effect = "Allow"
		if rs.deny {
			cs.Effect = "Deny"
		}
		if rs.principal != nil {
			var pv any = "*"
			if !rs.principal.star {
				pv = rs.principal.m
			}
			if rs.notPrincipal {
				cs.NotPrincipal = pv
			} else {
				cs.Principal = pv
			}
		}
		if rs.notAction {
			cs.NotAction = rs.actions
		} else {
			cs.Action = rs.actions
		}
		if rs.notResource {
			cs.NotResource = rs.resources
		} else {
			cs.Resource = rs.resources
		}
		for _, c := range rs.conditions {
			if cs.Condition == nil {
				cs.Condition = map[string]map[string][]string{}
			}
			if cs.Condition[c.op] == nil {
				cs.Condition[c.op] = map[string][]string{}
			}
			cs.Condition[c.op][c.key] = c.values
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cp); err != nil {
		return "" // cannot happen: only strings, slices and maps of strings
	}
	return string(bytes.TrimRight(buf.Bytes(), "\n"))
}
