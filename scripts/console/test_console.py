"""The seller console in a real browser: headless Chromium (Selenium) against a real `shelf serve` + `shelf-sim` with the demo
fixtures. Every wait is a WebDriverWait with a bounded timeout; nothing sleeps to pass.

Run: python3 -m pytest -q -p no:cacheprovider scripts/console   (after `swift build`; screenshots in scripts/console/screenshots)."""
import base64
import os
import time
import uuid

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

import shelfproc
from conftest import make_driver

SECTIONS = ["stock", "channels", "rules", "reconciliation"]
SKU = "TEE-RED-M"
ADMIN_ACTIONS = "button.replay, button.discard, button.toggle, #rule-text, #rule-save, #recon-run"


# ----------------------------------------------------------------------------------------------------------------- helpers

class wait:
    """WebDriverWait with a bounded timeout and a message saying what was awaited."""

    def __init__(self, driver, timeout=10, what=""):
        self.inner = WebDriverWait(driver, timeout, poll_frequency=0.02, ignored_exceptions=(StaleElementReferenceException,))
        self.what = what

    def until(self, condition):
        return self.inner.until(condition, message=self.what)


def sign_in(driver, shelf, token):
    driver.get(shelf.base + "/console")
    field = wait(driver, 10, "the sign-in form").until(lambda d: d.find_element(By.ID, "token"))
    field.send_keys(token, Keys.ENTER)
    wait(driver, 10, "the console after sign-in").until(lambda d: d.find_element(By.ID, "app").is_displayed())
    wait(driver, 15, "the first catalog rows").until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#stock-rows tr[data-available]")) > 0)


def row(driver, sku):
    found = driver.find_elements(By.CSS_SELECTOR, f'#stock-rows tr[data-sku="{sku}"]')
    return found[0] if found else None


def search(driver, text):
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(text, Keys.ENTER)
    wait(driver, 10, f"the row of {text}").until(lambda d: row(d, text) is not None and row(d, text).get_attribute("data-available"))


def wait_live(driver):
    wait(driver, 20, "the SSE stream to go live").until(lambda d: d.find_element(By.ID, "live").text == "Live")


def shoot(driver, screenshots, name, element=None):
    """A PNG of the whole page (beyond the viewport) or of one element."""
    path = os.path.join(screenshots, f"{name}.png")
    if element is not None:
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
        element.screenshot(path)
    else:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    assert os.path.getsize(path) > 1000, path
    return path


def admin_data_loaded(driver):
    wait(driver, 15, "the connections").until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#conn-rows tr[data-connection]")) >= 6)
    wait(driver, 15, "the rule list").until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rule-list li"))


def dead_letters(shelf):
    reply = shelf.call("GET", "/v1/dlq", shelf.admin)
    assert reply.status == 200, reply
    return reply.json["deadLetters"]


def break_walmart(shelf):
    """Points walmart-us at a closed loopback port, so its pushes fail and dead-letter after the retry budget."""
    current = shelf.call("GET", "/v1/connections/walmart-us", shelf.admin).json
    body = {"channel": current["channel"], "kind": current["kind"], "baseURL": f"http://127.0.0.1:{shelfproc.free_port()}/c/walmart-us",
            "webhookSecret": "console-secret", "pollIntervalSeconds": current["pollIntervalSeconds"], "pushEnabled": True}
    reply = shelf.call("PUT", "/v1/connections/walmart-us", shelf.admin, body)
    assert reply.status in (200, 201), reply


def dead_letter_for(shelf, sku, qty):
    """Changes `sku` (listed on walmart-us) and waits for the walmart push to be dead-lettered; returns the entry."""
    before = {d["id"] for d in dead_letters(shelf)}
    reply = shelf.call("POST", "/v1/events", shelf.ingest, {"type": "stock.set", "sku": sku, "qty": qty, "location": "reno"},
                       {"Idempotency-Key": f"console-dlq-{uuid.uuid4().hex}"})
    assert reply.status == 202, reply
    return shelfproc.eventually(f"a walmart-us dead letter for {sku}", lambda: next(
        (d for d in dead_letters(shelf) if d["id"] not in before and d["sku"] == sku and d["connection"] == "walmart-us"), None),
        timeout=60, interval=0.25)


# ------------------------------------------------------------------------------------------------------------------- tests

