#!/usr/bin/env python3
"""gen-man3.py: man(3) pages from the doc comments of libciha's public headers.

    gen-man3.py --out DIR [--version V] HEADER...   write the pages into DIR
    gen-man3.py --list HEADER...                     print the page names, one a line
    gen-man3.py --check HEADER...                    name every function whose comment lacks a
                                                     description or a "Since" line; exit 1 if any

One page per CIHA_EXTERN function (NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE,
SINCE, SEE ALSO), one overview page per header (ciha_<module>(3); for call.h,
whose module name is also a function, the overview is part of ciha_call(3))
and libciha(3) as the index. Only the Python standard library is used.
"""
import argparse
import os
import re
import sys
import time

PAGE_DATE_FORMAT = "%Y-%m-%d"
MANUAL = "libciha Manual"

DOC_COMMENT = re.compile(r"/\*\*(?!<)(.*?)\*/", re.S)
PLAIN_COMMENT = re.compile(r"/\*(?![*])(.*?)\*/", re.S)
EXTERN_DECL = re.compile(r"CIHA_EXTERN\(([^)]*)\)\s*(\w+)\s*\((.*?)\)\s*;", re.S)
SINCE = re.compile(r"\bSince\s+(\d+\.\d+(?:\.\d+)?)\.?")
SECTION_HEADING = re.compile(r"^-+\s*(.*?)\s*-+$")


# ---- reading the headers -----------------------------------------------------


class Function:
    def __init__(self, module, name, ret, params, comment, section):
        self.module = module
        self.name = name
        self.ret = " ".join(ret.split())
        self.params = split_params(params)
        self.section = section
        self.since = None
        self.description = ""
        self.param_docs = []
        self.returns = ""
        if comment is not None:
            self.parse_comment(comment)
        self.has_comment = comment is not None

    def parse_comment(self, text):
        match = SINCE.search(text)
        if match:
            self.since = match.group(1)
            text = SINCE.sub("", text)
        parts = re.split(r"@(param|return)\b", text)
        self.description = parts[0].strip()
        for tag, body in zip(parts[1::2], parts[2::2]):
            body = body.strip()
            if tag == "return":
                self.returns = join_sentences(self.returns, body)
            else:
                name, _, rest = body.partition(" ")
                self.param_docs.append((name, rest.strip()))
        kept, returns = [], []
        for sentence in split_sentences(self.description):
            (returns if sentence.startswith("Returns") else kept).append(sentence)
        if returns:
            self.description = " ".join(kept)
            self.returns = join_sentences(" ".join(returns), self.returns)

    def param_names(self):
        return [name for _, name in self.params if name]

    def summary(self):
        return short_summary(first_sentence(self.description) or first_sentence(self.returns))


class Typedef:
    def __init__(self, name, text, comment):
        self.name = name
        self.text = text
        self.comment = comment

    def is_opaque(self):
        return re.match(r"typedef\s+struct\s+\w+\s+\w+\s*;$", self.text.split("\n")[0].strip()) is not None


class Module:
    def __init__(self, name, path, description):
        self.name = name
        self.path = path
        self.description = description
        self.functions = []
        self.typedefs = []
        self.defines = []

    def page(self):
        return "ciha_" + self.name


