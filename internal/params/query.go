package params

import (
	"context"
	"database/sql"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
)

// Filter is a ParameterStringFilter (or a legacy ParametersFilter converted
// by the adapter). An empty Option means the key's default.
type Filter struct {
	Key    string
	Option string
	Values []string
}

// Filter options.
const (
	OptEquals     = "Equals"
	OptBeginsWith = "BeginsWith"
	OptContains   = "Contains"
	OptRecursive  = "Recursive"
	OptOneLevel   = "OneLevel"
)

// Page limits and defaults from the model.
const (
	MaxByPathResults   = 10
	MaxDescribeResults = 50
)

// compiledFilter is a validated filter with its option resolved.
type compiledFilter struct {
	key, option string
	values      []string
}

// validateFilters checks keys, options and values; byPath restricts the
// keys to those GetParametersByPath accepts.
func validateFilters(fs []Filter, byPath bool) ([]compiledFilter, error) {
	out := make([]compiledFilter, 0, len(fs))
	seen := map[string]bool{}
	for _, f := range fs {
		key := f.Key
		if byPath {
			switch {
			case key == "Type", key == "KeyId", key == "Label", strings.HasPrefix(key, "tag:"):
			default:
				return nil, apierr.New(apierr.InvalidFilterKey, "The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId, Label].", key)
			}
		}
		var allowed []string
		switch {
		case byPath:
			// ParameterStringFilter: every GetParametersByPath key takes
			// Equals and BeginsWith.
			allowed = []string{OptEquals, OptBeginsWith}
		case key == "Name":
			allowed = []string{OptEquals, OptBeginsWith, OptContains}
		case key == "Path":
			allowed = []string{OptOneLevel, OptRecursive}
		case key == "Type", key == "Tier", key == "DataType":
			allowed = []string{OptEquals}
		case key == "KeyId", key == "Label", strings.HasPrefix(key, "tag:") && len(key) > 4:
			allowed = []string{OptEquals, OptBeginsWith}
		default:
			return nil, apierr.New(apierr.InvalidFilterKey, "The following filter key is not valid: %s. Valid filter keys include: [Path, Name, Type, KeyId, Label, Tier, DataType, tag:<key>].", key)
		}
		if seen[key] {
			return nil, apierr.New(apierr.InvalidFilterKey, "The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
		}
		seen[key] = true
		opt := f.Option
		if opt == "" {
			opt = allowed[0]
		}
		if !contains(allowed, opt) {
			return nil, apierr.New(apierr.InvalidFilterOption, "The following filter option is not valid: %s. Valid options include: [%s].", opt, strings.Join(allowed, ", "))
		}
		if len(f.Values) == 0 || len(f.Values) > 50 {
			return nil, apierr.New(apierr.InvalidFilterValue, "The following filter values are missing or too many: %s. Each filter takes 1 to 50 values.", key)
		}
		for _, v := range f.Values {
			if v == "" || len(v) > 1024 {
				return nil, apierr.New(apierr.InvalidFilterValue, "The following filter value is not valid: %q. Values must be 1 to 1024 characters.", v)
			}
			switch key {
			case "Type":
				if opt == OptEquals && v != TypeString && v != TypeStringList && v != TypeSecureString {
					return nil, apierr.New(apierr.InvalidFilterValue, "The following filter value is not valid: %s. Valid values include: [String, StringList, SecureString].", v)
				}
			case "Path":
				if _, err := ValidatePath(v); err != nil {
					return nil, apierr.New(apierr.InvalidFilterValue, "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
				}
			}
		}
		out = append(out, compiledFilter{key: key, option: opt, values: f.Values})
	}
	return out, nil
}

func (f compiledFilter) match(p *Parameter) bool {
	for _, v := range f.values {
		if f.matchOne(p, v) {
			return true
		}
	}
	return false
}

func (f compiledFilter) matchOne(p *Parameter, v string) bool {
	str := func(have string) bool {
		switch f.option {
		case OptBeginsWith:
			return strings.HasPrefix(have, v)
		case OptContains:
			return strings.Contains(have, v)
		}
		return have == v
	}
	switch f.key {
	case "Name":
		// SSM treats "USER" and "/USER" alike here (moto does the same).
		if f.option == OptContains {
			return str(p.Name)
		}
		name, want := "/"+strings.TrimPrefix(p.Name, "/"), "/"+strings.TrimPrefix(v, "/")
		if f.option == OptBeginsWith {
			return strings.HasPrefix(name, want)
		}
		return name == want
	case "Path":
		return underPath(p.Name, strings.TrimSuffix(v, "/"), f.option == OptRecursive)
	case "Type":
		return str(p.Type)
	case "KeyId":
		return p.KeyID != "" && str(p.KeyID)
	case "Label":
		for _, l := range p.Labels {
			if str(l) {
				return true
			}
		}
		return false
	case "Tier":
		return p.Tier == v
	case "DataType":
		return p.DataType == v
	}
	// tag:K — berth does not store parameter tags yet, so nothing matches.
	return false
}

// underPath reports whether name sits below path (one level or any depth).
// The root path "/" also holds the non-hierarchical names.
func underPath(name, path string, recursive bool) bool {
	var rest string
	if path == "" || path == "/" {
		rest = strings.TrimPrefix(name, "/")
	} else {
		if !strings.HasPrefix(name, path+"/") {
			return false
		}
		rest = name[len(path)+1:]
	}
	return rest != "" && (recursive || !strings.Contains(rest, "/"))
}

// ByPathInput is a GetParametersByPath request after decoding.
type ByPathInput struct {
	Path      string
	Recursive bool
	Filters   []Filter
	Decrypt   bool
	MaxResult int
	NextToken string
}

// ByPath lists the latest versions of parameters below a path.
func (s *Service) ByPath(ctx context.Context, sc Scope, in ByPathInput) ([]*Parameter, string, error) {
	path, err := ValidatePath(in.Path)
	if err != nil {
		return nil, "", err
	}
	fs, err := validateFilters(in.Filters, true)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageSize(in.MaxResult, MaxByPathResults)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken(in.NextToken, tokList)
	if err != nil {
		return nil, "", err
	}
	prefix := ""
	if path != "/" {
		prefix = path + "/"
	}
	match := func(p *Parameter) bool {
		if !underPath(p.Name, path, in.Recursive) {
			return false
		}
		for _, f := range fs {
			if !f.match(p) {
				return false
			}
		}
		return true
	}
	ps, vals, next, err := s.scan(ctx, sc, prefix, after, limit, match)
	if err != nil {
		return nil, "", err
	}
	for i, p := range ps {
		if err := s.fillValue(sc, p, vals[i], in.Decrypt); err != nil {
			return nil, "", err
		}
	}
	return ps, next, nil
}

// DescribeInput is a DescribeParameters request after decoding.
type DescribeInput struct {
	Filters   []Filter
	MaxResult int
	NextToken string
}

// Describe lists parameter metadata (latest versions, no values).
func (s *Service) Describe(ctx context.Context, sc Scope, in DescribeInput) ([]*Parameter, string, error) {
	fs, err := validateFilters(in.Filters, false)
	if err != nil {
		return nil, "", err
	}
	limit, err := pageSize(in.MaxResult, MaxDescribeResults)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeToken(in.NextToken, tokList)
	if err != nil {
		return nil, "", err
	}
	ps, _, next, err := s.scan(ctx, sc, "", after, limit, func(p *Parameter) bool {
		for _, f := range fs {
			if !f.match(p) {
				return false
			}
		}
		return true
	})
	for _, p := range ps {
		p.Value = ""
	}
	return ps, next, err
}

func pageSize(n, max int) (int, error) {
	switch {
	case n == 0:
		return max, nil
	case n < 1 || n > max:
		return 0, apierr.New(apierr.ValidationException, "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", n, max)
	}
	return n, nil
}

// scanBatch bounds how many rows one query reads while filtering.
const scanBatch = 200

// scan walks the latest versions in name order after `after` (restricted to
// names starting with prefix when set), keeps those match accepts, and stops
// at limit. The next token names the last row returned when more match.
func (s *Service) scan(ctx context.Context, sc Scope, prefix, after string, limit int, match func(*Parameter) bool) ([]*Parameter, [][]byte, string, error) {
	var out []*Parameter
	var vals [][]byte
	cursor := after
	if prefix != "" && cursor < prefix {
		cursor = prefix[:len(prefix)-1] // just below every name with the prefix
	}
	for {
		var batch []*Parameter
		var bvals [][]byte
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			q := `SELECT ` + prefixCols("v") + ` FROM ssm_parameters p JOIN ssm_parameter_versions v
				ON v.account = p.account AND v.region = p.region AND v.name = p.name AND v.version = p.version
				WHERE p.account = ? AND p.region = ? AND p.name > ?`
			args := []any{sc.Account, sc.Region, cursor}
			if prefix != "" {
				q += ` AND p.name < ?`
				args = append(args, prefixEnd(prefix))
			}
			q += ` ORDER BY p.name LIMIT ?`
			args = append(args, scanBatch)
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				p, v, err := scanVersion(rows)
				if err != nil {
					return err
				}
				batch, bvals = append(batch, p), append(bvals, v)
			}
			return rows.Err()
		})
		if err != nil {
			return nil, nil, "", err
		}
		for i, p := range batch {
			if !match(p) {
				continue
			}
			if len(out) == limit {
				return out, vals, encodeToken(tokList, out[len(out)-1].Name), nil
			}
			out, vals = append(out, p), append(vals, bvals[i])
		}
		if len(batch) < scanBatch {
			return out, vals, "", nil
		}
		cursor = batch[len(batch)-1].Name
	}
}

// prefixEnd is the smallest string greater than every string with prefix
// (prefixes here end in '/', so incrementing the last byte cannot overflow).
func prefixEnd(prefix string) string {
	b := []byte(prefix)
	b[len(b)-1]++
	return string(b)
}
