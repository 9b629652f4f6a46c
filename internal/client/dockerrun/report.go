package dockerrun

import (
	"fmt"
	"io"
)

// Write prints what the Dockerrun file says.
func (f *File) Write(w io.Writer) {
	fmt.Fprintf(w, "%s: AWSEBDockerrunVersion %s (%s)\n", f.Path, f.Version, platformOf(f.Version))
	if f.Auth != nil {
		fmt.Fprintf(w, "  auth file: s3://%s/%s (from %s)\n", f.Auth.Bucket, f.Auth.Key, f.Auth.Field)
	} else {
		fmt.Fprintln(w, "  auth file: none (non-ECR private images are pulled anonymously)")
	}
	for _, img := range f.Images {
		fmt.Fprintf(w, "  image %s (%s %s), registry %s\n", img.Name, img.File, img.Field, ImageHost(img.Name))
	}
}

func platformOf(v string) string {
	switch v {
	case "1":
		return "Docker platform without Compose"
	case "2":
		return "ECS-managed Docker platform"
	default:
		return "Docker platform with docker-compose.yml"
	}
}

// Write prints the check result: the file, the bucket, coverage and all
// diagnostics. It never prints secrets.
func (r *Result) Write(w io.Writer) {
	r.File.Write(w)
	if r.File.Auth != nil {
		switch {
		case r.BucketRegion != "":
			fmt.Fprintf(w, "  bucket %s is in %s (environment region %s)\n", r.File.Auth.Bucket, r.BucketRegion, orUnknown(r.EnvRegion))
		default:
			fmt.Fprintf(w, "  bucket %s: region unknown (environment region %s)\n", r.File.Auth.Bucket, orUnknown(r.EnvRegion))
		}
		if r.Auth != nil && r.Auth.Config != nil {
			fmt.Fprintf(w, "  auth file shape: %s, %d usable registr%s\n", r.Auth.Format, len(r.Auth.Config.Auths), plural(len(r.Auth.Config.Auths)))
			for _, k := range sortedKeys(r.Auth.Config.Auths) {
				user, _, err := r.Auth.Config.Auths[k].Credentials()
				if err == nil {
					fmt.Fprintf(w, "    %s (user %q)\n", k, user)
				}
			}
		}
	}
	for _, c := range r.Coverage {
		if c.Covered {
			fmt.Fprintf(w, "  covered: %s via key %q\n", c.Image.Name, c.Key)
		} else {
			fmt.Fprintf(w, "  NOT covered: %s — %s\n", c.Image.Name, c.Note)
		}
	}
	for _, d := range r.Diags {
		fmt.Fprintln(w, d.String())
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}
