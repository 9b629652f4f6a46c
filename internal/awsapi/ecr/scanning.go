package ecr

import (
	"context"
	"slices"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/ecrhost"
)

// berth runs no vulnerability scanner. Scanning configuration is validated
// and stored (and reported back, per repository too); asking for a scan or
// its findings gets the answer ECR gives where no scan exists.

// ---- account settings ---------------------------------------------------------

// settingValues lists the values PutAccountSetting accepts for a setting
// the model documents; the first is AWS's default. The settings are stored
// and reported only: berth's scanning, registry-policy evaluation and blob
// mounting do not change with them.
func settingValues(name string) ([]string, bool) {
	switch name {
	case "BASIC_SCAN_TYPE_VERSION":
		return []string{"AWS_NATIVE"}, true
	case "REGISTRY_POLICY_SCOPE":
		return []string{"V2"}, true
	case "BLOB_MOUNTING":
		return []string{"DISABLED", "ENABLED"}, true
	}
	return nil, false
}

type accountSetting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func checkSettingName(name string) ([]string, error) {
	if name == "" {
		return nil, missing("name")
	}
	if err := checkLen("name", name, 1, 64); err != nil {
		return nil, err
	}
	values, ok := settingValues(name)
	if !ok {
		return nil, invalidParam("name", "Member must satisfy enum value set: [BASIC_SCAN_TYPE_VERSION, BLOB_MOUNTING, REGISTRY_POLICY_SCOPE]")
	}
	return values, nil
}

func (a *API) getAccountSetting(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	values, err := checkSettingName(in.Name)
	if err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:GetAccountSetting")
	if err != nil {
		return nil, err
	}
	s := accountSetting{Name: in.Name, Value: values[0]}
	if _, err := a.getJSON(ctx, reg, kindAccountSetting, in.Name, &s); err != nil {
		return nil, err
	}
	return s, nil
}

func (a *API) putAccountSetting(ctx context.Context, c *awsapi.Call) (any, error) {
	var in accountSetting
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	values, err := checkSettingName(in.Name)
	if err != nil {
		return nil, err
	}
	if in.Value == "" {
		return nil, missing("value")
	}
	if !slices.Contains(values, in.Value) {
		return nil, invalidParam("value", "Invalid value '%s' for account setting %s; valid values: %v", in.Value, in.Name, values)
	}
	reg, err := a.authRegistry(ctx, c, "ecr:PutAccountSetting")
	if err != nil {
		return nil, err
	}
	if err := a.putJSON(ctx, reg, kindAccountSetting, in.Name, in); err != nil {
		return nil, err
	}
	return in, nil
}

// ---- registry scanning configuration ---------------------------------------------

type scanFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type scanningRule struct {
	ScanFrequency     string       `json:"scanFrequency"`
	RepositoryFilters []scanFilter `json:"repositoryFilters"`
}

type registryScanning struct {
	ScanType string         `json:"scanType"`
	Rules    []scanningRule `json:"rules"`
}

const patScanFilter = `^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$`

