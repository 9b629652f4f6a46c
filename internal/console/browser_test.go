package console_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium; without it the browser test skips,
// unless BERTH_TEST_REQUIRE_CHROMIUM=1 (test.sh, after install-deps.sh
// installed it) makes that a failure.
func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("BERTH_TEST_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is not installed (scripts/install-deps.sh installs it)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// TestBrowserSeed004 drives a real headless Chromium through seed 004:
// sign in → repository → copy the pull command → Permissions → Edit
// policy JSON with a mistake → the error next to the JSON → fix → saved,
// then switches to Japanese. Screenshots go to the test's temp dir.
func TestBrowserSeed004(t *testing.T) {
	bin := chromium(t)
	e := newEnv(t)
	e.createRepo("release/app")
	e.push("release/app", "v1", randomLayer(t, 2048))
	admin := e.user(owner, "admin", "AmazonEC2ContainerRegistryFullAccess")
	shots := t.TempDir()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.Flag("lang", "en-US"), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second) // bounds a hung browser, not a speed claim
	defer cancelTimeout()

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o600)
		})
	}
	run := func(step string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	read := func(a chromedp.Action[string]) string {
		t.Helper()
		s, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	text := func(sel string) string { t.Helper(); return read(chromedp.Text(chromedp.CSS(sel))) }
	value := func(sel string) string { t.Helper(); return read(chromedp.Value(chromedp.CSS(sel))) }

	run("sign in",
		chromedp.Navigate(e.url+"/console/repositories/release/app"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
		shot("01-signin"),
		chromedp.SendKeys(chromedp.CSS("#access_key_id"), admin.AccessKeyID),
		chromedp.SendKeys(chromedp.CSS("#secret_access_key"), admin.SecretAccessKey),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#images")), // back on the page asked for
		shot("02-repository"),
	)
	host := strings.TrimPrefix(e.url, "http://")
	pull := value("input.pull")
	if pull != "docker pull "+host+"/release/app:v1" {
		t.Fatalf("pull command %q", pull)
	}
	run("copy button", chromedp.Click(chromedp.CSS("button.copy-btn")), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`document.querySelector("button.copy-btn").textContent === "Copied"`, chromedp.WithPollingTimeout(10*time.Second))(ctx, tg)
		return err
	}))

	mistake := strings.Replace(seedPolicy, `"ecr:ListImages"`, `"ecr:ListImages",`, 1)
	run("edit with a mistake",
		chromedp.Click(chromedp.CSS("#tab-permissions")),
		chromedp.WaitVisible(chromedp.CSS("#no-policy")),
		chromedp.Click(chromedp.CSS("#edit-policy")),
		chromedp.WaitVisible(chromedp.CSS("#policy")),
		chromedp.SetValue(chromedp.CSS("#policy"), mistake),
		chromedp.Click(chromedp.CSS("#save-policy")),
		chromedp.WaitVisible(chromedp.CSS("#policy-error")),
		shot("03-policy-error"),
	)
	if msg := text("#policy-error-message"); !strings.Contains(msg, "Invalid repository policy provided") {
		t.Fatalf("error next to the JSON: %q", msg)
	}
	if kept := value("#policy"); kept != mistake {
		t.Fatalf("editor holds %q", kept)
	}
	run("fix and save",
		chromedp.SetValue(chromedp.CSS("#policy"), seedPolicy),
		chromedp.Click(chromedp.CSS("#save-policy")),
		chromedp.WaitVisible(chromedp.CSS("#policy-json")),
		shot("04-policy-saved"),
	)
	if n := text("#notice"); n != "The repository policy was validated and saved." {
		t.Fatalf("notice %q", n)
	}
	if got := e.storedPolicy("release/app"); got != seedPolicy {
		t.Fatalf("stored %q", got)
	}
	pullKey := e.user(puller, "release", "AmazonEC2ContainerRegistryReadOnly")
	if resp := e.v2(http.MethodGet, "/v2/release/app/manifests/v1", pullKey.AccessKeyID, pullKey.SecretAccessKey, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("cross-account pull after the policy: %d", resp.StatusCode)
	}

	run("switch to Japanese",
		chromedp.Click(chromedp.CSS("#lang-switch")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="ja"]`)),
		shot("05-japanese"),
	)
	if h := text("#tab-permissions"); h != "アクセス許可" {
		t.Fatalf("Japanese tab %q", h)
	}
	run("Japanese stays", chromedp.Click(chromedp.CSS("#edit-policy")), chromedp.WaitVisible(chromedp.CSS("#policy")))
	if b := text("#save-policy"); b != "保存" {
		t.Fatalf("Japanese save button %q", b)
	}
	run("sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin-form")))
	entries, _ := os.ReadDir(shots)
	t.Logf("%d screenshots in %s", len(entries), shots)
}
