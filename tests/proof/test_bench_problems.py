"""The load benchmark refuses figures that would mislead: a page that served nothing, failed
requests, or no memory figure (its exit status is then 1)."""

from bench.load import run_problems


def results(**load_overrides) -> dict:
    load = {
        "trivial signed-in view": {"requests": 5000, "failures": 0},
        "account page": {"requests": 400, "failures": 0},
        "account edit POST": {"requests": 300, "failures": 0},
    }
    load.update(load_overrides)
    return {"load": load, "peak_rss_mb": {"gunicorn workers": [88.0, 88.1]}}


def test_a_clean_run_has_no_problems():
    assert run_problems(results()) == []


def test_a_failed_request_on_any_page_is_a_problem():
    problems = run_problems(
        results(
            **{
                "account page": {"requests": 400, "failures": 1},
                "account edit POST": {"requests": 100, "failures": 6},  # edits that did not save
            }
        )
    )
    assert problems == [
        "account page: 1 of 400 requests failed",
        "account edit POST: 6 of 100 requests failed",
    ]


def test_a_page_that_served_nothing_or_a_missing_memory_figure_is_a_problem():
    r = results(**{"trivial signed-in view": {"requests": 0, "failures": 0}})
    r["peak_rss_mb"]["gunicorn workers"] = []
    assert run_problems(r) == [
        "trivial signed-in view: no request finished",
        "no gunicorn worker found for the memory figure",
    ]
