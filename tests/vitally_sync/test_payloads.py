"""The payload mapping is pure: portal values in, Vitally traits out (issue 6, "What is pushed")."""

import datetime
import json
from decimal import Decimal

import pytest

from vitally_sync.payloads import (
    config_fingerprint,
    default_trait_map,
    trait_fields,
    trait_map_resolve,
    traits_acked,
    traits_build,
    traits_diff,
    traits_to_send,
)

FULL = {
    "technical_design_document_urls": (
        "https://docs.example.com/design",
        "https://docs.example.com/network",
    ),
    "prod_infra_start_date": datetime.date(2025, 3, 1),
    "prod_infra_completion_date": datetime.date(2025, 4, 15),
    "sourcegraph_instance_url": "https://sourcegraph.acme.com",
    "deployment_type": "Kubernetes with Helm",
    "infrastructure_hosting_provider": "AWS",
    "machine_instance_types": "3 × m6a.4xlarge, 1 × m6a.2xlarge",
    "total_cpu": 56,
    "total_memory_gb": 224,
    "total_disk_space_gb": 2000,
    "code_hosts_in_use": ("GitHub", "GitLab"),
    "number_of_repositories": 3412,
    "number_of_monorepos": 2,
    "largest_repository_mb": 18500,
    "handoff_status": "Handoff requested",
    "open_issues": 3,
    "open_high_risks": 1,
}

EMPTY = {
    "technical_design_document_urls": (),
    "prod_infra_start_date": None,
    "prod_infra_completion_date": None,
    "sourcegraph_instance_url": "",
    "deployment_type": "",
    "infrastructure_hosting_provider": "",
    "machine_instance_types": "",
    "total_cpu": None,
    "total_memory_gb": None,
    "total_disk_space_gb": None,
    "code_hosts_in_use": (),
    "number_of_repositories": None,
    "number_of_monorepos": None,
    "largest_repository_mb": None,
    "handoff_status": "Implementation",
    "open_issues": 0,
    "open_high_risks": 0,
}


def test_every_field_of_the_issue_table_maps_to_its_default_key_and_format():
    traits = traits_build(FULL, trait_map=default_trait_map())
    assert traits == {
        "vitally.custom.technicalDesignDocuments": (
            "https://docs.example.com/design\nhttps://docs.example.com/network"
        ),
        "vitally.custom.prodInfraStartDate": "2025-03-01T00:00:00.000Z",
        "vitally.custom.prodInfraCompletionDate": "2025-04-15T00:00:00.000Z",
        "vitally.custom.sourcegraphInstanceUrl": "https://sourcegraph.acme.com",
        "vitally.custom.deploymentType": "Kubernetes with Helm",
        "vitally.custom.infrastructureHostingProvider": "AWS",
        "vitally.custom.machineInstanceTypes": "3 × m6a.4xlarge, 1 × m6a.2xlarge",
        "vitally.custom.totalCpu": 56,
        "vitally.custom.totalMemoryGb": 224,
        "vitally.custom.totalDiskSpaceGb": 2000,
        "vitally.custom.codeHostsInUse": "GitHub, GitLab",
        "vitally.custom.numberOfRepositories": 3412,
        "vitally.custom.numberOfMonorepos": 2,
        "vitally.custom.largestRepositoryMb": 18500,
        "vitally.custom.handoffStatus": "Handoff requested",
        "vitally.custom.openIssues": 3,
        "vitally.custom.openHighRisks": 1,
    }
    # Numbers are JSON numbers, not strings.
    encoded = json.loads(json.dumps(traits))
    assert encoded["vitally.custom.totalCpu"] == 56
    assert isinstance(encoded["vitally.custom.totalCpu"], int)


def test_cleared_fields_are_sent_as_null_so_vitally_deletes_the_trait():
    traits = traits_build(EMPTY, trait_map=default_trait_map())
    cleared = {k for k, v in traits.items() if v is None}
    assert cleared == set(default_trait_map().values()) - {
        "vitally.custom.handoffStatus",
        "vitally.custom.openIssues",
        "vitally.custom.openHighRisks",
    }
    # Zero is a count, not "empty".
    assert traits["vitally.custom.openIssues"] == 0
    assert traits["vitally.custom.openHighRisks"] == 0
    assert "null" in json.dumps(traits)


def test_whitespace_only_and_blank_entries_count_as_empty():
    values = {
        "technical_design_document_urls": ["  ", ""],
        "code_hosts_in_use": [" GitHub ", ""],
        "sourcegraph_instance_url": "   ",
    }
    traits = traits_build(values, trait_map=default_trait_map())
    assert traits == {
        "vitally.custom.technicalDesignDocuments": None,
        "vitally.custom.codeHostsInUse": "GitHub",
        "vitally.custom.sourcegraphInstanceUrl": None,
    }


def test_fields_of_apps_that_are_not_installed_are_left_out_not_nulled():
    only_core = {"handoff_status": "Handed off"}
    assert traits_build(only_core, trait_map=default_trait_map()) == {
        "vitally.custom.handoffStatus": "Handed off"
    }
    # Missing is left out; empty is sent as null (Vitally deletes the trait).
    assert traits_build({"total_cpu": None}, trait_map=default_trait_map()) == {
        "vitally.custom.totalCpu": None
    }


