"""The demo front end in a real browser: headless Chromium, driven by Selenium, against a broker
started with no configuration (embedded MX sandbox, SQLite in a temporary folder).

A user signs in, connects MX Bank through the sandbox's Connect widget, sees accounts and
transactions appear without reloading, pages and filters transactions, then starts connecting
MX Bank (MFA), leaves the widget at the security questions, and finishes it from the "Fix
connection" button; connects MX Bank (OAuth) by authorizing in the bank's own window; verifies
an account (instantly and by microdeposits); last, refreshes balances, loads two years of
history, downloads a statement (checked to be a PDF a reader opens) and sees investment
holdings. Screenshots of each step go to the output folder.

Usage: demo_test.py --output DIR -- COMMAND...   (COMMAND starts the broker, e.g. swift run connect-broker)
"""

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 30


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Broker:
    """The broker under test, in its own process group, with a fresh data folder."""

    def __init__(self, command, log_path):
        self.port = free_port()
        self.data = tempfile.mkdtemp(prefix="connect-broker-browser-")
        environment = dict(os.environ, PORT=str(self.port), DATA_DIR=self.data, SANDBOX_CONNECT_SECONDS="1", LOG_LEVEL="info")
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(command, env=environment, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = "http://127.0.0.1:%d" % self.port
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the broker exited with status %d; see %s" % (self.process.returncode, log_path))
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the broker was not ready within 120 s")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)


class DemoInBrowserTests(unittest.TestCase):
    command = None
    output = None

    @classmethod
    def setUpClass(cls):
        os.makedirs(cls.output, exist_ok=True)
        cls.broker = Broker(cls.command, os.path.join(cls.output, "broker.log"))
        options = webdriver.ChromeOptions()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu"):
            options.add_argument(argument)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        cls.downloads = tempfile.mkdtemp(prefix="connect-broker-downloads-")
        options.add_experimental_option("prefs", {"download.default_directory": cls.downloads, "download.prompt_for_download": False})
        service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
        try:
            cls.driver = webdriver.Chrome(options=options, service=service)
        except Exception:
            cls.broker.stop()
            raise
        cls.driver.set_page_load_timeout(WAIT_SECONDS)
        cls.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": cls.downloads})

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.broker.stop()
        shutil.rmtree(cls.downloads, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------

    def wait(self, condition, message, seconds=WAIT_SECONDS):
        try:
            return WebDriverWait(
                self.driver, seconds, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]).until(condition)
        except TimeoutException:
            self.screenshot("failure-" + message.replace(" ", "-")[:40])
            self.fail("waited %d s for %s" % (seconds, message))

    def screenshot(self, name):
        self.driver.switch_to.default_content()
        self.driver.save_screenshot(os.path.join(self.output, name + ".png"))

    def click(self, element):
        """Clicks like a user who scrolled the element into view (past the sticky header)."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def texts(self, selector):
        """The text of every element `selector` matches, read in one step (the page re-renders as it learns)."""
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]), (node) => node.textContent)", selector)

    def css(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def visible(self, selector):
        return EC.visibility_of_element_located((By.CSS_SELECTOR, selector))

    def sign_in(self, user):
        self.driver.get(self.broker.url + "/")
        field = self.wait(self.visible("#sign-in-form input[name=user]"), "the sign-in form")
        field.clear()
        field.send_keys(user)
        self.click(self.css("#sign-in-form button[type=submit]")[0])
        self.wait(self.visible("#dashboard"), "the dashboard")
        self.wait(lambda driver: self.css("#live")[0].get_attribute("data-state") == "online", "the live event stream")

    def open_widget(self, button_selector):
        self.click(self.css(button_selector)[0])
        frame = self.wait(self.visible("#widget-dialog iframe"), "the widget frame")
        self.driver.switch_to.frame(frame)

    def enter_credentials(self, institution):
        self.click(self.wait(self.visible("button[data-code='%s']" % institution), "the institution list"))
        self.wait(self.visible("input[name=username]"), "the credentials form").send_keys("mxuser")
        self.css("input[name=password]")[0].send_keys("password")
        self.click(self.css("form button[type=submit]")[0])

    def answer_mfa(self):
        self.wait(self.visible("input[name='CRD-mfa-text']"), "the MFA questions").send_keys("mxcity")
        self.click(self.css("input[type=radio][value='checking-1234']")[0])
        image = self.css("img.challenge-image")[0]
        self.assertTrue(self.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image),
                        "the image challenge's picture did not load")
        self.css("input[name='CRD-mfa-image']")[0].send_keys("7291")
        self.screenshot_frame("mfa-questions")
        self.click(self.css("form button[type=submit]")[0])

    def screenshot_frame(self, name):
        self.driver.save_screenshot(os.path.join(self.output, name + ".png"))

    def finish_widget(self):
        self.wait(lambda driver: "Connected" in driver.find_element(By.TAG_NAME, "h1").text, "the widget to say Connected")
        self.screenshot_frame("widget-connected")
        self.click(self.css("button")[0])
        self.driver.switch_to.default_content()
        self.wait(EC.invisibility_of_element_located((By.CSS_SELECTOR, "#widget-dialog")), "the widget to close")

    def page_info(self):
        return self.css("#page-info")[0].text

    def marker(self):
        """Sets a property on the page's window: it survives only as long as the page is not reloaded."""
        self.driver.execute_script("window.__notReloaded = true")

    def assert_not_reloaded(self):
        self.assertTrue(self.driver.execute_script("return window.__notReloaded === true"), "the page was reloaded")

    # -- the flow -------------------------------------------------------------------------------

    def test_connect_banks_and_see_data_live(self):
        self.sign_in("browser-%d" % int(time.time() * 1000))
        self.assertTrue(self.css("#members-empty")[0].is_displayed())
        self.screenshot("01-signed-in")
        self.marker()

        self.open_widget("#connect-bank")
        self.enter_credentials("mxbank")
        self.finish_widget()
        self.wait(lambda driver: len(self.css(".account")) >= 1, "accounts to appear")
        self.wait(lambda driver: len(self.css("#transactions tbody tr")) >= 1, "transactions to appear")
        self.wait(lambda driver: self.texts(".member .badge") == ["Connected"], "the member to show Connected")
        self.assert_not_reloaded()
        accounts_after_first = len(self.css(".account"))
        self.assertIn("MX Bank", self.css(".member strong")[0].text)
        self.assertRegex(self.css(".account .balance")[0].text, r"^-?\$[\d,]+\.\d\d$")
        self.screenshot("02-mx-bank-connected")

        first_page = self.page_info()
        self.assertRegex(first_page, r"^Page 1 of (\d+) · \d+ transactions$")
        if not self.css("#next-page")[0].get_attribute("disabled"):
            first_row = self.css("#transactions tbody tr")[0].get_attribute("data-transaction-guid")
            self.click(self.css("#next-page")[0])
            self.wait(lambda driver: self.page_info().startswith("Page 2 of"), "the second page")
            self.assertNotEqual(self.css("#transactions tbody tr")[0].get_attribute("data-transaction-guid"), first_row)
            self.click(self.css("#previous-page")[0])
            self.wait(lambda driver: self.page_info().startswith("Page 1 of"), "the first page again")

        newest = max(self.texts("#transactions tbody td.date"))
        self.driver.execute_script(
            "const form = document.getElementById('transaction-filter');"
            "form.from_date.value = arguments[0]; form.to_date.value = arguments[0];", newest)
        self.click(self.css("#transaction-filter button[type=submit]")[0])
        self.wait(lambda driver: set(self.texts("#transactions tbody td.date")) == {newest}, "transactions of one day only")
        self.screenshot("03-transactions-filtered")
        self.click(self.css("#transaction-filter button[type=reset]")[0])
        self.wait(lambda driver: self.page_info() == first_page, "the unfiltered list again")

        self.open_widget("#connect-bank")
        self.enter_credentials("mxbank_mfa")
        self.wait(self.visible("input[name='CRD-mfa-text']"), "the MFA questions")
        self.screenshot_frame("04-mfa-asked")
        self.driver.switch_to.default_content()
        self.click(self.css("#widget-close")[0])
        fix = self.wait(self.visible(".member[data-status='CHALLENGED'] button.fix"), "a Fix connection button for the MFA member")
        self.assertIn("security question", self.css("#notice")[0].text)
        self.screenshot("05-needs-answer")

        self.click(fix)
        frame = self.wait(self.visible("#widget-dialog iframe"), "the widget frame for the fix")
        self.driver.switch_to.frame(frame)
        self.answer_mfa()
        self.finish_widget()
        self.wait(lambda driver: self.texts(".member .badge") == ["Connected", "Connected"], "both members Connected")
        self.wait(lambda driver: len(self.css(".account")) > accounts_after_first, "the MFA bank's accounts")
        self.assert_not_reloaded()
        self.screenshot("06-both-connected")

        self.open_widget("#connect-bank")
        self.click(self.wait(self.visible("button[data-code='mxbank_oauth']"), "the institution list"))
        widget_window = self.driver.current_window_handle
        self.click(self.wait(self.visible("main button"), "the button to the bank's page"))
        self.wait(lambda driver: len(driver.window_handles) == 2, "the bank's sign-in window")
        bank_window = [handle for handle in self.driver.window_handles if handle != widget_window][0]
        self.driver.switch_to.window(bank_window)
        self.click(self.wait(self.visible("#authorize"), "the bank's Authorize button"))
        self.wait(lambda driver: "Authorized" in driver.find_element(By.TAG_NAME, "h1").text, "the bank to confirm")
        self.driver.close()
        self.driver.switch_to.window(widget_window)
        self.driver.switch_to.frame(self.css("#widget-dialog iframe")[0])
        self.finish_widget()
        self.wait(lambda driver: self.texts(".member .badge") == ["Connected"] * 3, "three members Connected")
        self.assert_not_reloaded()
        self.screenshot("07-oauth-connected")

        mx_bank_guid = self.css(".member")[0].get_attribute("data-member-guid")
        mx_bank = ".member[data-member-guid='%s']" % mx_bank_guid
        self.click(self.css(mx_bank + " button.verify")[0])
        self.wait(lambda driver: len(self.css(mx_bank + " .numbers li")) >= 1, "the verified account numbers")
        self.wait(lambda driver: len(self.css(mx_bank + " .owners")) == 1, "the account owners")
        for line in self.texts(mx_bank + " .numbers li"):
            self.assertRegex(line, r"account XXXXXX\d{4} · routing \d{9}$", "numbers are masked to the front end")
        self.assert_not_reloaded()
        self.screenshot("08-verified")

        form = self.css("#microdeposit-form")[0]
        form.find_element(By.NAME, "account_number").send_keys("1234567890")
        form.find_element(By.NAME, "routing_number").send_keys("091000019")
        self.click(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        amounts = self.wait(self.visible(".microdeposit[data-status='DEPOSITED'] form"), "the deposits to land")
        self.assertIn("XXXXXX7890", self.css(".microdeposit")[0].text)
        amounts.find_element(By.NAME, "deposit_amount_1").send_keys("0.07")
        amounts.find_element(By.NAME, "deposit_amount_2").send_keys("0.11")
        self.click(amounts.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        self.wait(lambda driver: len(self.css(".microdeposit[data-status='VERIFIED']")) == 1, "the microdeposit to be verified")
        self.assert_not_reloaded()
        self.screenshot("09-microdeposit-verified")

        balances = ".account[data-member-guid='%s'] .balance" % mx_bank_guid
        before = self.texts(balances)
        self.click(self.wait(self.visible(mx_bank + " button[data-job=check_balance]"), "the Refresh balances button"))
        self.wait(lambda driver: len(self.texts(balances)) == len(before) and self.texts(balances) != before, "the balances to move")
        self.assert_not_reloaded()
        self.screenshot("10-balances-refreshed")

        def total_transactions():
            found = re.search(r"· (\d+) transactions$", self.page_info())
            return int(found.group(1)) if found else 0

        recent = total_transactions()
        self.click(self.wait(self.visible(mx_bank + " button[data-job=extend_history]"), "the Load two years button"))
        self.wait(lambda driver: self.css("#transaction-filter input[name=from_date]")[0].get_attribute("value") != "", "the filter to reach back two years")
        self.wait(lambda driver: total_transactions() > recent * 1.5, "two years of transactions")
        self.assert_not_reloaded()
        self.screenshot("11-two-years")

        self.click(self.wait(self.visible(mx_bank + " button[data-job=fetch_statements]"), "the Get statements button"))
        self.wait(lambda driver: len(self.css("#statements tbody tr")) >= 1, "the statements list")
        self.screenshot("12-statements")
        self.click(self.css("#statements button.download")[0])
        self.wait(lambda driver: [path for path in glob.glob(os.path.join(self.downloads, "*.pdf"))], "the statement to download")
        pdf = glob.glob(os.path.join(self.downloads, "*.pdf"))[0]
        with open(pdf, "rb") as saved:
            self.assertEqual(saved.read(5), b"%PDF-")
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", pdf, "-"], check=True, capture_output=True, text=True)
            self.assertIn("Statement period", text.stdout)
            self.assertEqual(text.stderr, "", "pdftotext finds nothing wrong")
        else:
            print("the statement's text not checked: pdftotext is not installed")

        self.wait(lambda driver: len(self.css("#holdings tbody tr")) >= 1, "the investment holdings")
        for row in self.texts("#holdings tbody tr td:first-child strong"):
            self.assertRegex(row, r"^[A-Z]{2,5}$")
        self.assert_not_reloaded()
        self.screenshot("13-holdings")

        errors = [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
        self.assertEqual(errors, [], "errors in the browser console: %s" % [entry["message"] for entry in errors])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("command", nargs="+")
    arguments = parser.parse_args()
    DemoInBrowserTests.command = arguments.command
    DemoInBrowserTests.output = os.path.abspath(arguments.output)
    result = unittest.TextTestRunner(verbosity=2).run(unittest.defaultTestLoader.loadTestsFromTestCase(DemoInBrowserTests))
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
