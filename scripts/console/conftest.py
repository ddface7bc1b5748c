"""A real `shelf serve` (temporary SQLite file, demo fixtures) beside `shelf-sim`, and headless Chromium driven by Selenium.

Binaries: SHELF_BIN / SHELF_SIM_BIN as for scripts/reliability (shelfproc). Chromium: CHROME_BIN (default /usr/bin/chromium)
and CHROMEDRIVER (default /usr/bin/chromedriver). Screenshots go to CONSOLE_SCREENSHOTS (default scripts/console/screenshots)."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "reliability"))

import shelfproc  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

SCREENSHOTS = os.environ.get("CONSOLE_SCREENSHOTS", os.path.join(HERE, "screenshots"))


class ConsoleStack:
    """Shelf + shelf-sim with the demo fixtures, and one token per scope set."""

    def __init__(self, stack):
        self.stack = stack
        self.shelf = stack.shelf
        self.base = stack.shelf.base
        self.admin = stack.admin
        self.read = shelfproc.create_token(stack.db, "read", label="console read")
        self.ingest = shelfproc.create_token(stack.db, "ingest", label="console ingest")

    def call(self, method, path, token, body=None, headers=None):
        return self.shelf.call(method, path, token, body, headers)


@pytest.fixture(scope="session")
def shelf():
    with shelfproc.Stack(prefix="shelf-console-") as stack:
        yield ConsoleStack(stack)


def make_driver(width=1280, height=1800):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROME_BIN", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-extensions",
                "--no-first-run", "--disable-background-networking", f"--window-size={width},{height}",
                "--force-device-scale-factor=1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(15)
    return driver


@pytest.fixture
def browser():
    driver = make_driver()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def screenshots():
    os.makedirs(SCREENSHOTS, exist_ok=True)
    return SCREENSHOTS
