"""Reading C++ source as tokens of code rather than as exact text.

ci/mutants finds each mutation's text with code_spans(), which ignores whitespace, line
breaks and comments, so reformatting the tree or rewording a comment cannot make a
mutation stale. ci/partner_comments reads the comments with comments().
"""


def _scan(text):
    """Yields (kind, start, end) for each comment, string or char literal, and code char.

    kind is "comment", "literal", "space" or "code"; literals are yielded whole.
    """
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield "comment", i, end
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            yield "comment", i, end
            i = end
        elif c in "\"'" and not (c == "'" and i > 0 and text[i - 1].isalnum()):
            # A quote after a digit or letter is a digit separator (1'000) or a
            # prefix's end (u8'x' is fine either way): only a leading quote opens.
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            yield "literal", i, min(j + 1, n)
            i = min(j + 1, n)
        elif c.isspace():
            yield "space", i, i + 1
            i += 1
        else:
            yield "code", i, i + 1
            i += 1


def code_view(text):
    """The code of text without whitespace and comments, and each kept char's offset."""
    chars, offsets = [], []
    for kind, start, end in _scan(text):
        if kind == "code":
            chars.append(text[start])
            offsets.append(start)
        elif kind == "literal":
            for k in range(start, end):
                if not text[k].isspace():
                    chars.append(text[k])
                    offsets.append(k)
    return "".join(chars), offsets


def has_comment(text):
    return any(kind == "comment" for kind, _, _ in _scan(text))


def code_spans(text, pattern):
    """Every span of text whose code equals pattern's code, whitespace and comments aside.

    A span runs from the first to the last code char matched, so the whitespace and
    comments around it stay in place.
    """
    code, offsets = code_view(text)
    wanted, _ = code_view(pattern)
    if not wanted:
        return []
    spans = []
    at = code.find(wanted)
    while at >= 0:
        spans.append((offsets[at], offsets[at + len(wanted) - 1] + 1))
        at = code.find(wanted, at + 1)
    return spans


def comments(text):
    """(line, column, text) of each comment, line 1-based; a /* */ comment is one entry."""
    found = []
    for kind, start, end in _scan(text):
        if kind == "comment":
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1)
            found.append((line, column, text[start:end]))
    return found
