"""Build macros for weft: every library exists twice, production and model.

weft_cc_library(name = "x", ...) declares
  :x        the production variant (std::atomic underneath), and
  :x_model  the model variant on Relacy, whose weft deps are the _model variants of the
            production deps, and
  :x_dpor   the model variant on weft's own DPOR checker (model/dpor), likewise.
weft_model_test(name = "t", ...) declares :t (the scenarios on DPOR, the default checker)
and :t_relacy (the same scenarios on Relacy, a second opinion).
The platform layer sets WEFT_STD or WEFT_MODEL; the define travels to every dependent,
and sync/platform/config.h refuses a binary that sees both.
"""

load("@rules_cc//cc:defs.bzl", "cc_library", "cc_test")

# weft's own targets, as Label()s: a Label in a .bzl file names a target of the repository
# that holds the .bzl file, so these still mean weft's targets when a user's workspace
# loads this file as @weft//bazel:weft.bzl (a plain string would resolve in the user's).
_RELACY_RUNNER = Label("//model/harness:relacy_runner")
_DPOR_RUNNER = Label("//model/harness:dpor_runner")
_THREAD_RUNNER = Label("//model/harness:thread_runner")
_DOCTEST_MAIN = Label("//third_party/doctest:main")

# The project's own code builds warning-free; Relacy and doctest are system headers.
WARNINGS = ["-Wall", "-Wextra", "-Werror"]

# Optimized whatever the compilation mode, for both model checkers: Relacy runs about 5x
# more executions per second optimized (README, "Model checking"), DPOR spent about a
# quarter of its time in -O0 scenario code (model/dpor/README.md), so plain
# `bazel test //...` (fastbuild) runs the model tests optimized too. Relacy at -O1: its
# instrumented types make GCC's -O2 passes slow (model/mpsc.cc: 73 s at -O2, 44 s at -O1)
# for little speed (//model:mpsc_relacy 18.4 s -> 20.9 s, broadcast_relacy 7.9 -> 10.3;
# -Og compiles in 30 s but runs 32.2 and 15.3), and the cold CI is compile-bound. To step
# through a scenario in a debugger, override it: --per_file_copt=.*@-O0,-g (per-file
# options come after a target's copts).
MODEL_OPTIMIZE = ["-O2"]
RELACY_OPTIMIZE = ["-O1"]

# Relacy replaces operator new/delete but not sized delete, and GCC's lifetime DSE hides
# uses of freed Relacy objects: both flags are needed by every model translation unit.
# Relacy's fibers switch stacks with _longjmp, which glibc's _FORTIFY_SOURCE check (on in
# optimized builds: the toolchain defines it) takes for a jump into a dead frame and aborts;
# -U after the toolchain's -D turns the check off for model code only. Optimized, GCC's
# array-bounds analysis reports Relacy's fixed per-thread arrays in its schedulers (sized
# by the thread count, indexed by a checked thread id); the same weft code is checked with
# every warning in its production variant. Relacy's replacement operator delete frees with
# free(), which GCC's inlining reports as a new/delete mismatch.
MODEL_COPTS = [
    "-fno-sized-deallocation",
    "-fno-lifetime-dse",
    "-U_FORTIFY_SOURCE",
    "-Wno-array-bounds",
    "-Wno-mismatched-new-delete",
] + RELACY_OPTIMIZE

# weft's DPOR checker (model/dpor) needs none of Relacy's flags: its fibers switch stacks
# without longjmp, and its runner replaces sized delete too. At -O2 GCC 12 reports the
# permit in a moved-from std::variant (once_cell.h's acquire result) as maybe-uninitialized,
# the false positive of GCC bug 80635 (the sanitizer variants turn it off too); the same
# weft code is checked with every warning in its production variant.
# model/dpor/annotations.h makes std::shared_ptr's synchronization visible to the checker.
DPOR_COPTS = MODEL_OPTIMIZE + ["-Wno-maybe-uninitialized", "-include", "model/dpor/annotations.h"]

def model_label(label):
    """The model variant of a weft library label; other labels are returned as they are."""
    if label.startswith("@") and not label.startswith("@weft//"):
        return label
    if ":" in label:
        return label + "_model"
    return label + ":" + label.split("/")[-1] + "_model"

