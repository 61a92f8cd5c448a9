"""The web UI in a real browser: Debian's headless Chromium driven by selenium.

A registryd with htpasswd on loopback gets an image whose labels, annotations and history
carry HTML and script, an index with two platforms and a signature-like referrer, pushed over
the HTTP API. Then, in the browser: sign in, filter, sort the repositories by size and last
push, sort a repository's tags and see a pull's time appear, open the image (the hostile text
shows as text and no script ran), copy the pull command, delete a tag after confirming, sign out. A
screenshot of each page goes to $UI_SCREENSHOTS, or <bin path>/ui-screenshots, or
.build/ui-screenshots. A cross-site form post is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from registry import REPO_ROOT, RegistryProcess

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (tests/requirements.txt)")
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
SIGNATURE_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json"

USER, PASSWORD = "alice", "correct horse battery"
# Would set the title and a global if it ever ran as script.
HOSTILE = "<script>document.title='pwned';window.__pwned=1</script>"
HOSTILE_IMG = "<img src=x onerror=\"window.__pwned=2\">"


def screenshot_dir() -> Path:
    configured = os.environ.get("UI_SCREENSHOTS")
    if configured:
        path = Path(configured)
    else:
        binary = os.environ.get("REGISTRYD_BIN")
        path = (Path(binary).parent if binary else REPO_ROOT / ".build") / "ui-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("chromium and chromium-driver are not installed (scripts/install-test-deps.sh)")
    return browser, driver


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Pusher:
    """Pushes blobs and manifests over the HTTP API with Basic credentials."""

    def __init__(self, reg: RegistryProcess):
        self.reg = reg
        self.session = requests.Session()
        self.session.auth = (USER, PASSWORD)

    def blob(self, name: str, data: bytes) -> dict:
        digest = sha256(data)
        resp = self.session.post(f"{self.reg.url}/v2/{name}/blobs/uploads/?digest={digest}", data=data,
                                 headers={"Content-Type": "application/octet-stream"}, timeout=30)
        assert resp.status_code == 201, resp.text
        return {"digest": digest, "size": len(data)}

    def manifest(self, name: str, ref: str | None, doc: dict, media_type: str) -> str:
        """Pushes under the tag `ref`, or by digest when it is None; returns the digest."""
        body = json.dumps(doc).encode()
        ref = ref or sha256(body)
        resp = self.session.put(f"{self.reg.url}/v2/{name}/manifests/{ref}", data=body,
                                headers={"Content-Type": media_type}, timeout=30)
        assert resp.status_code == 201, resp.text
        return sha256(body)

    def image(self, name: str, tag: str | None, arch: str, *, labels: dict | None = None,
              history: list | None = None, annotations: dict | None = None) -> str:
        config = json.dumps({
            "architecture": arch, "os": "linux", "created": "2026-11-30T10:20:30Z",
            "config": {"Env": ["PATH=/usr/local/bin:/usr/bin", "MODE=production"],
                       "Entrypoint": ["/usr/bin/server"], "Cmd": ["--listen", ":8080"],
                       "ExposedPorts": {"8080/tcp": {}}, "Labels": labels or {"arch": arch}},
            "history": history or [{"created_by": "/bin/sh -c #(nop) ADD file:abc in /"}],
            "rootfs": {"type": "layers", "diff_ids": [sha256(arch.encode())]},
        }).encode()
        cfg = self.blob(name, config)
        layer = self.blob(name, os.urandom(3000 + len(arch)))
        doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
               "config": {"mediaType": OCI_CONFIG, **cfg},
               "layers": [{"mediaType": OCI_LAYER, **layer}]}
        if annotations:
            doc["annotations"] = annotations
        return self.manifest(name, tag, doc, OCI_MANIFEST)


@pytest.fixture
def ui_registry(tmp_path):
    htpasswd = tmp_path / "htpasswd"
    entry = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True, text=True)
    htpasswd.write_text(entry.stdout)
    reg = RegistryProcess(tmp_path / "registry", extra_config=f"""auth:
  htpasswd:
    realm: berth
    path: {htpasswd}
