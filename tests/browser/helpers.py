from axe_playwright_python.sync_playwright import Axe

_axe = Axe()


def sign_in(page, live_server, username: str, password: str = "pw-for-tests-1") -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in/" not in url)


def assert_accessible(page) -> None:
    """axe-core (shipped in the axe-playwright-python wheel): no serious or critical violation."""
    results = _axe.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, "axe found:\n" + "\n".join(bad)
