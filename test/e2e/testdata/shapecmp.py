"""The half the *_moto_shapes.py scripts share.

Each script defines run(endpoint, key, secret), which makes boto3 calls
through a recorder() and returns the recorded responses by call name; main()
runs it against berth (BERTH_ENDPOINT with BERTH_KEY/BERTH_SECRET) and
moto_server (MOTO_ENDPOINT with any credentials) and prints a JSON list of
differences in response keys and value types:
  {"op": ..., "path": ..., "berth": <type or null>, "moto": <type or null>}
A call that fails on one side only, or with different error codes, is
reported with path "<call>" and the two error codes.
"""
import datetime
import json
import os
import sys

from botocore.exceptions import ClientError


def recorder(out):
    """Returns call(name, fn, **kw): the response (or None on a ClientError), kept in out[name]."""
    def call(name, fn, **kw):
        try:
            resp = fn(**kw)
            resp.pop("ResponseMetadata", None)
            out[name] = resp
            return resp
        except ClientError as e:
            out[name] = {"__error__": e.response["Error"]["Code"]}
            return None
    return call


def typename(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, datetime.datetime):
        return "datetime"
    if isinstance(v, dict):
        return "dict"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def first(items):
    return items[0]


def merged(items):
    """The union of the members of all elements, for lists whose order differs between the two sides."""
    if not all(isinstance(i, dict) for i in items):
        return items[0]
    m = {}
    for i in items:
        for k, v in i.items():
            m.setdefault(k, v)
    return m


def diff(op, path, a, b, out, element=first, opaque=()):
    """Appends to out every key and type difference between a and b.

    element picks the list member that stands for a whole list; opaque names
    the keys whose dicts are keyed by random ids, so only a value's shape is
    compared.
    """
    ta, tb = typename(a), typename(b)
    if ta != tb:
        out.append({"op": op, "path": path or "<root>", "berth": ta, "moto": tb})
        return
    if ta == "dict" and path.rpartition(".")[2] in opaque:
        if a and b:
            diff(op, path + ".<version-id>", next(iter(a.values())), next(iter(b.values())), out, element, opaque)
        return
    if ta == "dict":
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append({"op": op, "path": path + "." + k, "berth": None, "moto": typename(b[k])})
            elif k not in b:
                out.append({"op": op, "path": path + "." + k, "berth": typename(a[k]), "moto": None})
            else:
                diff(op, path + "." + k, a[k], b[k], out, element, opaque)
    elif ta == "list" and a and b:
        diff(op, path + "[]", element(a), element(b), out, element, opaque)


def main(run, element=first, opaque=()):
    berth = run(os.environ["BERTH_ENDPOINT"], os.environ["BERTH_KEY"], os.environ["BERTH_SECRET"])
    moto = run(os.environ["MOTO_ENDPOINT"], "testing", "testing")
    out = []
    for op in berth:
        a, b = berth[op], moto.get(op, {"__error__": "not called"})
        if "__error__" in a or "__error__" in b:
            ea, eb = a.get("__error__"), b.get("__error__")
            if ea != eb:
                out.append({"op": op, "path": "<call>", "berth": ea, "moto": eb})
            continue
        diff(op, "", a, b, out, element, opaque)
    json.dump(out, sys.stdout, indent=1)
