"""The Content-Security-Policy in a real browser (Debian's Chromium): the site's pages, the
admin (ours and Django's own) and the API docs load and run their scripts without the browser
refusing anything. A refusal shows as a `securitypolicyviolation` event and a console error
("Refused to ..."); both are collected from before any page script runs."""
import pytest
from django.contrib.auth import get_user_model

from translator.models import Conversion, Dataset, ModelVersion, TrainingRun

pytestmark = pytest.mark.e2e

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                              " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def watched_page(page):
    """The page, plus a check that nothing was refused since the last look."""
    refused = []
    page.add_init_script(LISTEN)
    page.on("console", lambda msg: refused.append(msg.text) if msg.type == "error" and "Content Security Policy" in msg.text else None)

    def nothing_refused(where):
        page.wait_for_load_state("networkidle")
        seen = refused + page.evaluate("window.__cspViolations || []")
        refused.clear()
        assert seen == [], f"{where}: {seen}"

    page.nothing_refused = nothing_refused
    return page


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.nothing_refused("login page")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/gallery/")


def test_the_site_runs_under_its_policy(redis_server, wave_model, watched_page, data_dir):
    from playwright.sync_api import expect

    page = watched_page
    get_user_model().objects.create_user("demo", password="demo-password-1")
    log_in(page, "demo", "demo-password-1")
    page.nothing_refused("empty gallery")

    page.goto("/")
    expect(page.get_by_text("The Great Wave")).to_be_visible()
    page.nothing_refused("upload page")
    page.set_input_files("input[type=file]", str(data_dir / "images" / "content" / "amber.jpg"))
    page.get_by_text("The Great Wave").click()
    page.get_by_role("button", name="Convert").click()

    # No worker: the job stays queued while jobs.js polls its state through the API.
    expect(page.get_by_role("heading", name="amber.jpg")).to_be_visible()
    with page.expect_response(lambda r: "/api/v1/conversions/" in r.url and r.status == 200):
        pass
    page.nothing_refused("detail page")
    # jobs.js asks before deleting: its handler runs under the policy.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete").click()
    assert dialogs == ["Delete this photo and its result?"]
    assert Conversion.objects.count() == 1

    page.goto("/gallery/")
    expect(page.locator(".tile")).to_have_count(1)
    page.nothing_refused("gallery")

    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", name="There is nothing here")).to_be_visible()
    page.nothing_refused("404 page")


def test_the_admin_runs_under_the_policy(redis_server, wave_model, watched_page):
    from playwright.sync_api import expect

    page = watched_page
    root = get_user_model().objects.create_superuser("root", password="root-password-1")
    page.goto("/admin/login/")
    page.nothing_refused("admin login")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("root-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.nothing_refused("admin index")

    # Django's own scripts: the changelist's select-all box (actions.js).
    page.goto("/admin/translator/artmodel/")
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select").first).to_be_checked()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    page.nothing_refused("model list")

    # An unpublished version with a caveat: its page shows the Publish form and the labels.
    version = ModelVersion.objects.create(art_model=wave_model, number=2, config={}, labels=["made in a test"])
    dataset = Dataset.objects.create(name="tiny", family="fast_style", status=Dataset.Status.READY,
                                     created_by=root)
    run = TrainingRun.objects.create(name="watched", family="fast_style", dataset=dataset, config={},
                                     status=TrainingRun.Status.RUNNING, total_steps=100, step=10)
    for url in [
        f"/admin/translator/artmodel/{wave_model.pk}/change/",
        f"/admin/translator/modelversion/{version.pk}/change/",
        f"/admin/translator/modelversion/{wave_model.current_version.pk}/change/",
        "/admin/translator/dataset/add/",
        f"/admin/translator/dataset/{dataset.pk}/change/",
        "/admin/translator/trainingrun/add/",
        "/admin/translator/trainingrun/add/?family=fast_style",
        "/admin/auth/user/add/",
        f"/admin/auth/user/{root.pk}/change/",
        "/admin/axes/accessattempt/",
    ]:
        page.goto(url)
        expect(page.locator("#content")).to_be_visible()
        page.nothing_refused(url)

    # Our admin script: the running run's live panel refreshes itself (every 3 s).
    page.goto(f"/admin/translator/modelversion/{version.pk}/change/")
    expect(page.get_by_role("link", name="Publish this version…")).to_be_visible()
    page.goto(f"/admin/translator/modelversion/{version.pk}/publish/")
    expect(page.get_by_label("Description")).to_be_visible()
    page.nothing_refused("publish page")
    page.goto(f"/admin/translator/trainingrun/{run.pk}/change/")
    expect(page.locator("[data-run-step]")).to_contain_text("step 10 of 100")
    TrainingRun.objects.filter(pk=run.pk).update(step=42)
    expect(page.locator("[data-run-step]")).to_contain_text("step 42 of 100", timeout=15_000)
    page.nothing_refused("training run page")


def test_the_api_docs_render_under_the_policy(watched_page):
    from playwright.sync_api import expect

    page = watched_page
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Restyle API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 5
    page.locator(".opblock-summary").first.click()  # open one: parameters, responses, examples
    expect(page.locator(".opblock-body").first).to_be_visible()
    page.nothing_refused("API docs")


def test_the_browsable_api_runs_its_scripts_under_the_policy(redis_server, wave_model, watched_page):
    """DRF's own template has two style attributes the policy refuses (our stylesheet puts the
    Filters button where they would); nothing else is refused, and its scripts run."""
    from playwright.sync_api import expect

    page = watched_page
    get_user_model().objects.create_user("demo", password="demo-password-1")
    log_in(page, "demo", "demo-password-1")
    page.nothing_refused("gallery")
    refused = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto("/api/v1/conversions/")
    expect(page.get_by_role("heading", name="Conversion List")).to_be_visible()
    filters = page.get_by_role("button", name="Filters")
    assert filters.evaluate("b => getComputedStyle(b).float") == "right"
    filters.click()  # bootstrap.js opens the filter form
    expect(page.locator("#filtersModal")).to_be_visible()
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.__cspViolations")
    assert violations and all(v.startswith("style-src-attr blocked inline") for v in violations), violations
    assert all("Applying inline style" in text for text in refused), refused
