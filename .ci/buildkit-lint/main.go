// dockfix-buildkit-lint runs BuildKit's own Dockerfile build checks (the rules that
// `docker build --check` reports) without a daemon, a build or a registry, and prints the
// warnings as JSON so that scripts/coverage can count them per rule.
//
// Usage: dockfix-buildkit-lint FILE...
// Output: a JSON array, one object per FILE, in argument order:
//
//	{"file": FILE, "warnings": [{"rule": "FromAsCasing", "line": 3, "message": "..."}],
//	 "error": "..."}   (error only when BuildKit rejects the file, as a build would)
//
// Warnings are sorted by line, then rule, then message (BuildKit reports some of them from
// concurrent goroutines). Exit status: 0 when every FILE could be read (warnings or not), 2
// otherwise. `dockfix-buildkit-lint --version` names the source it was built from.
//
// Base images are never pulled: each FROM image resolves to an empty image of the target
// platform. Checks that depend on the base image's configuration (an ENV the base image
// sets, read by UndefinedVar; InvalidBaseImagePlatform) therefore see what a build against
// an image without configuration would see, and CopyIgnoredFile is not evaluated (it needs
// the build context's .dockerignore through a build client).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	digest "github.com/opencontainers/go-digest"
)

// buildkitSource is set at link time by .ci/install-buildkit-lint (the Debian package whose
// copy of BuildKit's source was compiled).
var buildkitSource = "unknown"

type warning struct {
	Rule    string `json:"rule"`
	Line    int32  `json:"line"`
	Message string `json:"message"`
}

type fileResult struct {
	File     string    `json:"file"`
	Warnings []warning `json:"warnings"`
	Error    string    `json:"error,omitempty"`
}

// emptyImageResolver answers every base image with an image that has one (fictitious)
// layer and no configuration, on the platform the build asked for.
type emptyImageResolver struct{}

func (emptyImageResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	osName, arch := "linux", "amd64"
	if opt.Platform != nil {
		osName, arch = opt.Platform.OS, opt.Platform.Architecture
	}
	config := map[string]any{
		"os":           osName,
		"architecture": arch,
		"rootfs": map[string]any{
			"type":     "layers",
			"diff_ids": []string{digest.FromString(ref).String()},
		},
		"config": map[string]any{},
	}
	dt, err := json.Marshal(config)
	return ref, "", dt, err
}

func lintFile(ctx context.Context, path string) (fileResult, error) {
	result := fileResult{File: path, Warnings: []warning{}}
	dt, err := os.ReadFile(path)
	if err != nil {
		return result, err
	}
	sourceMap := llb.NewSourceMap(nil, path, "Dockerfile", dt)
	// the lint results record the source's LLB definition; there is no build, so none
	sourceMap.Definition = &llb.Definition{}
	lintResults, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		MetaResolver: emptyImageResolver{},
		SourceMap:    sourceMap,
	})
	if err != nil {
		return result, err
	}
	for _, w := range lintResults.Warnings {
		var line int32
		if w.Location != nil && len(w.Location.Ranges) > 0 && w.Location.Ranges[0].Start != nil {
			line = w.Location.Ranges[0].Start.Line
		}
		result.Warnings = append(result.Warnings, warning{Rule: w.RuleName, Line: line, Message: w.Detail})
	}
	sort.SliceStable(result.Warnings, func(i, j int) bool {
		a, b := result.Warnings[i], result.Warnings[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
	if lintResults.Error != nil {
		result.Error = lintResults.Error.Message
	}
	return result, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dockfix-buildkit-lint FILE...")
		os.Exit(2)
	}
	if os.Args[1] == "--version" {
		fmt.Println("dockfix-buildkit-lint: BuildKit's Dockerfile checks from", buildkitSource)
		return
	}
	ctx := context.Background()
	status := 0
	results := []fileResult{}
	for _, path := range os.Args[1:] {
		result, err := lintFile(ctx, path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dockfix-buildkit-lint: %s: %v\n", path, err)
			status = 2
			continue
		}
		results = append(results, result)
	}
	out, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockfix-buildkit-lint:", err)
		os.Exit(2)
	}
	fmt.Println(string(out))
	os.Exit(status)
}
