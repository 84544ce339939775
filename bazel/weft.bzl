"""Build macros for weft: every library exists twice, production and model.

weft_cc_library(name = "x", ...) declares
  :x        the production variant (std::atomic underneath), and
  :x_model  the model variant (Relacy underneath), whose weft deps are the _model
            variants of the production deps.
The platform layer sets WEFT_STD or WEFT_MODEL; the define travels to every dependent,
and sync/platform/config.h refuses a binary that sees both.
"""

load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")

# The project's own code builds warning-free; Relacy and doctest are system headers.
WARNINGS = ["-Wall", "-Wextra", "-Werror"]

# Relacy replaces operator new/delete but not sized delete, and GCC's lifetime DSE hides
# uses of freed Relacy objects: both flags are needed by every model translation unit.
MODEL_COPTS = ["-fno-sized-deallocation", "-fno-lifetime-dse"]

def model_label(label):
    """The model variant of a weft library label; other labels are returned as they are."""
    if label.startswith("@") and not label.startswith("@weft//"):
        return label
    if ":" in label:
        return label + "_model"
    return label + ":" + label.split("/")[-1] + "_model"

def weft_cc_library(name, hdrs = [], srcs = [], deps = [], std_deps = [], model_deps = [], **kwargs):
    """Declares :name (production) and :name_model (model)."""
    visibility = kwargs.pop("visibility", ["//visibility:public"])
    cc_library(
        name = name,
        hdrs = hdrs,
        srcs = srcs,
        deps = deps + std_deps,
        copts = WARNINGS,
        visibility = visibility,
        **kwargs
    )
    cc_library(
        name = name + "_model",
        hdrs = hdrs,
        srcs = srcs,
        deps = [model_label(d) for d in deps] + model_deps,
        copts = WARNINGS + MODEL_COPTS,
        visibility = visibility,
        tags = ["model"],
        **kwargs
    )

def weft_unit_test(name, srcs, deps = [], size = "small", **kwargs):
    """A doctest suite against the production variant."""
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["//third_party/doctest:main"],
        copts = WARNINGS,
        size = size,
        **kwargs
    )

def weft_model_test(name, srcs, deps = [], size = "medium", tags = [], **kwargs):
    """Scenarios model-checked by Relacy: the scenario sources with the model harness."""
    cc_test(
        name = name,
        srcs = srcs,
        deps = [model_label(d) for d in deps] + ["//model/harness:relacy_runner"],
        copts = WARNINGS + MODEL_COPTS,
        size = size,
        tags = tags + ["model"],
        **kwargs
    )

def weft_stress_test(name, srcs, deps = [], size = "medium", tags = [], **kwargs):
    """The same scenarios (or stress-only ones) on real threads, production variant."""
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["//model/harness:thread_runner"],
        copts = WARNINGS,
        size = size,
        tags = tags + ["stress"],
        **kwargs
    )
