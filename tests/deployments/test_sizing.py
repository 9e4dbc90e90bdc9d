"""The sizing check against the published instance sizes, as a table: tier boundaries, the
reading chosen where the sources disagree, the warnings and the sources they name."""

import pytest

from deployments.sizing import (
    SOURCE_CHART,
    SOURCE_ROCKSKIP,
    SOURCE_TSHIRT,
    TIERS,
    SizingInput,
    format_gb,
    sizing_check,
)

GB = 1024  # MB per GB, the reading chosen


def tier_name(**kwargs) -> str | None:
    result = sizing_check(SizingInput(**kwargs))
    return result.tier.name if result.tier else None


@pytest.mark.parametrize(
    "users, expected",
    [
        (1, "XS"),
        (500, "XS"),  # "up to 500": inclusive
        (501, "S"),
        (1_000, "S"),
        (1_001, "M"),
        (5_000, "M"),
        (5_001, "L"),
        (10_000, "L"),
        (10_001, "XL"),
        (20_000, "XL"),
        (20_001, None),  # beyond the chart
    ],
)
def test_users_tier_boundaries(users, expected):
    assert tier_name(users=users) == expected


@pytest.mark.parametrize(
    "repositories, expected",
    [
        (1_000, "XS"),
        (1_001, "XS"),  # the deploy README's XS stops at 1,000; the docs chart's at 5,000
        (5_000, "XS"),
        (5_001, "S"),
        (10_000, "S"),
        (10_001, "M"),
        (50_000, "M"),
        (50_001, "L"),
        (100_000, "L"),
        (100_001, "XL"),
        (250_000, "XL"),
        (250_001, None),
    ],
)
def test_repositories_tier_boundaries(repositories, expected):
    assert tier_name(repositories_discussed=repositories) == expected


@pytest.mark.parametrize(
    "concurrent, expected",
    [
        (100, "XS"),
        (101, "S"),
        (200, "S"),
        (201, "M"),
        (1_000, "M"),
        (1_001, "L"),
        (2_000, "L"),
        (2_001, "XL"),
        (4_000, "XL"),
        (4_001, None),
    ],
)
def test_concurrent_users_tier_boundaries(concurrent, expected):
    assert tier_name(concurrent_users=concurrent) == expected


@pytest.mark.parametrize(
    "largest_mb, expected",
    [
        (5 * GB, "XS"),
        (5 * GB + 1, "S"),
        (23 * GB, "S"),
        (23 * GB + 1, "L"),  # M allows 23 GB too, so the next larger allowance is L's 35 GB
        (35 * GB, "L"),
        (35 * GB + 1, None),
    ],
)
def test_largest_repository_tier_boundaries(largest_mb, expected):
    assert tier_name(largest_repository_mb=largest_mb) == expected


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        # The docs chart's own examples of "choose the larger": both are L.
        ({"users": 8_000, "repositories_discussed": 80_000}, "L"),
        ({"users": 1_000, "repositories_discussed": 80_000}, "L"),  # not M (the "≥" pages)
        ({"users": 400, "concurrent_users": 300}, "M"),
        ({"users": 3_000, "largest_repository_mb": 30 * GB}, "L"),
        # Repositories: the larger of the discussed limit and the code hosts' number.
        ({"repositories_discussed": 4_000, "repositories_recorded": 12_000}, "M"),
        ({"repositories_discussed": 60_000, "repositories_recorded": 12_000}, "L"),
    ],
)
def test_the_larger_tier_wins(kwargs, expected):
    assert tier_name(**kwargs) == expected


def messages(result) -> list[str]:
    return [w.message for w in result.warnings]


def test_under_sized_cpu_and_memory_warn_with_the_chart_as_source():
    result = sizing_check(SizingInput(users=3_000, total_cpu=16, total_memory_gb=64))
    assert result.tier.name == "M"
    assert (result.tier.vcpu, result.tier.memory_gb) == (32, 128)
    assert result.reasons == ("3,000 users",)
    assert [(w.message, w.source) for w in result.warnings] == [
        ("Total CPU 16 is below the 32 vCPU of tier M for 3,000 users.", SOURCE_CHART),
        ("Total Memory 64 GB is below the 128 GB of tier M for 3,000 users.", SOURCE_CHART),
    ]
    assert result.provisioned_tier.name == "S"


@pytest.mark.parametrize(
    "cpu, memory, warned",
    [(32, 128, []), (31, 128, ["Total CPU"]), (32, 127, ["Total Memory"]), (96, 384, [])],
)
def test_resources_exactly_at_the_tier_are_enough(cpu, memory, warned):
    result = sizing_check(SizingInput(users=5_000, total_cpu=cpu, total_memory_gb=memory))
    assert [m.split(" ")[0] + " " + m.split(" ")[1] for m in messages(result)] == warned


def test_largest_repository_above_the_base_tier_names_the_deploy_readme():
    result = sizing_check(
        SizingInput(users=800, largest_repository_mb=30 * GB, rockskip_enabled=True)
    )
    assert result.tier.name == "L"
    assert result.reasons == ("a 30 GB largest repository",)
    assert [(w.message, w.source) for w in result.warnings] == [
        ("Largest repository 30 GB exceeds tier S's 23 GB: choose tier L.", SOURCE_TSHIRT)
    ]


