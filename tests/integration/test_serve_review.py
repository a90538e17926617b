"""The review page (/review) in a real headless browser: Debian's chromium driven by selenium
through chromedriver, against a real `phiguard serve` process.

A reviewer uploads a note, sees its PHI highlighted, switches spans off, adds a missed one,
keeps allow and deny lists (downloaded), and downloads the masked text, which must be exactly
the note masked at the spans they kept: offsets survive characters outside the BMP.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from phiguard.spans import Span
from phiguard.transform import mask
from support.serve_server import ServeProcess, add_key

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
NOTE = (
    "🩺 Pt Carlos Salazar seen 11/12/2011 by Dr. Sarkar.\n"
    "Daughter Maria Lopez will visit; moved to rosewood unit.\n"
    "Allergies: <b>none</b> <img src=x onerror=alert(1)>\n"
)


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, DRIVER) if not p.exists()]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{', '.join(missing)} missing in CI: `make install` installs them")
    pytest.skip(f"no {', '.join(missing)} here (`make browser` installs Debian's chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, str]]:
    _require_browser()
    home = tmp_path_factory.mktemp("serve-review") / "home"
    home.mkdir()
    key = add_key(home, "reviewer", "detect,mask,surrogate")
    with ServeProcess(home) as srv:
        yield srv, key


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Any]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _wait(condition: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the page did not get there in time")


def _downloaded(driver: Any, name: str) -> str:
    path = driver.downloads / name
    _wait(lambda: path.exists() and not list(driver.downloads.glob("*.crdownload")))
    text = path.read_text(encoding="utf-8")
    path.unlink()
    return text


def _select(driver: Any, word: str) -> None:
    """Select `word` in the highlighted note, as a reviewer dragging over it would."""
    driver.execute_script(
        """
        const word = arguments[0];
        const walker = document.createTreeWalker(document.getElementById('view'),
                                                 NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
          const node = walker.currentNode, at = node.data.indexOf(word);
          if (at >= 0) {
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + word.length);
            const sel = window.getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
            return;
          }
        }
        throw new Error('word not in the view');
        """,
        word,
    )


def _rows(driver: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = driver.execute_script(
        """
        return [...document.querySelectorAll('#spans tbody tr')].map(tr => ({
          keep: tr.querySelector('input.keep').checked,
          type: tr.children[1].textContent,
          text: tr.children[2].textContent,
          offsets: tr.children[3].textContent.split('–').map(Number),
          source: tr.children[5].textContent,
        }));
        """
    )
    return rows


def test_review_a_note_in_the_browser(
    server: tuple[ServeProcess, str], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    srv, key = server
    page = browser
    page.get(srv.base + "/review")
    assert page.title == "phiguard review"

    # a wrong key is refused with the server's message
    page.find_element(By.ID, "key").send_keys("phg_wrong")
    page.find_element(By.ID, "use-key").click()
    _wait(lambda: "401" in page.find_element(By.ID, "status").text)
    box = page.find_element(By.ID, "key")
    box.clear()
    box.send_keys(key)
    page.find_element(By.ID, "use-key").click()
    _wait(lambda: "api-key:reviewer" in page.find_element(By.ID, "who").text)

    # upload the note (UTF-8 with an emoji first: code points and UTF-16 units differ)
    note_file = tmp_path / "note.txt"
    note_file.write_text(NOTE, encoding="utf-8")
    page.find_element(By.ID, "file").send_keys(str(note_file))
    _wait(lambda: page.find_element(By.ID, "note").get_attribute("value") == NOTE)
    page.find_element(By.ID, "detect").click()
    _wait(lambda: page.find_elements(By.CSS_SELECTOR, "#view mark"))

    rows = _rows(page)
    for r in rows:  # what the table says, the note says at those (code point) offsets
        assert NOTE[r["offsets"][0] : r["offsets"][1]] == r["text"]
    marks = {
        m.text: m.get_attribute("class") for m in page.find_elements(By.CSS_SELECTOR, "#view mark")
    }
    assert "t-NAME" in marks["Carlos Salazar"] and "t-DATE" in marks["11/12/2011"]
    assert "rosewood" not in marks, "the test needs a word the detector misses"
    # the note is text, never markup
    assert page.find_elements(By.CSS_SELECTOR, "#view b, #view img") == []
    assert "<img src=x onerror=alert(1)>" in page.find_element(By.ID, "view").text

    # switch the date off by clicking its highlight; allow "Sarkar" from the table
    page.find_element(By.XPATH, "//pre[@id='view']/mark[text()='11/12/2011']").click()
    _wait(
        lambda: (
            "off"
            in page.find_element(
                By.XPATH, "//pre[@id='view']/mark[text()='11/12/2011']"
            ).get_attribute("class")
        )
    )
    row = page.find_element(By.XPATH, "//tbody/tr[td[@class='text' and text()='Sarkar']]")
    row.find_element(By.CSS_SELECTOR, "button.allow").click()

    # a missed span: select it, deny-list it, and add it as a LOCATION
    _select(page, "rosewood")
    page.find_element(By.ID, "deny-selection").click()
    _select(page, "rosewood")
    Select(page.find_element(By.ID, "add-type")).select_by_value("LOCATION")
    page.find_element(By.ID, "add-span").click()
    added = _wait(lambda: page.find_elements(By.CSS_SELECTOR, "#view mark.added"))
    assert added[0].text == "rosewood" and "t-LOCATION" in added[0].get_attribute("class")

    page.find_element(By.ID, "download-allow").click()
    assert _downloaded(page, "allow-list.txt") == "Sarkar\n"
    page.find_element(By.ID, "download-deny").click()
    assert _downloaded(page, "deny-list.txt") == "rosewood\n"

    # the masked text is the note masked exactly at the kept spans
    rows = _rows(page)
    kept = [Span(r["offsets"][0], r["offsets"][1], r["type"]) for r in rows if r["keep"]]
    assert {r["text"] for r in rows if not r["keep"]} == {"11/12/2011", "Sarkar"}
    page.find_element(By.ID, "download-masked").click()
    masked = _downloaded(page, "masked.txt")
    assert masked == mask(NOTE, kept)
    assert "Salazar" not in masked and "rosewood" not in masked
    assert "Dr. Sarkar" in masked and "11/12/2011" in masked
    Select(page.find_element(By.ID, "style")).select_by_value("label")
    page.find_element(By.ID, "download-masked").click()
    assert "[LOCATION] unit" in _downloaded(page, "masked.txt")

    # detect again with the lists: Sarkar allowed, rosewood denied everywhere
    page.find_element(By.ID, "redetect").click()
    _wait(lambda: any(r["source"] == "deny-list" for r in _rows(page)))
    texts = {r["text"]: r["source"] for r in _rows(page)}
    assert "Sarkar" not in texts and texts["rosewood"] == "deny-list"

    # surrogates: readable text, no original name
    page.find_element(By.ID, "download-surrogate").click()
    surrogate = _downloaded(page, "surrogate.txt")
    assert "Salazar" not in surrogate and "unit" in surrogate
    page.save_screenshot(str(tmp_path / "review.png"))

    log = srv.log()
    assert "POST /v1/detect 200" in log
    assert not [w for w in ("Salazar", "Sarkar", "rosewood", "Lopez") if w in log]


def test_the_page_sends_a_strict_content_security_policy(server: tuple[ServeProcess, str]) -> None:
    srv, _ = server
    r = srv.get("/review")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and r.headers["x-frame-options"] == "DENY"
    assert srv.get("/review/review.js").headers["content-type"].startswith("text/javascript")
