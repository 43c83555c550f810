"""Export a trained model: merged weights, GGUF, ONNX, a model card and serving commands.

    from ftc.export import export_path, export_run
    export_path("runs/quickstart/run-...", ExportOptions(gguf=("f16",)))   # ftc export
    outputs = export_run(lock, run_dir, outputs)   # the runtime, after saving its outputs

One module per job: source (what is exported; refusals), model (load, merge,
compare), gguf_file + gguf_vocab (GGUF via the gguf package), onnx_file
(torch.onnx + onnxruntime), llama_check (llama.cpp loads the GGUF), card
(README.md), serving (SERVING.md, Modelfile), staging (temp folder + rename),
tolerances, pipeline (the order of it all). Heavy libraries load lazily:
importing this package costs nothing.
"""

from ftc.export.errors import ExportError
from ftc.export.options import GGUF_TYPES, ExportOptions, from_lock
from ftc.export.pipeline import ExportResult, export_path, export_run

__all__ = ["GGUF_TYPES", "ExportError", "ExportOptions", "ExportResult", "export_path",
           "export_run", "from_lock"]