""")
    reg.start()
    yield reg
    reg.stop()


@pytest.fixture
def browser():
    browser_path, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        # quit() stops chromedriver (by the PID selenium holds) and the browser it started.
        driver.quit()


def shoot(driver, name: str) -> Path:
    """Saves a full-height screenshot of the current page."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(700, min(int(height) + 40, 2400)))
    path = screenshot_dir() / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot for {name}"
    driver.set_window_size(1280, 900)
    return path


def wait_for_sort(driver, table: str, order: str):
    """Waits for the page that a sort link loads."""
    WebDriverWait(driver, 20, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
        lambda _: driver.find_element(By.ID, table).get_attribute("data-sort") == order)


def table_names(driver, table: str) -> list[str]:
    """The data-name of each row of a table, in order."""
    return [row.get_attribute("data-name") for row in driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")]


def cells(driver, table: str, name: str) -> list[str]:
    """The text of each cell of the row named `name`."""
    row = driver.find_element(By.CSS_SELECTOR, f"#{table} tbody tr[data-name='{name}']")
    return [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]


def parse_size(text: str) -> float:
    number, unit = text.split()
    return float(number) * {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}[unit]


def assert_no_script_ran(driver):
    assert driver.execute_script("return window.__pwned === undefined"), "hostile script ran"
    assert "pwned" not in driver.title


def push_content(reg: RegistryProcess) -> dict:
    pusher = Pusher(reg)
    hostile_labels = {"org.opencontainers.image.title": HOSTILE, "description": HOSTILE_IMG,
                      "maintainer": "ops <ops@example.com>"}
    hostile_history = [{"created": "2026-11-30T10:00:00Z", "created_by": f"/bin/sh -c echo '{HOSTILE}' > /x"},
                       {"created_by": "ENV MODE=production", "empty_layer": True}]
    app = pusher.image("team/web", "v1", "amd64", labels=hostile_labels, history=hostile_history,
                          annotations={"org.opencontainers.image.description": HOSTILE})
    pusher.image("team/web", "v2", "amd64")
    # An index with two platforms.
    children = []
    for arch in ("amd64", "arm64"):
        digest = pusher.image("team/multi", None, arch)
        resp = pusher.session.head(f"{reg.url}/v2/team/multi/manifests/{digest}", timeout=30)
        children.append({"mediaType": OCI_MANIFEST, "digest": digest,
                         "size": int(resp.headers["Content-Length"]),
                         "platform": {"os": "linux", "architecture": arch}})
    pusher.manifest("team/multi", "latest", {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children},
                    OCI_INDEX)
    # A signature-like referrer of team/web:v1.
    app_size = int(pusher.session.head(f"{reg.url}/v2/team/web/manifests/v1", timeout=30).headers["Content-Length"])
    empty = pusher.blob("team/web", b"{}")
    signature = pusher.blob("team/web", b"signature bytes")
    pusher.manifest("team/web", None, {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": SIGNATURE_TYPE,
        "config": {"mediaType": OCI_EMPTY, **empty},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", **signature}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": app, "size": app_size},
        "annotations": {"dev.sigstore.cosign/signature": "MEUCIQ..."},
    }, OCI_MANIFEST)
    for index in range(3):
        pusher.image(f"other/tool{index}", "1.0", "amd64")
    return {"app": app}


