"""A Sphinx extension: the command that recorded an output becomes its caption.

The files in ``docs/results/`` start with the command that wrote them
(``$ python benchmarks/...``), often their widest line. When a page shows
such a file from its first line with ``literalinclude``, this extension
moves the command into the block's caption, where it wraps with the text,
and shows the output from the second line. Pages are rewritten as Sphinx
reads them; the sources stay as they are.
"""

import re
from pathlib import Path

_RECORD_INCLUDE = re.compile(
    r"^(?P<indent>[ \t]*)\.\. literalinclude:: (?P<path>(?:\.\./)?results/[\w.-]+\.txt)\n"
    r"(?P<options>(?:(?P=indent)[ \t]+:[\w-]+:.*\n)*)", re.MULTILINE)


def _without_first_line(lines):
    """A ``:lines:`` selection that starts at line 1, without line 1; None
    when it does not start there (the command is not shown)."""
    first, _, rest = lines.partition(",")
    if first == "1":
        return rest or None
    if first.startswith("1-"):
        if first == "1-1":
            return rest or None
        return f"2-{first[2:]}" + (f",{rest}" if rest else "")
    return None


def _caption_record(match, folder):
    options = match["options"]
    option_indent = match["indent"] + "   "
    if re.search(r":(start-after|start-at|caption):", options):
        return match[0]
    lines = re.search(r":lines: *(\S+)", options)
    if lines:
        selection = _without_first_line(lines[1])
        if selection is None:
            return match[0]
        options = options.replace(lines[0], f":lines: {selection}")
    else:
        options += f"{option_indent}:lines: 2-\n"
    command = (folder / match["path"]).read_text(encoding="utf-8").split("\n", 1)[0]
    if not command.startswith("$ "):
        return match[0]
    command = command[2:].strip()
    return (f"{match['indent']}.. literalinclude:: {match['path']}\n"
            f"{option_indent}:caption: ``{command}``\n{options}")


def caption_records(text, folder):
    """``text`` (a page) with the commands of the records it shows as
    captions; ``folder`` is where its include paths start."""
    return _RECORD_INCLUDE.sub(lambda match: _caption_record(match, folder), text)


def _caption_page(app, docname, source):
    source[0] = caption_records(source[0], (Path(app.srcdir) / docname).parent)


def setup(app):
    app.connect("source-read", _caption_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
