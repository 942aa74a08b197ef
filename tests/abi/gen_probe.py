#!/usr/bin/env python3
"""Generate tests/abi/probe.c and tests/abi/prototypes.h from Paho C's
headers (default /usr/include). The outputs are committed; rerun this when
the set of headers in scope grows (e.g. MQTTAsync.h):

    python3 tests/abi/gen_probe.py [/usr/include]

probe.c prints, one fact per line: the size of every struct and typedef,
offset and size of every (nested) field, every #define constant and enum
value, and the bytes of a static object built with every initializer macro.
prototypes.h repeats every function prototype and function typedef as
Paho declares them, so compiling it after our headers fails on any
incompatible declaration.
"""
import os
import re
import sys

HEADERS = ["MQTTExportDeclarations.h", "MQTTProperties.h", "MQTTReasonCodes.h",
           "MQTTSubscribeOpts.h", "MQTTClientPersistence.h", "MQTTClient.h",
           "MQTTAsync.h"]
HERE = os.path.dirname(os.path.abspath(__file__))


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def match_brace(text, start):
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces")


def split_members(body):
    """Split a struct/union body into member declarations (top level)."""
    out, depth, cur = [], 0, ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == ";" and depth == 0:
            if cur.strip():
                out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return out


def fields(body, prefix):
    """(path, is_leaf) for every member, recursing into nested aggregates."""
    result = []
    for m in split_members(body):
        m = " ".join(m.split())
        nested = re.match(r"^(struct|union)\s*\{(.*)\}\s*(\w*)$", m, flags=re.S)
        if nested:
            name = nested.group(3)
            inner_prefix = prefix + name + "." if name else prefix
            if name:
                result.append(prefix + name)
            result.extend(fields(nested.group(2), inner_prefix))
            continue
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)", m)
        if fp:
            result.append(prefix + fp.group(1))
            continue
        name = re.search(r"(\w+)\s*(\[[^\]]*\])?$", m).group(1)
        result.append(prefix + name)
    return result


def parse(text):
    structs, typedefs, enums, defines, initializers, protos, fntypes = [], [], [], [], [], [], []
    for m in re.finditer(r"typedef\s+(struct|union)\s*(\w*)\s*\{", text):
        end = match_brace(text, m.end() - 1)
        name = re.match(r"\s*(\w+)\s*;", text[end + 1:]).group(1)
        structs.append((name, fields(text[m.end():end], "")))
    for m in re.finditer(r"enum\s+(\w+)\s*\{(.*?)\}", text, flags=re.S):
        names = [v.split("=")[0].strip() for v in m.group(2).split(",") if v.strip()]
        enums.append((m.group(1), names))
    for m in re.finditer(r"^\s*#\s*define\s+(\w+)\s+(.+?)\s*$", text, flags=re.M):
        name, value = m.group(1), m.group(2)
        if name.endswith("_initializer") or "_initializer" in name:
            initializers.append(name)
        elif re.fullmatch(r"-?(0x[0-9A-Fa-f]+|\d+)", value):
            defines.append(name)
    for m in re.finditer(r"typedef\s+([^;{}()]+?)\s*(\*?)\s*(\w+)\s*;", text):
        if m.group(1).split()[0] not in ("struct", "union", "enum"):
            typedefs.append(m.group(3))
    for m in re.finditer(r"typedef\s+[^;{}]*?\(\s*\*\s*(\w+)\s*\)\s*\([^;]*\)\s*;", text):
        typedefs.append(m.group(1))
    for m in re.finditer(r"(typedef\s+[\w\s\*]+?\b(\w+)\s*\([^;()]*\)\s*;)", text):
        fntypes.append(" ".join(m.group(1).split()))
        typedefs.append(m.group(2))
    # Prototypes are looked for with preprocessor lines removed, so a
    # #define right before a declaration does not join it.
    code = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    for m in re.finditer(r"(?:LIBMQTT_API\s+)?([\w\s\*]+?\b(MQTT\w+)\s*\([^;(){}]*\)\s*;)", code):
        decl = " ".join(m.group(1).split())
        if decl.startswith("typedef") or "#" in decl:
            continue
        protos.append(decl)
    return structs, typedefs, enums, defines, initializers, protos, fntypes


def main():
    inc = sys.argv[1] if len(sys.argv) > 1 else "/usr/include"
    text = ""
    for h in HEADERS:
        with open(os.path.join(inc, h)) as f:
            text += strip_comments(f.read()) + "\n"
    text = text.replace("\\\n", " ")
    structs, typedefs, enums, defines, inits, protos, fntypes = parse(text)
    struct_names = {s for s, _ in structs}
    init_types = {}
    for name in inits:
        base = re.sub(r"_initializer\w*$", "", name)
        if base in struct_names:
            init_types[name] = base
    lines = [
        "/* Generated by tests/abi/gen_probe.py from Paho C's headers: do not edit. */",
        "#include <stddef.h>",
        "#include <stdio.h>",
        '#include "MQTTClient.h"',
        '#include "MQTTAsync.h"',
        "",
        "#define SIZE(T) printf(\"sizeof %s %zu\\n\", #T, sizeof(T))",
        "#define FIELD(T, f) printf(\"field %s.%s offset %zu size %zu\\n\", #T, #f, offsetof(T, f), sizeof(((T*)0)->f))",
        "#define VALUE(x) printf(\"value %s %lld\\n\", #x, (long long)(x))",
        "",
        "static void dump(const char* name, const void* p, size_t n)",
        "{",
        "\tconst unsigned char* b = (const unsigned char*)p;",
        "\tsize_t i;",
        "\tprintf(\"init %s\", name);",
        "\tfor (i = 0; i < n; i++)",
        "\t\tprintf(\" %02x\", b[i]);",
        "\tprintf(\"\\n\");",
        "}",
        "",
    ]
    for name, t in init_types.items():
        lines.append(f"static {t} init_{name} = {name};")
    lines += ["", "int main(void)", "{"]
    for name, flds in structs:
        lines.append(f"\tSIZE({name});")
        for f in flds:
            lines.append(f"\tFIELD({name}, {f});")
    for t in sorted(set(typedefs) - struct_names):
        lines.append(f"\tSIZE({t}*);" if t in {re.search(r'(\w+)\s*\(', f).group(1) for f in fntypes} else f"\tSIZE({t});")
    for e, names in enums:
        lines.append(f"\tSIZE(enum {e});")
        for n in names:
            lines.append(f"\tVALUE({n});")
    for d in defines:
        lines.append(f"\tVALUE({d});")
    for name, t in init_types.items():
        lines.append(f"\tdump(\"{name}\", &init_{name}, sizeof init_{name});")
    lines += ["\treturn 0;", "}", ""]
    with open(os.path.join(HERE, "probe.c"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(HERE, "prototypes.h"), "w") as f:
        f.write("/* Generated by tests/abi/gen_probe.py: Paho C's declarations, to be\n"
                " * compiled after our headers (any mismatch is a compile error). */\n")
        for d in fntypes + protos:
            f.write(d + "\n")
    missing = [n for n in inits if n not in init_types]
    print(f"{len(structs)} structs, {len(enums)} enums, {len(defines)} constants, "
          f"{len(init_types)} initializers, {len(protos)} prototypes; unmatched initializers: {missing}")


if __name__ == "__main__":
    main()
