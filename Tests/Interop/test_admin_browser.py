"""The admin page in a real browser: headless Chromium (Debian's chromium + chromium-driver,
driven by selenium) sets the admin password on first boot, logs out and in again, adds an Art-Net
bridge from the generated form (a bad value refused under its field first), watches a param that a clasp-to client sets appear live (with its writer),
sets one from the page, saves a screenshot to docs/admin.png (shown in the README), and moves a
DMX fader (the param follows) while a client's SET moves another. Bounded well under 60 s."""

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from admin_client import PASSWORD, admin_gateway
from conftest import REPO, wait_until
from test_admin import udp_port
from test_python_client import barrier, close_all, collector, connect, values_for

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as seen  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
SCREENSHOT = REPO / "docs" / "admin.png"


@pytest.fixture
def browser():
    if not CHROMIUM or not DRIVER:
        pytest.fail("chromium and chromedriver are needed (scripts/test installs Debian's chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,860"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(15)
    try:
        yield driver
    finally:
        driver.quit()


def test_newcomer_sets_a_password_logs_in_and_watches_params_live(own_gateway, browser):
    started = time.monotonic()
    gateway = admin_gateway(own_gateway, "--name", "stage-left")
    wait = WebDriverWait(browser, 15)
    browser.get(f"http://127.0.0.1:{gateway.admin_port}/")

    # First boot: only the setup form.
    wait.until(seen.visibility_of_element_located((By.ID, "setup-password")))
    assert not browser.find_element(By.ID, "nav").is_displayed()
    browser.find_element(By.ID, "setup-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "setup-confirm").send_keys(PASSWORD)
    browser.find_element(By.ID, "setup-submit").click()
    wait.until(seen.visibility_of_element_located((By.ID, "stats")))
    wait.until(lambda d: "Sessions" in d.find_element(By.ID, "stats").text)

    # Log out, then in with the password just set.
    browser.find_element(By.CSS_SELECTOR, 'nav button[data-page="security"]').click()
    browser.find_element(By.ID, "logout").click()
    wait.until(seen.visibility_of_element_located((By.ID, "login-password")))
    browser.find_element(By.ID, "login-password").send_keys("wrong password")
    browser.find_element(By.ID, "login-submit").click()
    wait.until(lambda d: "wrong password" in d.find_element(By.ID, "login-error").text)
    browser.find_element(By.ID, "login-password").clear()
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait.until(seen.visibility_of_element_located((By.ID, "nav")))

    # Bridges: add an Art-Net bridge from the form built from the kind's fields; a bad value
    # is refused under its field, the corrected one runs.
    browser.find_element(By.CSS_SELECTOR, 'nav button[data-page="bridges"]').click()
    wait.until(seen.visibility_of_element_located((By.ID, "bridge-editor")))
    Select(browser.find_element(By.ID, "bridge-kind")).select_by_value("artnet")
    browser.find_element(By.ID, "bridge-id").send_keys("stage")
    bind = browser.find_element(By.ID, "field-bind")
    bind.clear()
    bind.send_keys("stage-left")
    port = browser.find_element(By.ID, "field-port")
    port.clear()
    port.send_keys(str(udp_port()))
    browser.find_element(By.ID, "field-poll").click()  # no ArtPoll broadcasts from a test
    browser.find_element(By.ID, "field-input_universes").send_keys("1")
    browser.find_element(By.ID, "bridge-save").click()
    bind_error = '#bridge-editor [data-error="bind"]'
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, bind_error).text != "")
    bind.clear()
    bind.send_keys("127.0.0.1")
    browser.find_element(By.ID, "bridge-save").click()
    state = '#bridge-rows tr[data-bridge="stage"] td:nth-child(3)'
    try:
        # Running; "degraded" with its reason while no Art-Net source sends universe 1.
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, state)
                   and d.find_element(By.CSS_SELECTOR, state).text.startswith(("running", "degraded: no Art-Net source")))
    except TimeoutException:
        pytest.fail("the bridge did not run; the page says:\n" + browser.find_element(By.ID, "page-bridges").text)

    # Live signals: a clasp-to client sets a param; it shows up without reloading.
    browser.find_element(By.CSS_SELECTOR, 'nav button[data-page="signals"]').click()
    wait.until(lambda d: d.find_element(By.ID, "monitor-state").text == "live")

    async def desk_sets():
        client = await connect(gateway.url, name="lighting-desk")
        try:
            await client.set("/stage/dimmer", 0.6)
            await client.set("/stage/scene", "warm")
            await barrier(client)
        finally:
            await close_all(client)

    asyncio.run(desk_sets())
    row = '#monitor-rows tr[data-address="/stage/dimmer"] td.value'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, row) and d.find_element(By.CSS_SELECTOR, row).text == "0.6")

    # Set a value from the page.
    browser.find_element(By.ID, "set-address").send_keys("/stage/haze")
    browser.find_element(By.ID, "set-value").send_keys("0.25")
    browser.find_element(By.CSS_SELECTOR, "#set-form button").click()
    haze = '#monitor-rows tr[data-address="/stage/haze"] td.value'
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, haze) and d.find_element(By.CSS_SELECTOR, haze).text == "0.25")
    assert "Set /stage/haze." in browser.find_element(By.ID, "set-result").text
    # The writer (the session id of the client that set it) is filled in from the param list.
    writer = '#monitor-rows tr[data-address="/stage/dimmer"] td:nth-child(4)'
    wait.until(lambda d: len(d.find_element(By.CSS_SELECTOR, writer).text) == 36)

    time.sleep(0.5)  # let the row highlight fade before the picture
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000

    # DMX: the Art-Net bridge's universe 1 as 512 faders. Moving one sets its channel for every
    # client; a client's SET of another channel moves that fader.
    browser.find_element(By.CSS_SELECTOR, 'nav button[data-page="dmx"]').click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#dmx-faders input")) == 512)
    assert Select(browser.find_element(By.ID, "dmx-universe")).first_selected_option.text == "1"
    wait.until(lambda d: d.find_element(By.ID, "dmx-state").text == "live")

    async def console_watches_and_sets():
        client = await connect(gateway.url, name="console")
        try:
            levels, _ = collector(client, "/dmx/1/*")
            await barrier(client)
            fader = browser.find_element(By.ID, "fader-5")
            fader.click()
            fader.send_keys(Keys.END)  # a range input's End key: the maximum, 255
            await wait_until(lambda: 255 in values_for(levels, "/dmx/1/5"), 10, what="/dmx/1/5 = 255 from the fader")
            await client.set("/dmx/1/7", 128)
            await barrier(client)
        finally:
            await close_all(client)

    asyncio.run(console_watches_and_sets())
    wait.until(lambda d: d.find_element(By.ID, "fader-7").get_attribute("value") == "128")
    assert time.monotonic() - started < 60
