// The guide cannot go stale: every code block in the listed Markdown files that is
// preceded by a snippet directive must be identical to the region of a source file that
// the build compiles, and every C++ or Starlark block must have such a directive.
//
// In Markdown:
//   <!-- snippet: examples/guide/scenarios.cc struct_scenario -->
//   ```cpp
//   ...
//   ```
// In the source file (any comment syntax; the marker lines themselves are left out and
// the region is dedented by its common indentation):
//   // guide:begin struct_scenario
//   ...
//   // guide:end struct_scenario
//
// Traces shown in ```text blocks cannot go stale silently either: every step that names
// a line of an example (`in f(), ./examples/seqlock/seqlock.h(57)`) must point at a line
// that does what the step says (`atomic load` at a `.load(`, `CAS` at a
// `compare_exchange`, `USER ASSERT FAILED (c)` at `WEFT_INVARIANT(c)`, ...), and every
// `trace of NAME (examples/...cc:N)` header at the line that registers NAME.
//
// Usage: snippets_test FILE.md...            check (the test; paths from the runfiles)
//        bazel run //examples:guide_snippets_test -- --update
//                                            rewrite the blocks from the sources, in the
//                                            source tree (the test's args list the files)
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::string root;  // prefix for every path: "" (runfiles) or the workspace for --update
int errors = 0;

