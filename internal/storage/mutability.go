package storage

// TagImmutable reports whether an existing tag may not be moved under the
// repository's ECR mutability setting. Filters are ECR WILDCARD patterns in
// which '*' matches any run of characters:
//   - IMMUTABLE_WITH_EXCLUSION: immutable except tags matching a filter;
//   - MUTABLE_WITH_EXCLUSION: mutable except tags matching a filter.
func TagImmutable(mutability string, filters []string, tag string) bool {
	switch mutability {
	case "IMMUTABLE":
		return true
	case "IMMUTABLE_WITH_EXCLUSION":
		return !matchAnyWildcard(filters, tag)
	case "MUTABLE_WITH_EXCLUSION":
		return matchAnyWildcard(filters, tag)
	}
	return false
}

func matchAnyWildcard(patterns []string, s string) bool {
	for _, p := range patterns {
		if WildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// WildcardMatch matches s against p where '*' is the only metacharacter
// (iterative, linear backtracking; no regexp compilation per tag).
func WildcardMatch(p, s string) bool {
	star, match := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && p[i] == '*':
			star, match = i, j
			i++
		case i < len(p) && p[i] == s[j]:
			i++
			j++
		case star >= 0:
			i = star + 1
			match++
			j = match
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
