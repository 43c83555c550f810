"""Training options that need a GPU or a package: refused with a reason, never dropped.

transformers and TRL react to these options in different ways: tf32 without
an Ampere GPU raises a ValueError from TrainingArguments, activation
offloading dies with an AttributeError inside TRL on CPU, Liger and Cut Cross
Entropy import Triton kernels that only run on CUDA, and a tracker whose
package is missing fails when the Trainer is built.  `check_options` looks at
the lock first and stops with one FTC515/FTC516 line at the option's place in
the lock, so a run never starts without what the recipe asked for.  The same
facts (ftc/tables/hyperparameters.yaml, gpu_only_options) drive the
compile-time lint rule FTC153.
"""

from __future__ import annotations

import importlib.util

from ftc.runtime.run_lock import RunLock
from ftc.tables import hyperparameters

NEEDS_GPU = "FTC515"
NEEDS_PACKAGE = "FTC516"

# option path, value -> (module to import, pip package)
PACKAGE_OPTIONS = {
    ("training.liger_kernel", True): ("liger_kernel", "liger-kernel"),
    ("training.loss_kernel", "cut_cross_entropy"): ("cut_cross_entropy", "cut-cross-entropy"),
}
TRACKER_PACKAGES = {"wandb": ("wandb", "wandb"), "mlflow": ("mlflow", "mlflow-skinny")}


def check_options(lock: RunLock) -> None:
    """Raise RunFailure (FTC515/516) for an option this machine cannot honour."""
    for path, need in hyperparameters()["gpu_only_options"].items():
        minimum = tuple(need.get("min_capability", (0, 0)))
        if lock.get(path) == need["value"] and not _cuda(minimum):
            where = "on this GPU" if _has_cuda() else "here"
            raise lock.fail(path, NEEDS_GPU, f"{path} is set, but {need['why']} and there is "
                            f"no such GPU {where}", f"run on a GPU, or remove {path} from the "
                            "recipe")
    for (path, value), (module, package) in PACKAGE_OPTIONS.items():
        if lock.get(path) == value and not _installed(module):
            raise lock.fail(path, NEEDS_PACKAGE, f"{path} needs the {package} package, which is "
                            "not installed", f"pip install {package}")
    for tracker in lock.get("logging.report_to") or []:
        module, package = TRACKER_PACKAGES.get(tracker, (None, None))
        if module and not _installed(module):
            raise lock.fail("logging.report_to", NEEDS_PACKAGE, f"report_to {tracker} needs the "
                            f"{package} package, which is not installed",
                            f"pip install {package}, or remove {tracker} from logging.report_to")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _cuda(minimum: tuple[int, int]) -> bool:
    """A CUDA device of at least this compute capability is visible."""
    if not _has_cuda():
        return False
    import torch

    return torch.cuda.get_device_capability() >= minimum