func (a *API) checkScanning(cfg *registryScanning) error {
	if cfg.ScanType == "" {
		cfg.ScanType = "BASIC"
	}
	if err := checkEnum("scanType", cfg.ScanType, "BASIC", "ENHANCED"); err != nil {
		return err
	}
	if cfg.Rules == nil {
		cfg.Rules = []scanningRule{}
	}
	if err := checkListLen("rules", len(cfg.Rules), 0, 2); err != nil {
		return err
	}
	var freqs []string
	for _, r := range cfg.Rules {
		if r.ScanFrequency == "" {
			return missing("rules.scanFrequency")
		}
		if err := checkEnum("rules.scanFrequency", r.ScanFrequency, "SCAN_ON_PUSH", "CONTINUOUS_SCAN", "MANUAL"); err != nil {
			return err
		}
		switch {
		case cfg.ScanType == "BASIC" && r.ScanFrequency == "CONTINUOUS_SCAN":
			return invalidParam("rules.scanFrequency", "Scan frequency CONTINUOUS_SCAN requires the ENHANCED scan type")
		case cfg.ScanType == "ENHANCED" && r.ScanFrequency == "MANUAL":
			return invalidParam("rules.scanFrequency", "The ENHANCED scan type supports only the SCAN_ON_PUSH and CONTINUOUS_SCAN scan frequencies")
		case slices.Contains(freqs, r.ScanFrequency):
			return invalidParam("rules.scanFrequency", "Only one rule per scan frequency is allowed; %s appears twice", r.ScanFrequency)
		}
		freqs = append(freqs, r.ScanFrequency)
		if r.RepositoryFilters == nil {
			return missing("rules.repositoryFilters")
		}
		if err := checkListLen("rules.repositoryFilters", len(r.RepositoryFilters), 0, 100); err != nil {
			return err
		}
		for _, f := range r.RepositoryFilters {
			if err := checkEnum("rules.repositoryFilters.filterType", f.FilterType, "WILDCARD"); err != nil {
				return err
			}
			if err := checkLen("rules.repositoryFilters.filter", f.Filter, 1, 255); err != nil {
				return err
			}
			if !a.re.scanFilter.MatchString(f.Filter) {
				return invalidPattern("rules.repositoryFilters.filter", patScanFilter)
			}
		}
	}
	return nil
}

// registryScanning returns the stored configuration; found is false for a
// registry that never set one (then ECR's default, BASIC with no rules).
func (a *API) registryScanning(ctx context.Context, reg ecrhost.Registry) (cfg registryScanning, found bool, err error) {
	cfg = registryScanning{ScanType: "BASIC", Rules: []scanningRule{}}
	found, err = a.getJSON(ctx, reg, kindScanningConfig, singletonID, &cfg)
	return cfg, found, err
}

func (a *API) getRegistryScanningConfiguration(ctx context.Context, c *awsapi.Call) (any, error) {
	if err := c.DecodeJSON(&struct{}{}); err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:GetRegistryScanningConfiguration")
	if err != nil {
		return nil, err
	}
	cfg, _, err := a.registryScanning(ctx, reg)
	if err != nil {
		return nil, err
	}
	return struct {
		RegistryID            string           `json:"registryId"`
		ScanningConfiguration registryScanning `json:"scanningConfiguration"`
	}{reg.Account, cfg}, nil
}

func (a *API) putRegistryScanningConfiguration(ctx context.Context, c *awsapi.Call) (any, error) {
	var in registryScanning
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := a.checkScanning(&in); err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:PutRegistryScanningConfiguration")
	if err != nil {
		return nil, err
	}
	if err := a.putJSON(ctx, reg, kindScanningConfig, singletonID, in); err != nil {
		return nil, err
	}
	return struct {
		RegistryScanningConfiguration registryScanning `json:"registryScanningConfiguration"`
	}{in}, nil
}

// repoScanning is what BatchGetRepositoryScanningConfiguration reports for
// a repository: once the registry has a scanning configuration, its rules
// decide (CONTINUOUS_SCAN before SCAN_ON_PUSH, as ECR documents; no match is
// MANUAL) and the repository's own scanOnPush is ignored, as in ECR; before
// that, the repository's scanOnPush setting.
func repoScanning(cfg registryScanning, found bool, name string, repoScanOnPush bool) (freq string, filters []scanFilter) {
	if !found {
		if repoScanOnPush {
			return "SCAN_ON_PUSH", []scanFilter{}
		}
		return "MANUAL", []scanFilter{}
	}
	for _, want := range []string{"CONTINUOUS_SCAN", "SCAN_ON_PUSH"} {
		for _, r := range cfg.Rules {
			if r.ScanFrequency != want {
				continue
			}
			var matched []scanFilter
			for _, f := range r.RepositoryFilters {
				if wildcardMatch(f.Filter, name) {
					matched = append(matched, f)
				}
			}
			if len(matched) > 0 {
				return want, matched
			}
		}
	}
	return "MANUAL", []scanFilter{}
}

