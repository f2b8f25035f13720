# SPDX-License-Identifier: MIT
"""Debian's headless Chromium through Selenium, and logging in with it."""

import os

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("WORKFLOWS_E2E_CHROMIUM", "/usr/bin/chromium")
"""The browser (Debian package ``chromium``); never a downloaded one."""

CHROMEDRIVER = os.environ.get("WORKFLOWS_E2E_CHROMEDRIVER", "/usr/bin/chromedriver")
"""Its driver (Debian package ``chromium-driver``)."""


def headless_chromium():
    """A new headless Chromium session (1400x1000) that keeps console logs."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=options
    )
    driver.set_page_load_timeout(60)
    return driver


def log_in(driver, base_url, email, password, timeout=30):
    """Log in through invenio-accounts' form (its CSRF token included)."""
    driver.delete_all_cookies()
    driver.get(f"{base_url}/login/?next=/administration/")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(driver, timeout).until(
        lambda d: "/login" not in d.current_url, "login"
    )