def test_console_is_served_with_a_strict_csp_and_the_browser_enforces_it(shelf, browser):
    for path, kind in (("/console", "text/html"), ("/console/app.js", "text/javascript"), ("/console/console.css", "text/css")):
        reply = shelfproc.request("GET", shelf.base + path)
        assert reply.status == 200, (path, reply)
        assert reply.content_type == kind, (path, reply.headers)
        csp = reply.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp, csp
        assert reply.headers.get("x-content-type-options") == "nosniff"
        assert reply.headers.get("referrer-policy") == "no-referrer"
    assert shelfproc.request("GET", shelf.base + "/console/secrets.js").status == 404

    sign_in(browser, shelf, shelf.admin)
    # An inline script injected into the page does not run: the browser enforces the policy.
    browser.execute_script("const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s);")
    assert browser.execute_script("return window.__inline === undefined") is True
    violations = [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"] and "__inline" not in e["message"]]
    assert len([v for v in violations if "inline" not in v["message"]]) == 0, violations
    # The token stays in this tab's session storage: not in the URL, not in a cookie, not in local storage.
    assert shelf.admin not in browser.current_url
    assert browser.execute_script("return document.cookie") == ""
    assert browser.execute_script("return sessionStorage.getItem('shelf.console.token')") == shelf.admin
    assert browser.execute_script("return localStorage.length") == 0


def test_sign_in_shows_the_demo_catalog_and_search(shelf, browser, screenshots):
    browser.get(shelf.base + "/console")
    field = wait(browser).until(lambda d: d.find_element(By.ID, "token"))
    field.send_keys("shelf_nope_nope", Keys.ENTER)
    wait(browser, 10, "the refusal").until(lambda d: "did not accept" in d.find_element(By.ID, "signin-error").text)
    assert not browser.find_element(By.ID, "app").is_displayed()

    sign_in(browser, shelf, shelf.admin)
    wait(browser, 15, "a full first page").until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#stock-rows tr[data-available]")) == 25)
    assert "more available" in browser.find_element(By.ID, "stock-status").text
    assert browser.find_element(By.ID, "more").is_displayed()
    first = browser.find_elements(By.CSS_SELECTOR, "#stock-rows tr[data-sku]")[0].get_attribute("data-sku")
    page = shelf.call("GET", "/v1/catalog?limit=25", shelf.read).json["items"]
    assert first == page[0]["sku"]

    search(browser, SKU)
    tee = row(browser, SKU)
    stock = shelf.call("GET", f"/v1/stock/{SKU}", shelf.read).json
    wait(browser, 10, "the row to match the API").until(lambda d: row(d, SKU).get_attribute("data-available") == str(stock["total"]["available"]))
    tee = row(browser, SKU)
    for location in stock["locations"]:
        chip = tee.find_element(By.CSS_SELECTOR, f'li[data-location="{location["location"]}"]')
        assert chip.text.startswith(f'{location["location"]} {location["available"]}'), chip.text
    for channel in stock["channels"]:
        chip = tee.find_element(By.CSS_SELECTOR, f'li[data-channel="{channel["channel"]}"]')
        assert chip.text.startswith(f'{channel["channel"]} {channel["publishedQuantity"]}'), chip.text
    assert "% fresh" in tee.text and "%" in tee.find_elements(By.TAG_NAME, "td")[5].text
    shoot(browser, screenshots, "stock", browser.find_element(By.ID, "stock"))


def test_an_event_changes_the_row_within_one_second_without_reload(shelf, browser, screenshots):
    sign_in(browser, shelf, shelf.admin)
    search(browser, SKU)
    wait_live(browser)
    browser.execute_script("window.__sameDocument = 'yes'")
    before = shelf.call("GET", f"/v1/stock/{SKU}", shelf.read).json
    reno = next(l for l in before["locations"] if l["location"] == "reno")
    qty = 5 if reno["onHand"] != 5 else 9
    began = time.monotonic()
    reply = shelf.call("POST", "/v1/events", shelf.ingest, {"type": "stock.set", "sku": SKU, "qty": qty, "location": "reno"},
                       {"Idempotency-Key": f"console-live-{uuid.uuid4().hex}"})
    assert reply.status == 202, reply
    after = shelf.call("GET", f"/v1/stock/{SKU}", shelf.read).json
    expected_total = str(after["total"]["available"])
    expected_reno = next(l for l in after["locations"] if l["location"] == "reno")["available"]
    assert after["total"]["available"] != before["total"]["available"] or expected_reno != reno["available"], "the event changed nothing"
    budget = max(0.05, 1.0 - (time.monotonic() - began))
    wait(browser, budget, "the row to show the new stock within 1 s").until(
        lambda d: row(d, SKU).get_attribute("data-available") == expected_total
        and row(d, SKU).find_element(By.CSS_SELECTOR, 'li[data-location="reno"]').text.startswith(f"reno {expected_reno}"))
    elapsed = time.monotonic() - began
    assert elapsed <= 1.0, elapsed
    assert browser.execute_script("return window.__sameDocument") == "yes", "the page was reloaded"
    shelfproc.report(f"console: stock.set reached the browser row in {elapsed * 1000:.0f} ms")

    # An oversell is highlighted: sell more than is available on a channel (a fact Shelf records as oversold).
    oversell = after["total"]["available"] + 3
    reply = shelf.call("POST", "/v1/events", shelf.ingest, {"type": "order.confirmed", "sku": SKU, "qty": oversell, "channel": "amazon"},
                       {"Idempotency-Key": f"console-oversell-{uuid.uuid4().hex}"})
    assert reply.status == 202 and reply.json["oversold"] > 0, reply
    wait(browser, 2, "the oversold highlight").until(lambda d: "oversold" in row(d, SKU).get_attribute("class"))
    assert f"Oversold {reply.json['oversold']}" in row(browser, SKU).text
    shoot(browser, screenshots, "stock-oversold", browser.find_element(By.ID, "stock"))


def test_low_stock_is_highlighted_and_clears_live(shelf, browser):
    sku = "CONSOLE-LOW-1"
    item = {"productId": "P-CONSOLE-LOW", "title": "Console low stock", "price": {"amount": 900, "currency": "USD"},
            "levels": [{"location": "reno", "onHand": 2}], "listings": [{"channel": "amazon"}]}
    reply = shelf.call("PUT", f"/v1/skus/{sku}", shelf.admin, item)
    assert reply.status == 200, reply
    sign_in(browser, shelf, shelf.admin)
    search(browser, sku)
    wait_live(browser)
    assert "low" in row(browser, sku).get_attribute("class").split(), row(browser, sku).get_attribute("class")
    assert "Low stock" in row(browser, sku).text
    reply = shelf.call("POST", "/v1/events", shelf.ingest, {"type": "stock.set", "sku": sku, "qty": 40, "location": "reno"},
                       {"Idempotency-Key": f"console-low-{uuid.uuid4().hex}"})
    assert reply.status == 202, reply
    wait(browser, 2, "the low-stock highlight to clear").until(
        lambda d: row(d, sku).get_attribute("data-available") == "40" and "low" not in row(d, sku).get_attribute("class").split())
    assert "Low stock" not in row(browser, sku).text


def test_a_bad_rule_is_underlined_with_a_suggestion_then_saved_and_disabled(shelf, browser, screenshots):
    sign_in(browser, shelf, shelf.admin)
    admin_data_loaded(browser)
    area = browser.find_element(By.ID, "rule-text")
    area.send_keys("When available stock of TEE-RED-L drops below 3, pause the Amazn listing.")
    mark = wait(browser, 5, "the error underline").until(lambda d: d.find_element(By.CSS_SELECTOR, "#rule-feedback mark.span"))
    assert mark.text == "Amazn"
    assert "text-decoration" and "wavy" in mark.value_of_css_property("text-decoration")
    caret = browser.find_element(By.CSS_SELECTOR, "#rule-feedback .caret").text
    excerpt = browser.find_element(By.CSS_SELECTOR, "#rule-feedback pre.excerpt").text.split("\n")[0]
    assert excerpt[len(caret) - len(caret.lstrip(" ")):].startswith("Amazn") and caret.strip() == "^" * len("Amazn"), (excerpt, caret)
    assert "Amazn" in browser.find_element(By.CSS_SELECTOR, "#rule-feedback .message").text
    assert area.get_attribute("aria-invalid") == "true"
    assert not browser.find_element(By.ID, "rule-save").is_enabled()
    suggestion = browser.find_element(By.CSS_SELECTOR, "#rule-feedback button.suggestion")
    assert suggestion.text == "Amazon"
    shoot(browser, screenshots, "rules-error", browser.find_element(By.ID, "rules"))

    suggestion.click()
    assert "the Amazon listing" in area.get_attribute("value")
    wait(browser, 5, "the sentence to be understood").until(lambda d: d.find_elements(By.CSS_SELECTOR, "#rule-feedback .ok"))
    assert "pause" in browser.find_element(By.CSS_SELECTOR, "#rule-feedback pre.explain").text.lower()
    assert area.get_attribute("aria-invalid") == "false"
    save = wait(browser, 5).until(lambda d: d.find_element(By.ID, "rule-save") if d.find_element(By.ID, "rule-save").is_enabled() else None)
    save.click()
    wait(browser, 5, "the saved rule").until(lambda d: "Saved rule" in d.find_element(By.ID, "rules-status").text)
    rule_id = browser.find_element(By.ID, "rules-status").text.split()[2].rstrip(";")
    item = wait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, f'#rule-list li[data-rule="{rule_id}"]'))
    assert "Enabled" in item.text
    item.find_element(By.CSS_SELECTOR, "button.toggle").click()
    wait(browser, 5, "the rule to show disabled").until(
        lambda d: "Disabled" in d.find_element(By.CSS_SELECTOR, f'#rule-list li[data-rule="{rule_id}"]').text)
    assert shelf.call("GET", f"/v1/rules/{rule_id}", shelf.admin).json["enabled"] is False
    shoot(browser, screenshots, "rules", browser.find_element(By.ID, "rules"))


