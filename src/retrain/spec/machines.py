"""Which machines and accelerators a spec may ask for, and which fit together.

A spec names machines for two services: Dataflow workers (`resources.data_processing`) and the
Vertex AI custom job of the Trainer (`resources.training`). A typo or an impossible pairing
fails in `retrain validate`, at its line, instead of minutes into a run. The tables are small
on purpose: the families teams use for tabular TFX work, from these references:

- Compute Engine machine families and their predefined shapes ("General-purpose machine
  family", "Compute-optimized", "Memory-optimized", "Accelerator-optimized machine family"
  pages of the Compute Engine docs): `<family>-<shape>-<vCPUs>`.
- GPUs on N1: the Compute Engine "GPU machine types" page (N1 general-purpose with attached
  T4, P4, V100 or P100: 1, 2 or 4 GPUs; V100 also 8).
- A2, A3 and G2 come with their GPUs: A2 Standard (a2-highgpu-Ng, a2-megagpu-16g: A100 40GB),
  A2 Ultra (a2-ultragpu-Ng: A100 80GB), A3 (a3-highgpu-8g: H100 80GB; a3-megagpu-8g: H100
  Mega), G2 (g2-standard-N: L4, 1 GPU up to 32 vCPUs, then 2, 4, 8). The accelerator count
  must equal the GPUs the machine carries.
- Accelerator names: the `AcceleratorType` enum of the Vertex AI v1 REST reference
  (`MachineSpec.acceleratorType`); deprecated K80 and TPUs (not used by the TFX Trainer's
  custom job here) are left out.
- Vertex AI custom training machine types ("Configure compute resources for custom
  training"): e2, n1, n2, n2d, c2, c2d, m1, a2, a3, g2. Dataflow workers: any Compute Engine
  type except shared-core ones; the families listed here minus the GPU ones (Dataflow GPUs
  need a worker image with drivers, which the pipeline image is not).
"""

from __future__ import annotations

import re
from typing import Literal, get_args

# family -> shape -> vCPU counts of its predefined machine types
_SHAPES: dict[str, dict[str, tuple[int, ...]]] = {
    "e2": {
        "standard": (2, 4, 8, 16, 32),
        "highmem": (2, 4, 8, 16),
        "highcpu": (2, 4, 8, 16, 32),
    },
    "n1": {
        "standard": (1, 2, 4, 8, 16, 32, 64, 96),
        "highmem": (2, 4, 8, 16, 32, 64, 96),
        "highcpu": (2, 4, 8, 16, 32, 64, 96),
    },
    "n2": {
        "standard": (2, 4, 8, 16, 32, 48, 64, 80, 96, 128),
        "highmem": (2, 4, 8, 16, 32, 48, 64, 80, 96, 128),
        "highcpu": (2, 4, 8, 16, 32, 48, 64, 80, 96),
    },
    "n2d": {
        "standard": (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224),
        "highmem": (2, 4, 8, 16, 32, 48, 64, 80, 96),
        "highcpu": (2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224),
    },
    "c2": {"standard": (4, 8, 16, 30, 60)},
    "c2d": {
        "standard": (2, 4, 8, 16, 32, 56, 112),
        "highmem": (2, 4, 8, 16, 32, 56, 112),
        "highcpu": (2, 4, 8, 16, 32, 56, 112),
    },
}
# Memory-optimized M1 names its memory, not a shape: m1-ultramem-40, m1-megamem-96.
_M1 = ("m1-ultramem-40", "m1-ultramem-80", "m1-ultramem-160", "m1-megamem-96")

