"""resources: each impossible machine, accelerator or limit is a FILE:LINE error at its key."""

from __future__ import annotations

import pytest

from retrain.errors import SpecError
from retrain.spec.load import parse_spec
from retrain.spec.machines import ACCELERATOR_TYPES, GPU_MACHINES, N1_GPUS
from tests.spec.test_validate import VALID

FULL = """\
resources:
  data_processing:
    runner: dataflow
    machine_type: n1-standard-4
    max_workers: 20
    disk_size_gb: 50
  training:
    machine_type: n1-highmem-8
    accelerator: {type: NVIDIA_TESLA_T4, count: 1}
  step: {cpu: "4", memory: 16G}
"""
LINE = VALID.count("\n") + 1  # the line of `resources:` once appended


def parse(resources: str) -> object:
    return parse_spec(VALID + resources, "specs/toy.yaml")


def problems(resources: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse(resources)
    return [str(p) for p in caught.value.problems]


def test_the_issue_example_loads_with_every_value() -> None:
    spec = parse_spec(VALID + FULL, "specs/toy.yaml")
    data = spec.resources.data_processing
    assert (data.runner, data.machine_type, data.max_workers, data.disk_size_gb) == (
        "dataflow",
        "n1-standard-4",
        20,
        50,
    )
    training = spec.resources.training
    assert training is not None and training.accelerator is not None
    assert (training.machine_type, training.accelerator.type, training.accelerator.count) == (
        "n1-highmem-8",
        "NVIDIA_TESLA_T4",
        1,
    )
    step = spec.resources.step
    assert step is not None and (step.cpu_limit, step.memory_limit_gb) == (4.0, 16.0)


@pytest.mark.parametrize(
    ("cpu", "memory", "expected"),
    [("500m", "512M", (0.5, 0.512)), (2, "1024K", (2.0, 0.001024)), ("96", "624G", (96.0, 624.0))],
)
def test_step_limits_convert_to_vcpus_and_gigabytes(
    cpu: object, memory: str, expected: tuple[float, float]
) -> None:
    quoted = f'"{cpu}"' if isinstance(cpu, str) else cpu
    spec = parse_spec(VALID + f"resources:\n  step: {{cpu: {quoted}, memory: {memory}}}\n", "t")
    assert spec.resources.step is not None
    got = (spec.resources.step.cpu_limit, spec.resources.step.memory_limit_gb)
    assert got == pytest.approx(expected)


BROKEN = [
    pytest.param(
        "resources:\n  machine_type: n1-standard-4\n",
        f"specs/toy.yaml:{LINE + 1}: resources.machine_type: resources.machine_type was "
        "replaced: the Trainer's machine is resources.training.machine_type, Dataflow workers' "
        "is resources.data_processing.machine_type (runner: dataflow)",
        id="old-field",
    ),
    pytest.param(
        "resources:\n  data_processing:\n    max_workers: 5\n",
        f"specs/toy.yaml:{LINE + 2}: resources.data_processing.max_workers: max_workers applies "
        "to runner: dataflow only (runner is direct)",
        id="dataflow-setting-on-direct",
    ),
    pytest.param(
        "resources:\n  data_processing: {runner: dataflow, machine_type: n1-standard-3}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.data_processing.machine_type: n1-standard comes "
        "with 1, 2, 4, 8, 16, 32, 64, 96 vCPUs, not 3",
        id="no-such-size",
    ),
    pytest.param(
        "resources:\n  data_processing: {runner: dataflow, machine_type: z9-standard-4}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.data_processing.machine_type: unknown machine "
        "type 'z9-standard-4' (families: e2, n1, n2, n2d, c2, c2d, m1; e.g. n1-standard-4)",
        id="unknown-family",
    ),
    pytest.param(
        "resources:\n  data_processing: {runner: dataflow, machine_type: e2-ultramem-4}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.data_processing.machine_type: e2 has no "
        "'ultramem' machines (shapes: standard, highmem, highcpu)",
        id="unknown-shape",
    ),
    pytest.param(
        "resources:\n  data_processing: {runner: dataflow, machine_type: g2-standard-8}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.data_processing.machine_type: g2-standard-8 is a "
        "GPU machine; Dataflow workers here are CPU machines",
        id="gpu-dataflow-worker",
    ),
    pytest.param(
        "resources:\n  data_processing: {runner: dataflow, disk_size_gb: 10}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.data_processing.disk_size_gb: Input should be "
        "greater than or equal to 30",
        id="disk-too-small",
    ),
    pytest.param(
        "resources:\n  data_processing: {runner: dataflow, max_workers: 1001}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.data_processing.max_workers: Input should be "
        "less than or equal to 1000",
        id="too-many-workers",
    ),
    pytest.param(
        "resources:\n  data_processing: {runner: spark}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.data_processing.runner: Input should be 'direct' "
        "or 'dataflow'",
        id="unknown-runner",
    ),
    pytest.param(
        "resources:\n  training:\n    machine_type: e2-standard-4\n"
        "    accelerator: {type: NVIDIA_TESLA_T4, count: 1}\n",
        f"specs/toy.yaml:{LINE + 3}: resources.training.accelerator.type: NVIDIA_TESLA_T4 "
        "attaches to n1 machines only, not e2-standard-4",
        id="gpu-on-e2",
    ),
    pytest.param(
        "resources:\n  training:\n    machine_type: n1-standard-8\n"
        "    accelerator:\n      type: NVIDIA_TESLA_T4\n      count: 3\n",
        f"specs/toy.yaml:{LINE + 5}: resources.training.accelerator.count: an n1 machine takes "
        "1, 2, 4 NVIDIA_TESLA_T4, not 3",
        id="gpu-count",
    ),
    pytest.param(
        "resources:\n  training:\n    machine_type: n1-standard-8\n"
        "    accelerator:\n      type: NVIDIA_L4\n      count: 1\n",
        f"specs/toy.yaml:{LINE + 4}: resources.training.accelerator.type: NVIDIA_L4 comes only "
        "with its own machines (g2-standard-12, g2-standard-16, g2-standard-24, g2-standard-32, "
        "g2-standard-4, g2-standard-48, g2-standard-8, g2-standard-96)",
        id="l4-on-n1",
    ),
    pytest.param(
        "resources:\n  training: {machine_type: a2-highgpu-2g}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.training.machine_type: a2-highgpu-2g comes with "
        "2 NVIDIA_TESLA_A100; set accelerator: {type: NVIDIA_TESLA_A100, count: 2}",
        id="a2-without-its-gpus",
    ),
    pytest.param(
        "resources:\n  training:\n    machine_type: a2-highgpu-2g\n"
        "    accelerator: {type: NVIDIA_TESLA_A100, count: 1}\n",
        f"specs/toy.yaml:{LINE + 3}: resources.training.accelerator: a2-highgpu-2g comes with "
        "2 NVIDIA_TESLA_A100; set accelerator: {type: NVIDIA_TESLA_A100, count: 2}",
        id="a2-wrong-count",
    ),
    pytest.param(
        "resources:\n  training:\n    machine_type: n1-standard-8\n"
        "    accelerator: {type: NVIDIA_TESLA_K80, count: 1}\n",
        None,
        id="unknown-accelerator",
    ),
    pytest.param(
        'resources:\n  step: {cpu: "200", memory: 16G}\n',
        f"specs/toy.yaml:{LINE + 1}: resources.step.cpu: cpu 200 is outside (0, 96]",
        id="too-many-cpus",
    ),
    pytest.param(
        'resources:\n  step: {cpu: 4, memory: "16"}\n',
        f"specs/toy.yaml:{LINE + 1}: resources.step.memory: '16' is not a memory size such as "
        "16G or 512M",
        id="memory-without-unit",
    ),
    pytest.param(
        "resources:\n  step: {cpu: 4, memory: 700G}\n",
        f"specs/toy.yaml:{LINE + 1}: resources.step.memory: memory 700G is outside (0, 624G]",
        id="too-much-memory",
    ),
]


@pytest.mark.parametrize(("resources", "expected"), BROKEN)
def test_impossible_resources_are_refused_at_their_key(
    resources: str, expected: str | None
) -> None:
    found = problems(resources)
    if expected is None:
        assert (
            len(found) == 1 and "resources.training.accelerator.type: Input should be" in found[0]
        )
    else:
        assert found == [expected]


def test_every_gpu_machine_and_n1_gpu_is_a_known_accelerator() -> None:
    carried = {accelerator for accelerator, _ in GPU_MACHINES.values()}
    assert carried | set(N1_GPUS) == set(ACCELERATOR_TYPES)


def test_every_gpu_machine_loads_with_its_own_gpus() -> None:
    for machine, (accelerator, count) in GPU_MACHINES.items():
        resources = (
            f"resources:\n  training:\n    machine_type: {machine}\n"
            f"    accelerator: {{type: {accelerator}, count: {count}}}\n"
        )
        parse(resources)


def test_resources_are_part_of_the_spec_version() -> None:
    """They change how a run executes and its compiled template, so the version moves."""
    plain = parse_spec(VALID, "t")
    direct = parse_spec(VALID + "resources:\n  data_processing: {runner: direct}\n", "t")
    dataflow = parse_spec(VALID + "resources:\n  data_processing: {runner: dataflow}\n", "t")
    assert plain.fingerprint() == direct.fingerprint()  # the default, written out
    assert dataflow.fingerprint() != plain.fingerprint()
    assert parse_spec(VALID + FULL, "t").fingerprint() != dataflow.fingerprint()