def dpor_label(label):
    """The DPOR variant of a weft library label; other labels are returned as they are."""
    model = model_label(label)
    return model[:-len("_model")] + "_dpor" if model != label else label

def weft_cc_library(name, hdrs = [], srcs = [], deps = [], std_deps = [], model_deps = [], layer_check = False, **kwargs):
    """Declares :name (production), :name_model (Relacy) and :name_dpor (DPOR).

    layer_check: also declares the test :name_layer_check, which compiles each header of
    :name alone against :name and its deps only (see _layer_check).
    """
    if layer_check:
        _layer_check(name, hdrs)
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
    cc_library(
        name = name + "_dpor",
        hdrs = hdrs,
        srcs = srcs,
        deps = [dpor_label(d) for d in deps] + model_deps,
        copts = WARNINGS + DPOR_COPTS,
        visibility = visibility,
        tags = ["model"],
        **kwargs
    )

def weft_layer(name, deps):
    """One layer of //sync, a package of its own (see sync/BUILD): :name holds every
    header of the folder, depends on `deps` (layers below) only, and is checked by
    :name_layer_check; foo_test.cc beside foo.h is foo's doctest suite (:foo_test, against
    the whole library); :headers lists the headers for //sync:headers."""
    weft_cc_library(
        name = name,
        hdrs = native.glob(["*.h"]),
        deps = deps,
        layer_check = True,
        visibility = ["//:__subpackages__"],
    )
    for test in native.glob(["*_test.cc"]):
        weft_unit_test(
            name = test[:-len(".cc")],
            srcs = [test],
            deps = [
                "//sync",
                "//testing:support",
            ],
        )
    weft_sanitizer_suites()
    native.filegroup(
        name = "headers",
        srcs = native.glob(["*.h"]),
        visibility = ["//sync:__pkg__"],
    )

def _layer_check(name, hdrs):
    """The test :name_layer_check: one translation unit per header of :name, holding only
    `#include "that header"`, built against :name alone. Bazel gives a compile only the
    headers of the target's deps (the sandbox holds nothing else, and an undeclared
    inclusion is an error even without it), so a header that includes one of a layer above
    (which :name does not depend on) fails to build here, even when every binary that uses
    it also links the layer above. The test itself runs nothing: building it is the check.
    """
    package = native.package_name()
    outs = [name + "_layer_check_srcs/" + hdr.replace("/", "_")[:-len(".h")] + ".cc" for hdr in hdrs]
    native.genrule(
        name = name + "_layer_check_srcs",
        outs = outs,
        cmd = " && ".join([
            "echo '#include \"%s/%s\"' > $(location %s)" % (package, hdr, out)
            for hdr, out in zip(hdrs, outs)
        ]),
    )
    cc_test(
        name = name + "_layer_check",
        srcs = outs,
        deps = [":" + name, _DOCTEST_MAIN],
        copts = WARNINGS,
        size = "small",
    )

# Sanitizer variants. weft is header-only, so a test's own copts instrument all of weft's
# code in it. Each unit and stress test also exists as <name>_tsan and <name>_asan_ubsan,
# so plain `bazel test //...` runs the sanitizers too (see sanitizers/README.md).
# AddressSanitizer (with its leak checker) and UBSan instrument independently and are
# built as one binary, as LLVM's and Chromium's bots do: one build of both costs about a
# third less than two (sanitizers/README.md has the figures). Relacy's fibers and its
# operator new replacement do not mix with sanitizers, so model tests have no sanitizer
# variants (their scenarios run under both on threads, as //model:<name>_on_threads_*).
SANITIZERS = {
    "tsan": ["-fsanitize=thread"],
    "asan_ubsan": [
        "-fsanitize=address,undefined",
        "-fno-omit-frame-pointer",
        "-fno-sanitize-recover=all",
    ],
}