def test_the_web_ui_in_a_browser(ui_registry, browser):
    reg = ui_registry
    pushed = push_content(reg)
    wait = WebDriverWait(browser, 20)
    base = reg.url

    # Anonymous: sent to the sign-in form.
    browser.get(base + "/")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "sign-in-button")))
    assert "/ui/login" in browser.current_url
    shoot(browser, "01-sign-in")

    browser.find_element(By.ID, "user").send_keys(USER)
    browser.find_element(By.ID, "password").send_keys("wrong password")
    browser.find_element(By.ID, "sign-in-button").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "signin-error")))

    browser.find_element(By.ID, "user").send_keys(USER)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in-button").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "repositories")))
    assert browser.find_element(By.ID, "signed-in-user").text == USER
    cookie = browser.get_cookie("berth_session")
    assert cookie is not None and cookie["httpOnly"] and cookie.get("sameSite") == "Strict"
    assert browser.execute_script("return document.cookie").find("berth_session") == -1
    browser.get_log("browser")  # drains the console: the wrong password's 401 was expected
    shoot(browser, "02-repositories")

    # Tag counts, sizes and last pushes; sorted by name, then by size and by last push.
    headings = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#repositories thead th")]
    assert [h.rstrip(" ↑↓") for h in headings] == ["Name", "Tags", "Size", "Last push"], headings
    assert table_names(browser, "repositories") == ["other/tool0", "other/tool1", "other/tool2", "team/multi", "team/web"]
    web = cells(browser, "repositories", "team/web")
    assert web[1] == "2" and web[2].endswith("KiB") and web[3] == "just now", web
    browser.find_element(By.ID, "sort-size").click()
    wait_for_sort(browser, "repositories", "size")
    sizes = [parse_size(cells(browser, "repositories", name)[2]) for name in table_names(browser, "repositories")]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == 5, sizes
    browser.find_element(By.ID, "sort-pushed").click()
    wait_for_sort(browser, "repositories", "pushed")
    # Pushed last: other/tool2, then tool1, tool0; team/web got its signature after team/multi's index.
    assert table_names(browser, "repositories") == ["other/tool2", "other/tool1", "other/tool0", "team/web", "team/multi"]
    shoot(browser, "02b-repositories-by-last-push")
    browser.find_element(By.ID, "sort-name").click()
    wait_for_sort(browser, "repositories", "name")

    # Filter as you type.
    rows = browser.find_elements(By.CSS_SELECTOR, "#repositories tbody tr")
    assert len(rows) == 5
    browser.find_element(By.ID, "filter").send_keys("multi")
    visible = [row.get_attribute("data-name") for row in rows if row.is_displayed()]
    assert visible == ["team/multi"]
    shoot(browser, "03-repositories-filtered")

    # The index: two platforms.
    browser.find_element(By.LINK_TEXT, "team/multi").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "tags")))
    assert "linux/amd64, linux/arm64" in browser.find_element(By.ID, "tags").text
    browser.find_element(By.LINK_TEXT, "latest").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "children")))
    children = browser.find_element(By.ID, "children").text
    assert "linux/amd64" in children and "linux/arm64" in children
    shoot(browser, "04-index")

    # The repository with the hostile image: tags newest first, then by name; a pull shows up
    # once registryd has written its batch of pull times (every 5 s).
    browser.get(base + "/ui/repository?name=team/web")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "tags")))
    assert table_names(browser, "tags") == ["v2", "v1"]
    assert browser.find_element(By.ID, "tag-count").text == "2"
    assert browser.find_element(By.ID, "last-pull").text == "—"
    assert [cells(browser, "tags", tag)[7] for tag in ("v1", "v2")] == ["—", "—"]
    browser.find_element(By.ID, "sort-name").click()
    wait_for_sort(browser, "tags", "name")
    assert table_names(browser, "tags") == ["v1", "v2"]
    pull = requests.get(f"{base}/v2/team/web/manifests/v1", auth=(USER, PASSWORD),
                        headers={"Accept": OCI_MANIFEST}, timeout=30)
    assert pull.status_code == 200

    def pulled(_):
        browser.refresh()
        return cells(browser, "tags", "v1")[7] == "just now"

    WebDriverWait(browser, 20, poll_frequency=1).until(pulled)
    assert cells(browser, "tags", "v2")[7] == "—"
    assert browser.find_element(By.ID, "last-pull").text == "just now"
    browser.find_element(By.ID, "sort-newest").click()
    wait_for_sort(browser, "tags", "newest")
    copy = browser.find_element(By.CSS_SELECTOR, "tr[data-name='v1'] button.copy-pull")
    assert copy.is_displayed()
    assert copy.get_attribute("data-copy") == f"docker pull {reg.host}/team/web:v1"
    copy.click()
    wait.until(lambda _: copy.text in ("Copied", "Copy failed"))
    shoot(browser, "05-tags")

    # The image page: the hostile text is text, and no script ran.
    browser.find_element(By.LINK_TEXT, "v1").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "labels")))
    assert_no_script_ran(browser)
    labels = browser.find_element(By.ID, "labels").text
    assert HOSTILE in labels and HOSTILE_IMG in labels
    assert HOSTILE in browser.find_element(By.ID, "history").text
    assert HOSTILE in browser.find_element(By.ID, "annotations").text
    assert not browser.find_elements(By.CSS_SELECTOR, "main script, main img")
    assert "/usr/bin/server" in browser.find_element(By.ID, "config").text
    assert "8080/tcp" in browser.find_element(By.ID, "config").text
    assert SIGNATURE_TYPE in browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_element(By.ID, "digest").text == pushed["app"]
    raw = browser.find_element(By.ID, "raw-manifest")
    assert not raw.find_element(By.TAG_NAME, "pre").is_displayed()
    raw.find_element(By.TAG_NAME, "summary").click()
    assert raw.find_element(By.TAG_NAME, "pre").is_displayed()
    assert_no_script_ran(browser)
    shoot(browser, "06-image")

    # No CSP violations and no script errors in the console.
    errors = [entry for entry in browser.get_log("browser")
              if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]]
    assert not errors, errors

    # The status page.
    browser.get(base + "/ui/status")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "checks")))
    assert "Healthy" in browser.find_element(By.ID, "health").text
    shoot(browser, "07-status")

    # Delete a tag after confirming.
    browser.get(base + "/ui/repository?name=team/web")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "tags")))
    browser.find_element(By.CSS_SELECTOR, "tr[data-name='v2'] a.danger").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "confirm-delete")))
    assert "registryctl gc" in browser.find_element(By.TAG_NAME, "main").text
    shoot(browser, "08-delete-confirm")
    browser.find_element(By.ID, "confirm-delete").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "deleted-notice")))
    assert not browser.find_elements(By.CSS_SELECTOR, "tr[data-name='v2']")
    shoot(browser, "09-deleted")
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    tags = session.get(f"{base}/v2/team/web/tags/list", timeout=30).json()["tags"]
    assert "v2" not in tags and "v1" in tags

    # A cross-site form post, with the session cookie the browser would send along but
    # without this page's token, or from another origin, is refused.
    session_cookie = {"berth_session": browser.get_cookie("berth_session")["value"]}
    token = browser.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
    forged = requests.post(f"{base}/ui/delete", data={"name": "team/web", "ref": "v1"}, cookies=session_cookie,
                           headers={"Origin": "https://evil.example"}, allow_redirects=False, timeout=30)
    assert forged.status_code == 403
    forged = requests.post(f"{base}/ui/delete", data={"name": "team/web", "ref": "v1", "csrf": token},
                           cookies=session_cookie, headers={"Origin": "https://evil.example",
                                                            "Sec-Fetch-Site": "cross-site"},
                           allow_redirects=False, timeout=30)
    assert forged.status_code == 403
    assert "v1" in session.get(f"{base}/v2/team/web/tags/list", timeout=30).json()["tags"]

    # Sign out: the session ends and the UI asks to sign in again.
    browser.find_element(By.ID, "sign-out").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "sign-in-button")))
    assert browser.get_cookie("berth_session") is None
    browser.get(base + "/ui/")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "sign-in-button")))
    assert "/ui/login" in browser.current_url


def test_security_headers_and_a_login_post_from_another_site(ui_registry):
    reg = ui_registry
    page = requests.get(f"{reg.url}/ui/login", timeout=30)
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    # (the test config's http.headers adds another nosniff)
    assert {value.strip() for value in page.headers["X-Content-Type-Options"].split(",")} == {"nosniff"}
    assert page.headers["Cache-Control"] == "no-store"
    resp = requests.post(f"{reg.url}/ui/login", data={"user": USER, "password": PASSWORD},
                         headers={"Origin": "https://evil.example"}, allow_redirects=False, timeout=30)
    assert resp.status_code == 403
    assert "Set-Cookie" not in resp.headers