// batchGetRepositoryScanningConfiguration reports the scanning settings of
// each repository as the registry configuration and the repository's own
// setting make them (repoScanning); berth runs no scanner.
func (a *API) batchGetRepositoryScanningConfiguration(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RepositoryNames []string `json:"repositoryNames"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.RepositoryNames == nil {
		return nil, missing("repositoryNames")
	}
	if err := checkListLen("repositoryNames", len(in.RepositoryNames), 1, 25); err != nil {
		return nil, err
	}
	type config struct {
		RepositoryARN      string       `json:"repositoryArn"`
		RepositoryName     string       `json:"repositoryName"`
		ScanOnPush         bool         `json:"scanOnPush"`
		ScanFrequency      string       `json:"scanFrequency"`
		AppliedScanFilters []scanFilter `json:"appliedScanFilters"`
	}
	type failure struct {
		RepositoryName string `json:"repositoryName"`
		FailureCode    string `json:"failureCode"`
		FailureReason  string `json:"failureReason"`
	}
	out := struct {
		ScanningConfigurations []config  `json:"scanningConfigurations"`
		Failures               []failure `json:"failures"`
	}{[]config{}, []failure{}}
	reg := ecrhost.Registry{Account: c.Principal.Account, Region: c.Region}
	cfg, found, err := a.registryScanning(ctx, reg)
	if err != nil {
		return nil, err
	}
	for _, name := range in.RepositoryNames {
		if err := a.checkRepoName("repositoryNames", name); err != nil {
			return nil, err
		}
	}
	for _, name := range in.RepositoryNames {
		k, err := a.repoKey(c, "", name)
		if err != nil {
			return nil, err
		}
		r, err := a.repo(ctx, c, "ecr:BatchGetRepositoryScanningConfiguration", k)
		if apierr.HasCode(err, apierr.NameUnknown) {
			out.Failures = append(out.Failures, failure{name, "REPOSITORY_NOT_FOUND", "REPOSITORY_NOT_FOUND"})
			continue
		}
		if err != nil {
			return nil, err
		}
		freq, filters := repoScanning(cfg, found, name, r.ScanOnPush)
		out.ScanningConfigurations = append(out.ScanningConfigurations, config{
			RepositoryARN: arn.Repository(k.Region, k.Account, k.Name), RepositoryName: name,
			ScanOnPush: freq == "SCAN_ON_PUSH", ScanFrequency: freq, AppliedScanFilters: filters,
		})
	}
	return out, nil
}

// ---- scans ---------------------------------------------------------------------

// describeImageScanFindings: the image exists but no scan does, ever.
func (a *API) describeImageScanFindings(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		imageQueryInput
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.ImageID == nil {
		return nil, missing("imageId")
	}
	if _, err := pageSize("maxResults", in.MaxResults, 1000); err != nil {
		return nil, err
	}
	if _, err := decodeToken(in.NextToken, "DescribeImageScanFindings"); err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:DescribeImageScanFindings", k); err != nil {
		return nil, err
	}
	if _, err := a.resolveImage(ctx, k, in.ImageID); err != nil {
		return nil, err
	}
	return nil, apierr.New(apierr.ScanNotFound,
		"Image scan does not exist for the image with '%s' in the repository with name '%s' in the registry with id '%s'", *in.ImageID, k.Name, k.Account)
}

// startImageScan validates and authorizes like ECR, then refuses with
// ValidationException (one of the operation's modeled errors): there is no
// scanner, and a status of IN_PROGRESS would promise findings that never
// come.
func (a *API) startImageScan(ctx context.Context, c *awsapi.Call) (any, error) {
	in, k, m, err := a.imageForAction(ctx, c, "ecr:StartImageScan")
	if err != nil {
		return nil, err
	}
	st, err := a.imageState(ctx, k, m.Digest, m.PushedAt)
	if err != nil {
		return nil, err
	}
	if st.Status == statusArchived {
		return nil, apierr.New(apierr.ImageArchived, "The image with imageId %s is archived and cannot be scanned", *in.ImageID)
	}
	return nil, apierr.New(apierr.ValidationException, "berth does not scan images: no vulnerability scanner is configured for this registry")
}