def test_a_rule_is_dry_run_against_recent_events(shelf, browser, screenshots):
    sku = "CONSOLE-DRY-1"
    item = {"productId": "P-CONSOLE-DRY", "title": "Console dry run", "price": {"amount": 700, "currency": "USD"},
            "levels": [{"location": "reno", "onHand": 30}]}
    assert shelf.call("PUT", f"/v1/skus/{sku}", shelf.admin, item).status == 200
    sequences = []
    for i in range(3):
        reply = shelf.call("POST", "/v1/events", shelf.ingest, {"type": "order.confirmed", "sku": sku, "qty": 1, "channel": "amazon"},
                           {"Idempotency-Key": f"console-dry-{uuid.uuid4().hex}"})
        assert reply.status == 202, reply
        sequences.append(reply.json["sequence"])
    rules_before = shelf.call("GET", "/v1/rules", shelf.admin).json
    sign_in(browser, shelf, shelf.admin)
    admin_data_loaded(browser)
    browser.find_element(By.ID, "rule-text").send_keys(f"When an order for {sku} comes in, notify ops.")
    button = wait(browser, 5, "the dry-run button").until(lambda d: d.find_element(By.ID, "rule-dry-run"))
    button.click()
    summary = wait(browser, 10, "the dry-run answer").until(lambda d: d.find_element(By.CSS_SELECTOR, "#rule-dry-result .dry-summary"))
    assert "would have fired 3 times" in summary.text, summary.text
    shown = [int(li.get_attribute("data-sequence")) for li in browser.find_elements(By.CSS_SELECTOR, "#rule-dry-result li[data-sequence]")]
    assert sorted(shown) == sorted(sequences), (shown, sequences)
    assert shelf.call("GET", "/v1/rules", shelf.admin).json == rules_before  # nothing stored
    shoot(browser, screenshots, "rules-dry-run", browser.find_element(By.ID, "rules"))


