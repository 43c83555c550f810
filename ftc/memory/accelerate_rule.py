"""`accelerate estimate-memory`, reproduced: the 4 x weights baseline ftc is compared with.

accelerate (src/accelerate/commands/estimate.py) sums the parameter and
buffer bytes of the model built on the meta device and reports, per dtype,
the total, the largest layer, and "Training using Adam" = 4 x the total at
that dtype (for float16 the code computes max(fp32, 1.5 fp32, 2 fp32) = 2 x the
fp32 size, the same number).  No activations.
"""

from __future__ import annotations

from ftc.memory.shapes import ModelShape

DTYPE_DIVISOR = {"float32": 1, "float16": 2, "int8": 4, "int4": 8}
# transformers' BERT registers position_ids and token_type_ids buffers (int64,
# max_positions each), which accelerate's module sizes include.
INT64 = 8


def training_bytes(total: float) -> float:
    return 4 * total


def accelerate_sizes(shape: ModelShape) -> dict[str, dict[str, float]]:
    """Per dtype: total, largest layer and training bytes as accelerate computes them."""
    buffers = 2 * shape.max_positions * INT64 if shape.family == "encoder" else 0
    fp32 = shape.parameters() * 4 + buffers
    largest = shape.largest_layer_parameters() * 4
    out = {}
    for dtype, div in DTYPE_DIVISOR.items():
        total = fp32 / div
        out[dtype] = {"total": total, "largest": largest / div, "training": training_bytes(total)}
    return out


def convert_bytes(size: float) -> str:
    """accelerate.utils.convert_bytes: 1024-steps labelled KB/MB/GB/TB, two decimals."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024.0:
            return f"{round(size, 2)} {unit}"
        size /= 1024.0
    return f"{round(size, 2)} PB"