std::optional<std::vector<std::string>> read_lines(const std::string& path) {
  std::ifstream in(root + path);
  if (!in) return std::nullopt;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void error(const std::string& where, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", where.c_str(), what.c_str());
  ++errors;
}

bool contains_marker(const std::string& line, std::string_view kind, const std::string& name) {
  const std::string marker = std::string("guide:") + std::string(kind) + " " + name;
  const auto at = line.find(marker);
  if (at == std::string::npos) return false;
  const auto end = at + marker.size();
  return end == line.size() || line[end] == ' ';
}

// The region `name` of `path`, dedented; nullopt (with an error) if it is missing.
std::optional<std::vector<std::string>> region(const std::string& path, const std::string& name,
                                               const std::string& where) {
  const auto lines = read_lines(path);
  if (!lines) {
    error(where, "cannot read " + path + " (is it in the test's data?)");
    return std::nullopt;
  }
  std::optional<std::size_t> begin;
  std::optional<std::size_t> end;
  for (std::size_t i = 0; i < lines->size(); ++i) {
    if (contains_marker((*lines)[i], "begin", name)) {
      if (begin) error(where, path + " has two regions named " + name);
      begin = i;
    } else if (contains_marker((*lines)[i], "end", name) && begin && !end) {
      end = i;
    }
  }
  if (!begin || !end) {
    error(where, path + " has no region 'guide:begin " + name + "' ... 'guide:end " + name + "'");
    return std::nullopt;
  }
  std::vector<std::string> out(lines->begin() + *begin + 1, lines->begin() + *end);
  std::size_t indent = std::string::npos;
  for (const auto& line : out) {
    const auto first = line.find_first_not_of(' ');
    if (first != std::string::npos && first < indent) indent = first;
  }
  for (auto& line : out) line = line.size() >= indent ? line.substr(indent) : std::string();
  return out;
}

// What a trace step's source line must contain, by the step's kind ("" to skip).
std::string expected_code(const std::string& step) {
  const auto assert_at = step.find("USER ASSERT FAILED (");
  if (assert_at != std::string::npos) {
    const auto start = assert_at + std::string("USER ASSERT FAILED (").size();
    const auto end = step.find("), in ", start);
    if (end != std::string::npos) return "WEFT_INVARIANT(" + step.substr(start, end - start);
  }
  if (step.find("atomic load") != std::string::npos) return ".load(";
  if (step.find("atomic store") != std::string::npos) return ".store(";
  if (step.find("CAS ") != std::string::npos) return "compare_exchange";
  if (step.find("cell write") != std::string::npos) return "with_mut(";
  if (step.find("cell read") != std::string::npos) return "with(";
  if (step.find("DATA RACE") != std::string::npos) return "with";
  if (step.find(" fence,") != std::string::npos) return "fence(";
  return "";
}

// Checks the source references of a trace shown in a ```text block.
void check_trace(const std::vector<std::string>& block, const std::string& md, std::size_t first) {
  static const std::regex step_ref(R"((?:\./)?(examples/[A-Za-z0-9_/]+\.(?:h|cc))\((\d+)\)$)");
  static const std::regex header(R"(trace of (\w+) \((examples/[A-Za-z0-9_/]+\.cc):(\d+)\))");
  for (std::size_t k = 0; k < block.size(); ++k) {
    const std::string& line = block[k];
    const std::string where = md + ":" + std::to_string(first + k + 1);
    std::smatch m;
    std::string path;
    std::size_t number = 0;
    std::string want;
    if (std::regex_search(line, m, header)) {
      path = m[2];
      number = std::stoul(m[3]);
      want = m[1];
    } else if (std::regex_search(line, m, step_ref)) {
      path = m[1];
      number = std::stoul(m[2]);
      want = expected_code(line);
    } else {
      continue;
    }
    const auto source = read_lines(path);
    if (!source) {
      error(where, "the trace names " + path + ", which cannot be read");
      continue;
    }
    if (number == 0 || number > source->size()) {
      error(where, "the trace names " + path + " line " + std::to_string(number) +
                       ", which does not exist");
      continue;
    }
    if (!want.empty() && (*source)[number - 1].find(want) == std::string::npos) {
      error(where, "the trace says " + path + "(" + std::to_string(number) + ") holds '" + want +
                       "', but that line is now: " + (*source)[number - 1] +
                       "\n  (run the scenario with --verbose and paste the new trace)");
    }
  }
}

bool is_directive(const std::string& line, std::string& path, std::string& name) {
  constexpr std::string_view open = "<!-- snippet: ";
  constexpr std::string_view close = " -->";
  if (line.rfind(open, 0) != 0 || line.size() < open.size() + close.size() ||
      line.compare(line.size() - close.size(), close.size(), close) != 0) {
    return false;
  }
  std::istringstream words(line.substr(open.size(), line.size() - open.size() - close.size()));
  return static_cast<bool>(words >> path >> name);
}

// Languages whose blocks must come from compiled (or loaded) files.
bool must_be_checked(std::string_view lang) {
  return lang == "cpp" || lang == "c++" || lang == "starlark" || lang == "python" || lang == "bzl";
}

// Checks (or, with update, rewrites) one Markdown file; returns its new text.
std::string process(const std::string& md, bool update) {
  const auto lines = read_lines(md);
  std::string out;
  if (!lines) {
    error(md, "cannot read it");
    return out;
  }
  std::string path;
  std::string name;
  bool pending = false;  // a directive waits for its block
  int directive_line = 0;
  int snippets = 0;
  int traces = 0;
  for (std::size_t i = 0; i < lines->size(); ++i) {
    const std::string& line = (*lines)[i];
    const std::string where = md + ":" + std::to_string(i + 1);
    if (is_directive(line, path, name)) {
      if (pending) error(where, "a snippet directive without a code block after it");
      pending = true;
      directive_line = static_cast<int>(i + 1);
      out += line + "\n";
      continue;
    }
    if (line.rfind("```", 0) == 0 && line.size() > 3) {
      // An opening fence: find the closing one.
      const std::string lang = line.substr(3);
      std::size_t close = i + 1;
      while (close < lines->size() && (*lines)[close].rfind("```", 0) != 0) ++close;
      if (close == lines->size()) {
        error(where, "code block never closed");
        return out;
      }
      std::vector<std::string> block(lines->begin() + i + 1, lines->begin() + close);
      std::vector<std::string> body = block;
      if (pending) {
        ++snippets;
        const std::string at = md + ":" + std::to_string(directive_line);
        if (auto source = region(path, name, at)) {
          if (*source != block) {
            if (update) {
              body = *source;
            } else {
              std::size_t k = 0;
              while (k < source->size() && k < block.size() && (*source)[k] == block[k]) ++k;
              error(at, "the block differs from " + path + " region " + name + " at its line " +
                            std::to_string(k + 1) +
                            ":\n  guide:  " + (k < block.size() ? block[k] : "<end>") +
                            "\n  source: " + (k < source->size() ? (*source)[k] : "<end>") +
                            "\n  (to take the source's text: bazel run "
                            "//examples:guide_snippets_test -- --update)");
            }
          }
        }
        pending = false;
      } else if (lang == "text") {
        ++traces;
        check_trace(block, md, i + 1);
      } else if (must_be_checked(lang)) {
        error(where, "a ```" + lang +
                         " block without a '<!-- snippet: FILE NAME -->' line above it: "
                         "every code block must come from a file the build compiles");
      }
      out += line + "\n";
      for (const auto& b : body) out += b + "\n";
      out += (*lines)[close] + "\n";
      i = close;
      continue;
    }
    if (pending && !line.empty()) {
      error(where, "a snippet directive must be followed by a code block");
      pending = false;
    }
    out += line + "\n";
  }
  if (pending) error(md, "the last snippet directive has no code block");
  std::printf("%s: %d snippets, %d text blocks checked for trace references\n", md.c_str(),
              snippets, traces);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  bool update = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--update") {
      update = true;
    } else {
      files.emplace_back(arg);
    }
  }
  if (update) {
    const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    if (workspace == nullptr) {
      std::fprintf(stderr, "--update rewrites the source tree: use bazel run\n");
      return 2;
    }
    root = std::string(workspace) + "/";
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--update] FILE.md...\n", argv[0]);
    return 2;
  }
  for (const auto& md : files) {
    const std::string text = process(md, update);
    if (update && errors == 0) {
      std::ofstream(root + md) << text;
    }
  }
  if (errors != 0) {
    std::fprintf(stderr, "%d problem(s)\n", errors);
    return 1;
  }
  return 0;
}