def test_dead_letters_are_replayed_and_discarded_from_the_console(shelf, browser, screenshots):
    break_walmart(shelf)
    letter = dead_letter_for(shelf, "TEE-RED-S", 17)
    sign_in(browser, shelf, shelf.admin)
    admin_data_loaded(browser)
    entry = wait(browser, 15, "the dead letter in the console").until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'#dlq-rows tr[data-dlq="{letter["id"]}"]'))
    assert "walmart-us" in entry.text and "TEE-RED-S" in entry.text
    walmart = browser.find_element(By.CSS_SELECTOR, '#conn-rows tr[data-connection="walmart-us"]')
    wait(browser, 10, "walmart-us to show an error").until(
        lambda d: d.find_element(By.CSS_SELECTOR, '#conn-rows tr[data-connection="walmart-us"] .health').text in ("Failing", "Dead letters"))
    walmart = browser.find_element(By.CSS_SELECTOR, '#conn-rows tr[data-connection="walmart-us"]')
    assert "none" not in walmart.find_elements(By.TAG_NAME, "td")[4].text
    # The sync-lag chart draws p50 and p99 from the /metrics histogram (the demo's first pushes have been acknowledged).
    amazon = '#conn-rows tr[data-connection="amazon-us"]'
    wait(browser, 15, "a sync-lag chart with data").until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{amazon} svg .p50")
                                                          and d.find_elements(By.CSS_SELECTOR, f"{amazon} svg .p99"))
    assert "p50" in browser.find_element(By.CSS_SELECTOR, f"{amazon} svg title").get_attribute("textContent")
    assert "pushes" in browser.find_element(By.CSS_SELECTOR, amazon).text
    shoot(browser, screenshots, "channels", browser.find_element(By.ID, "channels"))

    entry.find_element(By.CSS_SELECTOR, "button.replay").click()
    wait(browser, 10, "the replay to be confirmed").until(lambda d: f"Replayed dead letter {letter['id']}" in d.find_element(By.ID, "dlq-status").text)
    wait(browser, 10, "the replayed row to leave the table").until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, f'#dlq-rows tr[data-dlq="{letter["id"]}"]'))
    assert letter["id"] not in {d["id"] for d in dead_letters(shelf)}

    other = dead_letter_for(shelf, "TEE-RED-L", 13)
    entry = wait(browser, 15, "the second dead letter").until(lambda d: d.find_element(By.CSS_SELECTOR, f'#dlq-rows tr[data-dlq="{other["id"]}"]'))
    entry.find_element(By.CSS_SELECTOR, "button.discard").click()
    confirm = wait(browser, 5, "the discard confirmation").until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'#dlq-rows tr[data-dlq="{other["id"]}"] button.discard'))
    wait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, f'#dlq-rows tr[data-dlq="{other["id"]}"] button.discard').text == "Confirm discard")
    assert other["id"] in {d["id"] for d in dead_letters(shelf)}, "the first click must not discard"
    browser.find_element(By.CSS_SELECTOR, f'#dlq-rows tr[data-dlq="{other["id"]}"] button.discard').click()
    wait(browser, 10, "the discard").until(lambda d: f"Discarded dead letter {other['id']}" in d.find_element(By.ID, "dlq-status").text)
    assert other["id"] not in {d["id"] for d in dead_letters(shelf)}
    assert confirm is not None