def test_concurrent_users_above_the_base_tier_warn():
    result = sizing_check(SizingInput(users=900, concurrent_users=1_500))
    assert result.tier.name == "L"
    assert messages(result) == ["1,500 concurrent users exceed tier S's 200: choose tier L."]
    assert result.warnings[0].source == SOURCE_TSHIRT


def test_a_big_monorepo_without_rockskip_warns_with_the_rockskip_docs():
    result = sizing_check(SizingInput(users=800, largest_repository_mb=4 * GB))
    assert result.tier.name == "S"
    rockskip = [w for w in result.warnings if w.source == SOURCE_ROCKSKIP]
    assert [w.message for w in rockskip] == [
        "A 4 GB monorepo and Rockskip is not enabled: symbol search and code navigation may "
        "time out on it."
    ]


@pytest.mark.parametrize(
    "largest_mb, monorepos, rockskip, warns",
    [
        (2 * GB - 1, 0, False, False),  # below 2 GB: not a monorepo for Rockskip
        (2 * GB, 0, False, True),  # "2GB+"
        (2 * GB, 0, True, False),
        (None, 3, False, True),  # monorepos recorded, size unknown: ask for it
        (None, 3, True, False),
        (None, 0, False, False),
    ],
)
def test_rockskip_threshold(largest_mb, monorepos, rockskip, warns):
    result = sizing_check(
        SizingInput(
            largest_repository_mb=largest_mb, monorepos=monorepos, rockskip_enabled=rockskip
        )
    )
    assert any(w.source == SOURCE_ROCKSKIP for w in result.warnings) is warns


def test_beyond_the_chart_recommends_no_tier_and_compares_with_xl():
    result = sizing_check(
        SizingInput(users=25_000, concurrent_users=3_000, total_cpu=96, total_memory_gb=256)
    )
    assert result.tier is None
    assert result.beyond_chart
    assert messages(result) == [
        "25,000 users exceed tier XL's 20,000, the largest published size: plan this instance "
        "with Sourcegraph (resource estimator, Kubernetes with autoscaling).",
        "Total Memory 256 GB is below the 384 GB of tier XL for 25,000 users.",
    ]


def test_sourcegraph_cloud_resources_are_not_checked():
    result = sizing_check(
        SizingInput(users=3_000, total_cpu=None, total_memory_gb=None, managed_by_sourcegraph=True)
    )
    assert result.tier.name == "M"
    assert result.warnings == ()
    assert any("sized by Sourcegraph" in note for note in result.notes)


def test_nothing_recorded_gives_no_recommendation_but_says_what_is_missing():
    result = sizing_check(SizingInput(total_cpu=8, total_memory_gb=32))
    assert result.tier is None and not result.beyond_chart
    assert result.warnings == ()
    assert "Record the discussed upper limits" in result.notes[0]
    assert result.provisioned_tier.name == "XS"


def test_missing_resources_are_notes_not_warnings():
    result = sizing_check(SizingInput(users=700))
    assert result.warnings == ()
    assert result.notes == ("Total CPU is not recorded.", "Total Memory (GB) is not recorded.")


@pytest.mark.parametrize(
    "cpu, memory, provisioned",
    [(4, 16, None), (8, 32, "XS"), (16, 32, "XS"), (16, 64, "S"), (48, 192, "L"), (200, 800, "XL")],
)
def test_provisioned_tier_needs_both_cpu_and_memory(cpu, memory, provisioned):
    result = sizing_check(SizingInput(total_cpu=cpu, total_memory_gb=memory))
    assert (result.provisioned_tier.name if result.provisioned_tier else None) == provisioned


def test_reasons_join_every_dimension_that_decided_the_tier():
    result = sizing_check(
        SizingInput(users=3_000, repositories_discussed=40_000, total_cpu=16, total_memory_gb=128)
    )
    assert result.reason_text == "3,000 users and 40,000 repositories"
    assert messages(result) == [
        "Total CPU 16 is below the 32 vCPU of tier M for 3,000 users and 40,000 repositories."
    ]


def test_chart_values_match_the_published_sizes():
    assert [(t.name, t.max_users, t.max_repositories, t.vcpu, t.memory_gb) for t in TIERS] == [
        ("XS", 500, 5_000, 8, 32),
        ("S", 1_000, 10_000, 16, 64),
        ("M", 5_000, 50_000, 32, 128),
        ("L", 10_000, 100_000, 48, 192),
        ("XL", 20_000, 250_000, 96, 384),
    ]
    assert [(t.max_largest_repository_gb, t.max_concurrent_users) for t in TIERS] == [
        (5, 100),
        (23, 200),
        (23, 1_000),
        (35, 2_000),
        (35, 4_000),
    ]


@pytest.mark.parametrize(
    "mb, text",
    [(4096, "4 GB"), (4000, "3.9 GB"), (30 * GB, "30 GB"), (12_000, "12 GB"), (512, "0.5 GB")],
)
def test_format_gb(mb, text):
    assert format_gb(mb) == text
