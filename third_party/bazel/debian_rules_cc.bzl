"""A copy of Debian's rules_cc that loads under Bazel 4.2.3.

Debian ships rules_cc 0.0.4, whose compiler_flag.bzl and cc_flags_supplier.bzl load
`use_cpp_toolchain` from @bazel_tools, a symbol only newer Bazel has. The copy replaces
that call by the plain toolchain type label, which is what it expands to.
"""

_PATCHED = [
    "cc/private/rules_impl/compiler_flag.bzl",
    "cc/private/rules_impl/cc_flags_supplier.bzl",
]

def _debian_rules_cc_impl(rctx):
    src = rctx.path(rctx.attr.path)
    if not src.exists:
        fail("%s is missing: run ci/setup (Debian package bazel-rules-cc)" % src)
    result = rctx.execute(["cp", "-R", "%s/." % src, "."])
    if result.return_code != 0:
        fail("copying %s failed: %s" % (src, result.stderr))
    for name in _PATCHED:
        text = rctx.read(name)
        text = text.replace(', "use_cpp_toolchain")', ")")
        text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
        rctx.file(name, text, executable = False)

debian_rules_cc = repository_rule(
    implementation = _debian_rules_cc_impl,
    attrs = {"path": attr.string(mandatory = True)},
    local = True,
)