def test_reconciliation_and_spikes(shelf, browser, screenshots):
    sign_in(browser, shelf, shelf.admin)
    admin_data_loaded(browser)
    browser.find_element(By.ID, "recon-run").click()
    wait(browser, 30, "the reconciliation report").until(lambda d: "Latest pass" in d.find_element(By.ID, "recon-status").text)
    report = shelf.call("GET", "/v1/reconciliation", shelf.admin).json
    rows = browser.find_elements(By.CSS_SELECTOR, "#recon-table tbody tr[data-connection]")
    assert {r.get_attribute("data-connection") for r in rows} == set(report["connections"])
    assert f"{report['skusChecked']} counts checked" in browser.find_element(By.ID, "recon-status").text
    policy = browser.find_element(By.ID, "spike-policy").text
    assert "A spike starts" in policy, policy
    assert browser.find_elements(By.CSS_SELECTOR, "#spike-list li")
    shoot(browser, screenshots, "reconciliation", browser.find_element(By.ID, "reconciliation"))
    shoot(browser, screenshots, "console-admin")
    browser.execute_script("window.scrollTo(0, 0)")
    overview = os.path.join(screenshots, "overview.png")
    assert browser.get_screenshot_as_file(overview) and os.path.getsize(overview) > 1000


def test_an_active_demand_spike_is_listed(shelf, browser):
    sku = "CONSOLE-SPIKE-1"
    item = {"productId": "P-CONSOLE-SPIKE", "title": "Console spike", "price": {"amount": 1500, "currency": "USD"},
            "levels": [{"location": "reno", "onHand": 500}], "listings": [{"channel": "amazon"}]}
    assert shelf.call("PUT", f"/v1/skus/{sku}", shelf.admin, item).status == 200
    sign_in(browser, shelf, shelf.admin)
    admin_data_loaded(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, f'#spike-list li[data-spike="{sku}"]')
    for i in range(4):  # a burst far above the floor of a SKU with no sales history
        reply = shelf.call("POST", "/v1/events", shelf.ingest, {"type": "order.confirmed", "sku": sku, "qty": 5, "channel": "amazon"},
                           {"Idempotency-Key": f"console-spike-{uuid.uuid4().hex}"})
        assert reply.status == 202, reply
    shelfproc.eventually("the spike in the API", lambda: shelf.call("GET", f"/v1/stock/{sku}", shelf.read).json.get("spikeMultiplier", 1) > 1,
                         timeout=15)
    spike = wait(browser, 10, "the spike in the console's list").until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'#spike-list li[data-spike="{sku}"]'))
    assert "Spike" in spike.text and sku in spike.text