@pytest.mark.parametrize(
    "value, expected",
    [
        (datetime.date(2024, 2, 29), "2024-02-29T00:00:00.000Z"),
        (datetime.datetime(2024, 5, 2, 8, 15), "2024-05-02T00:00:00.000Z"),
        (None, None),
    ],
)
def test_dates_are_midnight_utc_with_milliseconds(value, expected):
    traits = traits_build({"prod_infra_start_date": value}, trait_map=default_trait_map())
    assert traits["vitally.custom.prodInfraStartDate"] == expected


@pytest.mark.parametrize(
    "value, expected", [(Decimal("12"), 12), (Decimal("1.5"), 1.5), (7.0, 7), (0, 0)]
)
def test_numbers_stay_numbers(value, expected):
    traits = traits_build({"total_cpu": value}, trait_map=default_trait_map())
    assert traits["vitally.custom.totalCpu"] == expected
    assert not isinstance(traits["vitally.custom.totalCpu"], str)


@pytest.mark.parametrize("bad", ["12", True])
def test_a_non_number_in_a_number_field_is_a_bug_not_a_payload(bad):
    with pytest.raises(TypeError):
        traits_build({"total_cpu": bad}, trait_map=default_trait_map())


def test_trait_map_override_renames_and_drops_fields():
    trait_map = trait_map_resolve(
        '{"total_cpu": "vitally.custom.cpuCores", "open_issues": null, '
        '"open_high_risks": "risks_open"}'
    )
    traits = traits_build(FULL, trait_map=trait_map)
    assert traits["vitally.custom.cpuCores"] == 56
    assert "vitally.custom.totalCpu" not in traits
    assert "vitally.custom.openIssues" not in traits
    assert traits["risks_open"] == 1
    assert len(traits) == len(trait_fields()) - 1


def test_trait_map_accepts_a_dict_and_defaults_when_empty():
    assert trait_map_resolve({}) == default_trait_map()
    assert trait_map_resolve("") == default_trait_map()
    assert trait_map_resolve(None) == default_trait_map()
    assert trait_map_resolve({"total_cpu": "x.y"})["total_cpu"] == "x.y"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"total_cpus": "vitally.custom.x"}, "unknown portal fields ['total_cpus']"),
        ({"total_cpu": "has space"}, "not a safe trait key"),
        ({"total_cpu": 5}, "not a safe trait key"),
        ({"total_cpu": "vitally.custom.totalMemoryGb"}, "same key"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_a_bad_trait_map_is_refused_with_a_clear_message(overrides, message):
    with pytest.raises(ValueError) as error:
        trait_map_resolve(overrides)
    assert message in str(error.value)


def test_a_push_sends_only_what_differs_from_what_vitally_is_known_to_hold():
    current = traits_build(FULL, trait_map=default_trait_map())
    known = {**current, "vitally.custom.totalCpu": 8, "vitally.custom.retired": "old"}
    del known["vitally.custom.deploymentType"]  # unknown: an answer was lost
    assert traits_to_send(current, known, full=False) == {
        "vitally.custom.totalCpu": 56,
        "vitally.custom.deploymentType": "Kubernetes with Helm",
        "vitally.custom.retired": None,  # no longer mapped: deleted once
    }
    assert traits_to_send(current, current, full=False) == {}
    assert traits_to_send(current, current, full=True) == current
    assert traits_to_send(current, {}, full=False) == current


def test_what_vitally_holds_after_an_acknowledgement_drops_keys_that_left_the_map():
    known = {"a": 1, "b": 2, "gone": "x"}
    sent = {"b": 3, "c": None, "gone": None}
    assert traits_acked(known, sent, {"a", "b", "c"}) == {"a": 1, "b": 3, "c": None}


def test_the_config_fingerprint_follows_the_trait_map_and_the_value_formats(monkeypatch):
    from vitally_sync import payloads

    base = config_fingerprint(default_trait_map())
    assert config_fingerprint(dict(reversed(list(default_trait_map().items())))) == base
    renamed = {**default_trait_map(), "total_cpu": "vitally.custom.cpuCores"}
    assert config_fingerprint(renamed) != base
    # A date written another way is a change too, with no number to remember to bump.
    monkeypatch.setitem(payloads.FORMATS, "date", lambda v: v.isoformat() if v else None)
    assert config_fingerprint(default_trait_map()) != base


def test_diff_against_the_last_push_marks_what_changed():
    last = traits_build(FULL, trait_map=default_trait_map())
    last["vitally.custom.retired"] = "old"
    now = traits_build(
        {**FULL, "total_cpu": 64, "deployment_type": ""},
        trait_map=default_trait_map(),
    )
    rows = {row.key: row for row in traits_diff(last, now, trait_map=default_trait_map())}
    assert rows["vitally.custom.totalCpu"].changed
    assert (rows["vitally.custom.totalCpu"].before, rows["vitally.custom.totalCpu"].after) == (
        56,
        64,
    )
    assert rows["vitally.custom.totalCpu"].label == "Total CPU"
    assert rows["vitally.custom.deploymentType"].after is None
    assert rows["vitally.custom.deploymentType"].changed
    assert not rows["vitally.custom.openIssues"].changed
    assert not rows["vitally.custom.retired"].sent_now
    assert rows["vitally.custom.retired"].changed  # sent once as null
    assert sum(row.changed for row in rows.values()) == 3


def test_diff_with_nothing_sent_yet_marks_everything_new():
    now = traits_build({"handoff_status": "Implementation"}, trait_map=default_trait_map())
    (row,) = traits_diff(None, now, trait_map=default_trait_map())
    assert row.changed and not row.sent_before