# The sanitizer runtimes' options in the variants' test environment (a --test_env of the
# same name overrides them). ThreadSanitizer by default prints a race and runs on,
# failing only at exit (code 66): a later failure or timeout then hides the report.
# halt_on_error=1 stops the test at the first report, so the race is the end of the log;
# second_deadlock_stack=1 adds the other acquisition's stack to a lock-order report.
SANITIZER_ENV = {
    "tsan": {"TSAN_OPTIONS": "halt_on_error=1 second_deadlock_stack=1"},
}

def _with_sanitizers(name, copts, tags, plain = True, sanitizers = SANITIZERS.keys(), **kwargs):
    """:name (unless plain = False) and :name_<sanitizer> for each of sanitizers."""
    env = kwargs.pop("env", {})
    if plain:
        cc_test(name = name, copts = copts, tags = tags, env = env, **kwargs)
    for sanitizer in sanitizers:
        flags = SANITIZERS[sanitizer]
        sanitizer_env = dict(SANITIZER_ENV.get(sanitizer, {}))
        sanitizer_env.update(env)
        cc_test(
            name = name + "_" + sanitizer,
            # GCC's maybe-uninitialized analysis gives false positives on instrumented
            # code (GCC's manual warns of it), so that one warning is off here.
            copts = copts + flags + ["-O1", "-g", "-Wno-maybe-uninitialized"],
            linkopts = flags,
            tags = tags + [sanitizer],
            env = sanitizer_env,
            **kwargs
        )

def weft_unit_test(name, srcs, deps = [], size = "small", tags = [], copts = [], **kwargs):
    """A doctest suite against the production variant, plain and under each sanitizer
    (`sanitizers = ["asan_ubsan"]` for a single-threaded suite, which tsan cannot help)."""
    _with_sanitizers(
        name = name,
        srcs = srcs,
        deps = deps + [_DOCTEST_MAIN],
        copts = WARNINGS + copts,
        size = size,
        tags = tags,
        **kwargs
    )

def weft_model_test(name, srcs, deps = [], model_deps = [], size = "medium", tags = [], **kwargs):
    """Scenarios model-checked: :name on weft's DPOR checker, :name_relacy on Relacy.

    deps are weft_cc_library targets (their _dpor and _model variants are used); model_deps
    are used as they are (a plain cc_library of headers that never touch the platform layer).
    :name runs each scenario at its DPOR strategy (`s.on_dpor(d)`, model/harness/README.md;
    else the one strategy given) under RC11, the C++20 memory model (model/dpor/README.md).
    :name_relacy runs the same scenarios on Relacy at their own strategy: a second opinion
    from another search (its random and PCT samples reach deeper than a DPOR bound) under a
    narrower memory model. Both run with `bazel test`.
    """
    cc_test(
        name = name,
        srcs = srcs,
        deps = [dpor_label(d) for d in deps] + model_deps + [_DPOR_RUNNER],
        copts = WARNINGS + DPOR_COPTS,
        size = size,
        tags = tags + ["model", "dpor"],
        **kwargs
    )
    cc_test(
        name = name + "_relacy",
        srcs = srcs,
        deps = [model_label(d) for d in deps] + model_deps + [_RELACY_RUNNER],
        copts = WARNINGS + MODEL_COPTS,
        size = size,
        tags = tags + ["model", "relacy"],
        **kwargs
    )

def weft_stress_test(name, srcs, deps = [], size = "medium", tags = [], **kwargs):
    """The same scenarios (or stress-only ones) on real threads, production variant,
    plain and under each sanitizer (`plain = False`: the sanitizer variants only)."""
    _with_sanitizers(
        name = name,
        srcs = srcs,
        deps = deps + [_THREAD_RUNNER],
        copts = WARNINGS,
        size = size,
        tags = tags + ["stress"],
        **kwargs
    )

def weft_sanitizer_suites():
    """test_suites <sanitizer>_tests: this package's tests under that sanitizer."""
    for sanitizer in SANITIZERS:
        native.test_suite(
            name = sanitizer + "_tests",
            tags = [sanitizer],
            visibility = ["//visibility:public"],
        )

def weft_cpp_files():
    """filegroup cpp_files: this package's .h and .cc files, for //ci:format_test."""
    native.filegroup(
        name = "cpp_files",
        srcs = native.glob(["**/*.h", "**/*.cc"]),
        visibility = ["//ci:__pkg__"],
    )