def test_keyboard_alone_reaches_every_section_with_visible_focus(shelf, browser):
    browser.get(shelf.base + "/console")
    wait(browser, 10, "the token field to have focus").until(lambda d: d.switch_to.active_element.get_attribute("id") == "token")
    ActionChains(browser).send_keys(shelf.admin, Keys.ENTER).perform()
    wait(browser, 10).until(lambda d: d.find_element(By.ID, "app").is_displayed())
    admin_data_loaded(browser)
    reached = set()
    invisible = []
    for _ in range(400):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        info = browser.execute_script("""
            const el = document.activeElement;
            const section = el.closest('section');
            const style = getComputedStyle(el);
            return {section: section ? section.id : null, tag: el.tagName, id: el.id, text: (el.textContent || '').slice(0, 40),
                    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
        """)
        if info["tag"] == "BODY":
            break
        if not info["outline"]:
            invisible.append(info)
        if info["section"]:
            reached.add(info["section"])
        if reached >= set(SECTIONS):
            break
    assert reached >= set(SECTIONS), f"Tab reached only {sorted(reached)}"
    assert not invisible, f"focused without a visible outline: {invisible[:5]}"
    # The section links move focus to their section.
    for name in SECTIONS:
        link = browser.find_element(By.CSS_SELECTOR, f'#nav a[href="#{name}"]')
        browser.execute_script("arguments[0].focus()", link)
        ActionChains(browser).send_keys(Keys.ENTER).perform()
        wait(browser, 3, f"focus on #{name}").until(lambda d: d.switch_to.active_element.get_attribute("id") == name)
    # Landmarks and labels.
    assert browser.find_elements(By.CSS_SELECTOR, "header[role=banner], nav[aria-label], main, footer")
    for field in browser.find_elements(By.CSS_SELECTOR, "input, textarea"):
        fid = field.get_attribute("id")
        assert browser.find_elements(By.CSS_SELECTOR, f'label[for="{fid}"]'), f"no label for #{fid}"


def test_phone_width_has_no_horizontal_scroll(shelf, screenshots):
    driver = make_driver(375, 812)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 375, "height": 812, "deviceScaleFactor": 1, "mobile": True})
        sign_in(driver, shelf, shelf.admin)
        admin_data_loaded(driver)
        wait(driver, 15, "the DLQ and rules to render").until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dlq-rows tr"))
        assert driver.execute_script("return window.innerWidth") == 375
        widths = driver.execute_script("""
            const vw = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > vw + 0.5
                && getComputedStyle(e).position !== 'absolute' && !e.closest('.visually-hidden, table.cards thead')).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className);
            return {scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, vw, wide};
        """)
        assert widths["scroll"] <= 375 and widths["body"] <= 375, widths
        assert not widths["wide"], widths
        for name in ("stock", "channels", "rules"):
            driver.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'start'})", name)
            path = os.path.join(screenshots, f"phone-{name}.png")
            assert driver.get_screenshot_as_file(path) and os.path.getsize(path) > 1000
    finally:
        driver.quit()


def test_a_read_token_sees_no_admin_actions_and_the_api_refuses_them(shelf, browser, screenshots):
    sign_in(browser, shelf, shelf.read)
    assert "read only" in browser.find_element(By.ID, "who").text
    notices = browser.find_elements(By.CSS_SELECTOR, ".needs-admin")
    assert len(notices) == 3 and all(n.is_displayed() for n in notices)
    assert not [e for e in browser.find_elements(By.CSS_SELECTOR, ADMIN_ACTIONS) if e.is_displayed()]
    assert not browser.find_elements(By.CSS_SELECTOR, "#dlq-rows tr, #conn-rows tr, #rule-list li")
    wait_live(browser)  # the stream is a read operation
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const token = sessionStorage.getItem('shelf.console.token');
        fetch('/v1/dlq:replay-all', {method: 'POST', headers: {Authorization: 'Bearer ' + token}}).then(r => done(r.status));
    """)
    assert status == 403
    shoot(browser, screenshots, "read-only")
