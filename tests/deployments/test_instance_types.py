import pytest

from deployments.instance_types import (
    Resources,
    implied_resources,
    implied_totals,
    instance_check,
    instance_type_warning,
)


@pytest.mark.parametrize(
    "provider, name",
    [
        ("aws", "m6a.4xlarge"),
        ("aws", "m5.large"),
        ("aws", "c6i.metal"),
        ("aws", "t3.medium"),
        ("azure", "Standard_D16s_v3"),
        ("azure", "D16_v3"),
        ("azure", "D16 v3"),
        ("gcp", "n2-standard-16"),
        ("gcp", "c2-standard-8"),
        ("gcp", "e2-medium"),
        ("gcp", "n2-custom-8-32768"),
        ("sourcegraph_cloud", "n2-standard-32"),
        ("digitalocean", "s-8vcpu-16gb"),
        ("on_premises", "Dell PowerEdge R750, 2 × 32 cores"),  # no naming scheme
        ("other", "anything at all"),
        ("", "m6a.4xlarge"),
    ],
)
def test_names_that_fit_the_provider_raise_no_warning(provider, name):
    assert instance_type_warning(provider=provider, instance_type=name) == ""


@pytest.mark.parametrize(
    "provider, name, text",
    [
        (
            "aws",
            "m6a.4xl",
            "“m6a.4xl” does not look like an AWS instance type (for example m6a.4xlarge).",
        ),
        (
            "aws",
            "n2-standard-16",
            "“n2-standard-16” looks like a Google Cloud machine type, not "
            "an AWS instance type: check the provider or the name.",
        ),
        (
            "gcp",
            "m6a.4xlarge",
            "“m6a.4xlarge” looks like an AWS instance type, not a Google "
            "Cloud machine type: check the provider or the name.",
        ),
        (
            "azure",
            "d16",
            "“d16” does not look like an Azure VM size (for example Standard_D16s_v3 or D16_v3).",
        ),
        (
            "sourcegraph_cloud",
            "m6a.8xlarge",
            "“m6a.8xlarge” looks like an AWS instance type, "
            "not a Google Cloud machine type: check the provider or the name.",
        ),
    ],
)
def test_odd_names_are_warnings_with_an_example(provider, name, text):
    assert instance_type_warning(provider=provider, instance_type=name) == text


@pytest.mark.parametrize(
    "name, vcpu, memory",
    [
        ("m6a.large", 2, 8),
        ("m6a.xlarge", 4, 16),
        ("m6a.2xlarge", 8, 32),
        ("m6a.4xlarge", 16, 64),
        ("m6a.8xlarge", 32, 128),
        ("m6a.12xlarge", 48, 192),
        ("m6a.24xlarge", 96, 384),
        ("m5.4xlarge", 16, 64),
        ("n2-standard-8", 8, 32),
        ("n2-standard-96", 96, 384),
        ("D8_v3", 8, 32),
        ("D64_v3", 64, 256),
        ("Standard_D16s_v5", 16, 64),
        ("s-8vcpu-16gb", 8, 16),
    ],
)
def test_implied_resources_of_known_types(name, vcpu, memory):
    assert implied_resources(name) == Resources(vcpu=vcpu, memory_gb=memory)


@pytest.mark.parametrize("name", ["c6i.4xlarge", "m6a.metal", "n1-highmem-8", "custom", ""])
def test_unknown_types_imply_nothing(name):
    assert implied_resources(name) is None


def test_implied_totals_sum_count_times_resources_and_say_when_partial():
    totals = implied_totals([(3, "m6a.4xlarge"), (1, "m6a.2xlarge")])
    assert (totals.vcpu, totals.memory_gb, totals.complete) == (56, 224, True)
    partial = implied_totals([(3, "m6a.4xlarge"), (2, "r6i.large")])
    assert (partial.vcpu, partial.known_rows, partial.total_rows) == (48, 1, 2)
    assert not partial.complete
    assert implied_totals([(2, "r6i.large")]) is None


def test_instance_check_numbers_rows_and_compares_with_entered_totals():
    check = instance_check(
        provider="aws",
        rows=[(3, "m6a.4xlarge"), (1, "m6a.4xl")],
        total_cpu=56,
        total_memory_gb=200,
    )
    assert check.row_warnings == (
        "Row 2: “m6a.4xl” does not look like an AWS instance type (for example m6a.4xlarge).",
    )
    # Row 2 is unknown, so the totals are not compared (no false alarm).
    assert check.mismatch_warnings == ()
    full = instance_check(
        provider="aws", rows=[(3, "m6a.4xlarge")], total_cpu=56, total_memory_gb=192
    )
    assert full.mismatch_warnings == (
        "Total CPU 56 differs from the 48 vCPU the machine instance types imply.",
    )