def strip_comment(body):
    lines = []
    for line in body.split("\n"):
        line = re.sub(r"^\s*\*(?!/) ?", "", line).rstrip()
        lines.append(line.strip())
    text = "\n".join(lines).strip()
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def split_sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z@`(*])", text.strip()) if s]


def first_sentence(text):
    sentences = split_sentences(text.split("\n\n")[0]) if text else []
    return sentences[0] if sentences else ""


def short_summary(sentence, limit=70):
    """A NAME line: the sentence up to its first aside (outside quotes and JSON) when it is long."""
    s = sentence.rstrip(".")
    if len(s) > limit:
        plain = re.split(r"[{\"\[]", s)[0]
        cuts = [i for i in (plain.find(" ("), plain.find("; "), plain.find(": "), plain.find(", ")) if i >= 15]
        s = s[:min(cuts)] if cuts else s
    return s


def capitalized(text):
    """Text starting with a capital when its first word is a plain lower-case word (not an identifier)."""
    return text[0].upper() + text[1:] if re.match(r"[a-z]+\b(?![_(])", text) else text


def join_sentences(a, b):
    return (a.rstrip() + " " + b.lstrip()).strip()


def split_params(text):
    text = " ".join(text.split())
    if text in ("", "void"):
        return [("void", None)]
    params = []
    for param in split_top_level(text):
        match = re.match(r"^(.*?)(\w+)\s*$", param)
        if match and match.group(1).strip():
            params.append((match.group(1).strip(), match.group(2)))
        else:
            params.append((param.strip(), None))
    return params


def split_top_level(text):
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def preceding_doc(text, start, docs):
    """The doc comment that ends right before `start` (only white space between), or None."""
    for doc in reversed(docs):
        if doc.end() <= start:
            return strip_comment(doc.group(1)) if text[doc.end():start].strip() == "" else None
    return None


def header_description(text, filename):
    match = PLAIN_COMMENT.search(text)
    if not match:
        return ""
    desc = " ".join(strip_comment(match.group(1)).split())
    desc = re.sub(r"^libciha:[^.]*\.\s*", "", desc)
    return re.sub(r"^" + re.escape(filename) + r":\s*", "", desc)


def typedef_spans(text):
    for match in re.finditer(r"^typedef\b", text, re.M):
        depth, i = 0, match.start()
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
            elif text[i] == ";" and depth == 0:
                break
            i += 1
        yield match.start(), i + 1


def typedef_name(decl):
    pointer = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
    if pointer:
        return pointer.group(1)
    return re.search(r"(\w+)\s*;$", decl).group(1)


def following_defines(text, end):
    """#define lines directly after a typedef (its VERSION and INIT macros)."""
    lines = []
    for line in text[end:].split("\n")[1:]:
        if not line.startswith("#define"):
            break
        lines.append(line)
    return lines


def read_module(path):
    filename = os.path.basename(path)
    name = os.path.splitext(filename)[0]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    module = Module(name, path, header_description(text, filename))
    docs = list(DOC_COMMENT.finditer(text))
    headings = [(m.start(), SECTION_HEADING.match(" ".join(m.group(1).split())))
                for m in PLAIN_COMMENT.finditer(text)]
    headings = [(pos, m.group(1)) for pos, m in headings if m]

    def section_at(pos):
        current = None
        for start, heading in headings:
            if start < pos:
                current = heading
        return current

    for match in EXTERN_DECL.finditer(text):
        if text[:match.start()].rstrip().endswith("#define"):
            continue
        module.functions.append(Function(name, match.group(2), match.group(1), match.group(3),
                                         preceding_doc(text, match.start(), docs), section_at(match.start())))
    for start, end in typedef_spans(text):
        decl = text[start:end]
        extra = following_defines(text, end)
        module.typedefs.append(Typedef(typedef_name(decl), "\n".join([decl] + extra),
                                       preceding_doc(text, start, docs)))
    for match in re.finditer(r"^#define\s+(CIHA_\w+)(?!\()[ \t]+(.*)$", text, re.M):
        if not any(match.group(0) in t.text for t in module.typedefs) and not match.group(1).endswith("_H"):
            module.defines.append(match.group(0))
    return module


# ---- roff ----------------------------------------------------------------------


def esc(text):
    return text.replace("\\", "\\e").replace("-", "\\-")


def line_safe(text):
    """A text line that roff cannot take for a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


def prose(text, params=(), all_functions=()):
    """Comment text as filled roff: `name` in italics for parameters, bold otherwise."""
    out = []
    for paragraph in text.split("\n\n"):
        s = esc(paragraph)

        def code(m):
            inner = m.group(1)
            return ("\\fI%s\\fP" if inner.replace("\\-", "-") in params else "\\fB%s\\fP") % inner

        s = re.sub(r"`([^`]+)`", code, s)
        s = re.sub(r"([,/])(?=[^\s\\])", "\\1\\:", s)
        s = re.sub(r"\b(ciha_\w+)\(\)", lambda m: "\\fB%s\\fP()" % m.group(1), s)
        out.append(line_safe(s))
    return "\n.PP\n".join(out)


def prototype(fn, width=78):
    """The prototype in roff no-fill mode: types bold, parameter names italic, packed into lines of `width`."""
    head = "%s%s%s(" % (fn.ret, "" if fn.ret.endswith("*") else " ", fn.name)
    params = []
    for ptype, pname in fn.params:
        sep = "" if ptype.endswith("*") or pname is None else " "
        plain = ptype + sep + (pname or "")
        roff = "\\fB%s%s\\fP" % (esc(ptype), sep) + ("\\fI%s\\fP" % pname if pname else "")
        params.append((plain, roff))
    indent = len(head) if len(head) < 40 else 8
    lines, plain_len, roff_line = [], len(head), "\\fB%s\\fP" % esc(head)
    for i, (plain, roff) in enumerate(params):
        tail = ");" if i == len(params) - 1 else ","
        if i > 0 and plain_len + 1 + len(plain) + len(tail) > width:
            lines.append(roff_line)
            plain_len, roff_line = indent, " " * indent
        elif i > 0:
            plain_len, roff_line = plain_len + 1, roff_line + " "
        plain_len += len(plain) + len(tail)
        roff_line += roff + "\\fB%s\\fP" % tail
    lines.append(roff_line)
    return "\n".join(lines)


def page_header(name, section, date, version):
    return ['.\\" Generated by doc/gen-man3.py from the libciha headers; do not edit.',
            '.TH %s %s "%s" "libciha %s" "%s"' % (esc(name.upper()), section, date, version, MANUAL),
            ".nh", ".ad l"]


def synopsis(lines):
    out = [".SH SYNOPSIS", ".nf", ".B #include <ciha.h>"]
    if lines:
        out.append(".PP")
        out.extend(lines)
    out += [".fi", ".PP", "Compile and link with \\fIpkg\\-config \\-\\-cflags \\-\\-libs libciha\\fP."]
    return out


def see_also(pages):
    seen, refs = set(), []
    for page, section in pages:
        if (page, section) not in seen:
            seen.add((page, section))
            refs.append("\\fB%s\\fP(%s)" % (esc(page), section))
    return [".SH SEE ALSO", ",\n".join(refs)] if refs else []


def code_block(text):
    return [".PP", ".RS 4", ".nf"] + [line_safe(esc(line.replace("\t", "    "))) for line in text.split("\n")] + \
        [".fi", ".RE"]


# ---- the pages ---------------------------------------------------------------------


def default_return(fn):
    if fn.ret == "void":
        return "None."
    if fn.ret == "ciha_result":
        where = "ciha_client_error() (for this client) and ciha_error_last()" \
            if any(t.startswith("ciha_client *") for t, _ in fn.params) else "ciha_error_last()"
        return "CIHA_OK (0) on success, otherwise a negative ciha_code; the details are in %s." % where
    return ""


def used_types(fn, typedefs):
    names = set(re.findall(r"\w+", " ".join(t for t, _ in fn.params)))
    return [t for t in typedefs if t.name in names and not t.is_opaque()]


def function_page(fn, module, modules, typedefs, date, version):
    params = fn.param_names()
    lines = page_header(fn.name, 3, date, version)
    lines += [".SH NAME", "%s \\- %s" % (esc(fn.name), esc(fn.summary()).replace("`", ""))]
    lines += synopsis([prototype(fn)])
    lines += [".SH DESCRIPTION", prose(fn.description or "Returns " + fn.returns, params)]
    for name, text in fn.param_docs:
        lines += [".TP", "\\fI%s\\fP" % esc(name), prose(text, params)]
    for t in used_types(fn, typedefs):
        lines += [".PP", "\\fB%s\\fP%s" % (esc(t.name), ": " + prose(t.comment, params) if t.comment else ":")]
        lines += code_block(t.text)
    lines += [".SH RETURN VALUE", prose(capitalized(fn.returns) or default_return(fn), params)]
    lines += [".SH SINCE", "libciha %s." % fn.since if fn.since else "Not stated."]
    if fn.name == module.page():
        lines += module_sections(module, modules)
    refs = [(module.page(), 3)] if module.page() != fn.name else []
    mentioned = set(re.findall(r"\b(ciha_\w+)\(\)", " ".join([fn.description, fn.returns] +
                                                              [t for _, t in fn.param_docs])))
    all_names = {f.name for m in modules for f in m.functions}
    refs += [(n, 3) for n in sorted(mentioned & all_names) if n != fn.name]
    refs += [(f.name, 3) for f in module.functions if f.name != fn.name and f.section == fn.section]
    refs += [("libciha", 3)]
    return lines + see_also(refs)


def module_sections(module, modules):
    lines = [".SH MODULE", "\\fI%s\\fP: %s" % (esc("ciha/" + module.name + ".h"), prose(module.description))]
    section = object()
    for fn in module.functions:
        if fn.section != section:
            section = fn.section
            if section:
                lines += [".SS %s" % esc(section.capitalize())]
        lines += [".TP", "\\fB%s\\fP(3)" % esc(fn.name), prose(fn.summary() or "(undocumented)")]
    if module.typedefs or module.defines:
        lines += [".SH TYPES AND CONSTANTS"]
        for t in module.typedefs:
            if t.comment:
                lines += [".PP", prose(t.comment)]
            lines += code_block(t.text)
        if module.defines:
            lines += code_block("\n".join(module.defines))
    return lines


def grouped_prototypes(module):
    """Every prototype of the module, under a comment naming its section of the header."""
    out, section = [], object()
    for fn in module.functions:
        if fn.section != section:
            section = fn.section
            if section:
                out += ["", "/* %s */" % esc(section)]
        out.append(prototype(fn))
    return out


def module_page(module, modules, date, version):
    lines = page_header(module.page(), 3, date, version)
    lines += [".SH NAME", "%s \\- %s" % (esc(module.page()), esc(short_summary(first_sentence(module.description), 90)))]
    lines += synopsis(grouped_prototypes(module))
    lines += [".SH DESCRIPTION", prose(capitalized(module.description))]
    lines += module_sections(module, modules)[2:]
    refs = [(f.name, 3) for f in module.functions] + [("libciha", 3), ("ciha", 1)]
    return lines + see_also(refs)


INDEX_TEXT = """\
libciha lets a team run its CI/CD infrastructure on AWS the way it runs
production: rebuilt from code, backed up, watched and restored. It makes
signed (SigV4), retried calls to CloudFormation, EC2, RDS, CloudWatch, SNS,
Auto Scaling, ELB, ELBv2, STS and IAM on libcurl, OpenSSL, jansson and expat,
and builds stack lifecycle, snapshot rotation, alarm wiring and whole
environments on them.
"""

CONVENTIONS = [
    ("Results", "Every fallible function returns \\fBciha_result\\fP: \\fBCIHA_OK\\fP (0) or a negative "
     "\\fBciha_code\\fP. The detail (message, AWS error code, request id, HTTP status, service, "
     "retryable) is in \\fBciha_error_last\\fP(3) and, for calls on a client, \\fBciha_client_error\\fP(3). "
     "Messages never hold secrets."),
    ("Ownership", "Objects returned through an \\fIout\\fP parameter belong to the caller: free them with "
     "their \\fB_free\\fP function, strings with \\fBciha_free\\fP(3), JSON with \\fBjson_decref\\fP(). "
     "Pointers returned as values are borrowed from the object they came from."),
    ("Options", "Option structs carry a \\fIversion\\fP first field; initialise them with their "
     "\\fBCIHA_*_INIT\\fP macro or \\fB*_options_init\\fP() function. Fields are only ever appended."),
    ("Threads", "Call \\fBciha_global_init\\fP(3) once before anything else. A client is not thread-safe: "
     "use one per thread. Credentials and credential providers are reference-counted and thread-safe."),
    ("Versions", "\\fBciha_version\\fP(3) and \\fBciha_version_check\\fP(3) at run time; "
     "\\fBCIHA_VERSION_MAJOR\\fP, \\fBCIHA_VERSION_MINOR\\fP and \\fBCIHA_VERSION_PATCH\\fP at compile time. "
     "Each page names the version a function appeared in (SINCE)."),
]


def index_page(modules, date, version):
    lines = page_header("libciha", 3, date, version)
    lines += [".SH NAME", "libciha \\- CI high availability on AWS (C library)"]
    lines += synopsis([])
    lines += [".SH DESCRIPTION", line_safe(INDEX_TEXT.strip())]
    for title, text in CONVENTIONS:
        lines += [".TP", "\\fB%s\\fP" % title, text]
    lines += [".SH MODULES"]
    for m in modules:
        lines += [".TP", "\\fB%s\\fP(3)" % esc(m.page()),
                  "%s (\\fI%s\\fP, %d functions)" % (prose(capitalized(m.description)), esc("ciha/" + m.name + ".h"),
                                                       len(m.functions))]
    lines += [".SH FUNCTIONS", ".nf"]
    for m in modules:
        for fn in m.functions:
            lines.append("\\fB%s\\fP(3)" % esc(fn.name))
    lines += [".fi"]
    return lines + see_also([(m.page(), 3) for m in modules] + [("ciha", 1)])


def page_date():
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return time.strftime(PAGE_DATE_FORMAT, time.gmtime(int(epoch) if epoch else time.time()))


def all_pages(modules, version):
    """(page name, roff text) for every page."""
    date = page_date()
    typedefs = [t for m in modules for t in m.typedefs]
    pages = []
    for m in modules:
        for fn in m.functions:
            pages.append((fn.name, function_page(fn, m, modules, typedefs, date, version)))
        if not any(fn.name == m.page() for fn in m.functions):
            pages.append((m.page(), module_page(m, modules, date, version)))
    pages.append(("libciha", index_page(modules, date, version)))
    return [(name, "\n".join(lines) + "\n") for name, lines in pages]


def problems(modules):
    found = []
    for m in modules:
        for fn in m.functions:
            if not fn.has_comment:
                found.append("%s (%s.h): no doc comment" % (fn.name, m.name))
                continue
            if not fn.since:
                found.append("%s (%s.h): no \"Since 0.x\" line" % (fn.name, m.name))
            if not fn.description and not fn.returns:
                found.append("%s (%s.h): no description" % (fn.name, m.name))
        if not m.description:
            found.append("%s.h: no file comment describing the module" % m.name)
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="directory to write NAME.3 files into")
    ap.add_argument("--version", default="", help="package version for the page footers")
    ap.add_argument("--list", action="store_true", help="print page names")
    ap.add_argument("--check", action="store_true", help="report undocumented functions")
    ap.add_argument("headers", nargs="+")
    args = ap.parse_args()
    modules = [read_module(h) for h in args.headers]
    if args.check:
        found = problems(modules)
        for p in found:
            print(p)
        return 1 if found else 0
    pages = all_pages(modules, args.version)
    if args.list:
        for name, _ in pages:
            print(name)
        return 0
    if not args.out:
        ap.error("one of --out, --list, --check is needed")
    os.makedirs(args.out, exist_ok=True)
    for name, text in pages:
        with open(os.path.join(args.out, name + ".3"), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