# Machines that carry a fixed set of GPUs: name -> (accelerator type, count).
GPU_MACHINES: dict[str, tuple[str, int]] = {
    **{f"a2-highgpu-{n}g": ("NVIDIA_TESLA_A100", n) for n in (1, 2, 4, 8)},
    "a2-megagpu-16g": ("NVIDIA_TESLA_A100", 16),
    **{f"a2-ultragpu-{n}g": ("NVIDIA_A100_80GB", n) for n in (1, 2, 4, 8)},
    "a3-highgpu-8g": ("NVIDIA_H100_80GB", 8),
    "a3-megagpu-8g": ("NVIDIA_H100_MEGA_80GB", 8),
    **{f"g2-standard-{n}": ("NVIDIA_L4", 1) for n in (4, 8, 12, 16, 32)},
    "g2-standard-24": ("NVIDIA_L4", 2),
    "g2-standard-48": ("NVIDIA_L4", 4),
    "g2-standard-96": ("NVIDIA_L4", 8),
}
# GPUs attached to N1 machines, and how many of them one machine takes.
N1_GPUS: dict[str, tuple[int, ...]] = {
    "NVIDIA_TESLA_T4": (1, 2, 4),
    "NVIDIA_TESLA_P4": (1, 2, 4),
    "NVIDIA_TESLA_P100": (1, 2, 4),
    "NVIDIA_TESLA_V100": (1, 2, 4, 8),
}
AcceleratorType = Literal[
    "NVIDIA_TESLA_T4",
    "NVIDIA_TESLA_P4",
    "NVIDIA_TESLA_P100",
    "NVIDIA_TESLA_V100",
    "NVIDIA_TESLA_A100",
    "NVIDIA_A100_80GB",
    "NVIDIA_H100_80GB",
    "NVIDIA_H100_MEGA_80GB",
    "NVIDIA_L4",
]
ACCELERATOR_TYPES: tuple[str, ...] = get_args(AcceleratorType)

_NAME = re.compile(r"^([a-z][a-z0-9]*)-([a-z]+)-([0-9]+)$")


def _cpu_machine_problem(name: str) -> str | None:
    """None when `name` is a predefined CPU machine type of a listed family."""
    if name in _M1:
        return None
    match = _NAME.match(name)
    families = ", ".join([*_SHAPES, "m1"])
    if not match or match.group(1) not in _SHAPES:
        return f"unknown machine type {name!r} (families: {families}; e.g. n1-standard-4)"
    family, shape, cpus = match.group(1), match.group(2), int(match.group(3))
    shapes = _SHAPES[family]
    if shape not in shapes:
        return f"{family} has no {shape!r} machines (shapes: {', '.join(shapes)})"
    if cpus not in shapes[shape]:
        sizes = ", ".join(str(n) for n in shapes[shape])
        return f"{family}-{shape} comes with {sizes} vCPUs, not {cpus}"
    return None


def dataflow_machine_problem(name: str) -> str | None:
    """Why `name` cannot be a Dataflow worker here, or None."""
    if name in GPU_MACHINES:
        return f"{name} is a GPU machine; Dataflow workers here are CPU machines"
    return _cpu_machine_problem(name)


def training_machine_problem(
    name: str, accelerator: str | None, count: int | None
) -> tuple[tuple[str, ...], str] | None:
    """Why the pairing cannot run a Vertex AI custom job, as (field at fault, message), or
    None. The field is relative to `resources.training`."""
    if name in GPU_MACHINES:
        carried, carried_count = GPU_MACHINES[name]
        if accelerator != carried or count != carried_count:
            field = ("machine_type",) if accelerator is None else ("accelerator",)
            return field, (
                f"{name} comes with {carried_count} {carried}; set accelerator: "
                f"{{type: {carried}, count: {carried_count}}}"
            )
        return None
    problem = _cpu_machine_problem(name)
    if problem:
        return ("machine_type",), problem
    if accelerator is None:
        return None
    if accelerator not in N1_GPUS:
        machines = sorted(m for m, (a, _) in GPU_MACHINES.items() if a == accelerator)
        return ("accelerator", "type"), (
            f"{accelerator} comes only with its own machines ({', '.join(machines)})"
        )
    if not name.startswith("n1-"):
        return ("accelerator", "type"), f"{accelerator} attaches to n1 machines only, not {name}"
    if count not in N1_GPUS[accelerator]:
        counts = ", ".join(str(n) for n in N1_GPUS[accelerator])
        return ("accelerator", "count"), f"an n1 machine takes {counts} {accelerator}, not {count}"
    return None
