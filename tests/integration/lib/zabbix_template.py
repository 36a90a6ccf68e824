#!/usr/bin/env python3
"""zabbix_template.py: checks packaging/zabbix against the daemon's real JSON.

Used by test_zabbix_template.sh:

  zabbix_template.py check TEMPLATE CONF
      structure: Zabbix 6.0 export keys and enums, unique 32-hex uuids, item
      keys, dependent items' masters, item references in trigger expressions,
      user macros, LLD macros, value maps; the UserParameter lines.
  zabbix_template.py collect CONF CTL SOCK OUT [AGENT]
      run every UserParameter command as the agent would (sh -c), with the
      build's aldproxyctl for /usr/bin/aldproxyctl and the rig's read-only
      socket for /run/aldproxy/status.sock; write {key: {output, rc, time}}.
      With AGENT (path of zabbix_agentd or zabbix_agent2): through that
      agent's test mode instead.
  zabbix_template.py evaluate TEMPLATE SAMPLE [PREVIOUS] EXPECT
      run the preprocessing of every dependent item, discovery rule and item
      prototype (LLD macros from the rule's own output) on SAMPLE; with
      PREVIOUS, CHANGE_PER_SECOND is computed too.  EXPECT (JSON) maps an item
      key, LLD macros resolved, to checks on its value:
        {"raw": V}     the first step's (JSONPath) result equals V
        {"raw_min": V} ... is at least V
        {"value": V}   the final value (after every step) equals V
        {"min": V} / {"max": V}   the final value is at least / at most V
        {"fails": true} the first step fails (the error handler then applies)
      "@strict": false lets JSONPath steps fail (the daemon is down) as long as
      an error handler takes over; otherwise every JSONPath must find a value.
"""
import json
import os
import re
import subprocess
import sys
import time

import yaml

TEMPLATE_NAME = "aldproxy by Zabbix agent"
PROD_CTL = "/usr/bin/aldproxyctl"
PROD_SOCK = "/run/aldproxy/status.sock"

# ------------------------------------------------------------ 6.0 schema subset
# Keys and enum values accepted by Zabbix 6.0's import (C60XmlValidator) for
# the objects this template uses.
ROOT_KEYS = {"version", "date", "groups", "templates", "hosts", "triggers", "graphs",
             "media_types", "maps", "images", "value_maps"}
TEMPLATE_KEYS = {"uuid", "template", "name", "description", "templates", "groups", "items",
                 "discovery_rules", "httptests", "tags", "macros", "dashboards", "valuemaps"}
_ITEM_COMMON = {"uuid", "name", "type", "snmp_oid", "key", "delay", "history", "trends", "status",
                "value_type", "allowed_hosts", "units", "params", "ipmi_sensor", "authtype",
                "username", "password", "publickey", "privatekey", "description",
                "inventory_link", "valuemap", "logtimefmt", "preprocessing", "jmx_endpoint",
                "master_item", "timeout", "url", "query_fields", "parameters", "posts",
                "status_codes", "follow_redirects", "post_type", "http_proxy", "headers",
                "retrieve_mode", "request_method", "output_format", "allow_traps",
                "ssl_cert_file", "ssl_key_file", "ssl_key_password", "verify_peer",
                "verify_host", "tags"}
ITEM_KEYS = _ITEM_COMMON | {"triggers"}
ITEM_PROTOTYPE_KEYS = _ITEM_COMMON | {"discover", "trigger_prototypes"}
DRULE_KEYS = {"uuid", "name", "type", "snmp_oid", "key", "delay", "status", "allowed_hosts",
              "params", "ipmi_sensor", "authtype", "username", "password", "publickey",
              "privatekey", "filter", "lifetime", "description", "item_prototypes",
              "trigger_prototypes", "graph_prototypes", "host_prototypes", "jmx_endpoint",
              "master_item", "timeout", "url", "query_fields", "parameters", "posts",
              "status_codes", "follow_redirects", "post_type", "http_proxy", "headers",
              "retrieve_mode", "request_method", "allow_traps", "ssl_cert_file", "ssl_key_file",
              "ssl_key_password", "verify_peer", "verify_host", "lld_macro_paths",
              "preprocessing", "overrides"}
TRIGGER_KEYS = {"uuid", "expression", "recovery_mode", "recovery_expression", "correlation_mode",
                "correlation_tag", "name", "event_name", "opdata", "url", "status", "priority",
                "description", "type", "manual_close", "dependencies", "tags"}
TRIGGER_PROTOTYPE_KEYS = TRIGGER_KEYS | {"discover"}
STEP_KEYS = {"type", "parameters", "error_handler", "error_handler_params"}
MACRO_KEYS = {"macro", "type", "value", "description"}
VALUEMAP_KEYS = {"uuid", "name", "mappings"}
MAPPING_KEYS = {"type", "value", "newvalue"}
TAG_KEYS = {"tag", "value"}
DEPENDENCY_KEYS = {"name", "expression", "recovery_expression"}

ITEM_TYPES = {"ZABBIX_PASSIVE", "TRAP", "SIMPLE", "INTERNAL", "ZABBIX_ACTIVE", "EXTERNAL",
              "ODBC", "IPMI", "SSH", "TELNET", "CALCULATED", "JMX", "SNMP_TRAP", "DEPENDENT",
              "HTTP_AGENT", "SNMP_AGENT", "SCRIPT"}
DRULE_TYPES = ITEM_TYPES - {"CALCULATED", "SNMP_TRAP"}
VALUE_TYPES = {"FLOAT", "CHAR", "LOG", "UNSIGNED", "TEXT"}
PRIORITIES = {"NOT_CLASSIFIED", "INFO", "WARNING", "AVERAGE", "HIGH", "DISASTER"}
STEP_TYPES = {"MULTIPLIER", "RTRIM", "LTRIM", "TRIM", "REGEX", "BOOL_TO_DECIMAL",
              "OCTAL_TO_DECIMAL", "HEX_TO_DECIMAL", "SIMPLE_CHANGE", "CHANGE_PER_SECOND",
              "XMLPATH", "JSONPATH", "IN_RANGE", "MATCHES_REGEX", "NOT_MATCHES_REGEX",
              "CHECK_JSON_ERROR", "CHECK_XML_ERROR", "CHECK_REGEX_ERROR", "CHECK_NOT_SUPPORTED",
              "DISCARD_UNCHANGED", "DISCARD_UNCHANGED_HEARTBEAT", "JAVASCRIPT",
              "PROMETHEUS_PATTERN", "PROMETHEUS_TO_JSON", "CSV_TO_JSON", "STR_REPLACE",
              "XML_TO_JSON"}
DRULE_STEP_TYPES = {"REGEX", "XMLPATH", "JSONPATH", "NOT_MATCHES_REGEX", "CHECK_JSON_ERROR",
                    "CHECK_XML_ERROR", "DISCARD_UNCHANGED_HEARTBEAT", "JAVASCRIPT",
                    "PROMETHEUS_TO_JSON", "CSV_TO_JSON", "STR_REPLACE", "XML_TO_JSON"}
# steps without "Custom on fail" in Zabbix 6.0
NO_ERROR_HANDLER = {"RTRIM", "LTRIM", "TRIM", "DISCARD_UNCHANGED", "DISCARD_UNCHANGED_HEARTBEAT",
                    "STR_REPLACE", "CHECK_NOT_SUPPORTED"}
ERROR_HANDLERS = {"ORIGINAL_ERROR", "DISCARD_VALUE", "CUSTOM_VALUE", "CUSTOM_ERROR"}
TRIGGER_FUNCTIONS = {"last", "min", "max", "avg", "nodata", "change", "length", "find", "count",
                     "sum", "abs"}
# steps this checker can run; anything else in the template is an error here
RUNNABLE_STEPS = {"JSONPATH", "CHANGE_PER_SECOND", "DISCARD_UNCHANGED_HEARTBEAT",
                  "MATCHES_REGEX", "BOOL_TO_DECIMAL"}

UUID_RE = re.compile(r"^[0-9a-f]{32}$")

errors = []


def err(msg):
    errors.append(msg)


def finish(what):
    if errors:
        for e in errors:
            print("FAIL:", e, file=sys.stderr)
        sys.exit(1)
    print(what)


# ------------------------------------------------------------------ JSONPath
class NoData(Exception):
    pass


def _parse_literal(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        body = s[1:-1]
        return re.sub(r"\\(.)", r"\1", body)
    try:
        return json.loads(s)
    except ValueError:
        raise ValueError("unsupported filter literal %r" % s)


def jsonpath(doc, path):
    """The subset of Zabbix JSONPath this template uses: $.a.b, $['a'],
    $.a[0], $.a[?(@.k == "v")].b, and a trailing .first() / .length().
    Returns the matched value(s) like Zabbix: one value for a definite path,
    a list for a path with a filter (unless .first())."""
    if not path.startswith("$"):
        raise ValueError("JSONPath must start with $: %r" % path)
    nodes, definite = [doc], True
    i, n = 1, len(path)
    while i < n:
        c = path[i]
        if path.startswith(".first()", i) or path.startswith(".length()", i):
            fn = "first" if path.startswith(".first()", i) else "length"
            i += len(fn) + 3
            if i != n:
                raise ValueError("function not at the end of %r" % path)
            if fn == "first":
                if definite:
                    nodes = nodes[0] if nodes and isinstance(nodes[0], list) else []
                if not nodes:
                    raise NoData(path)
                return nodes[0]
            if definite:
                if not nodes or not isinstance(nodes[0], (list, dict)):
                    raise NoData(path)
                return len(nodes[0])
            return len(nodes)
        if c == ".":
            m = re.match(r"\.([A-Za-z_][A-Za-z0-9_]*)", path[i:])
            if not m:
                raise ValueError("bad segment at %d in %r" % (i, path))
            name = m.group(1)
            nodes = [x[name] for x in nodes if isinstance(x, dict) and name in x]
            i += m.end()
        elif c == "[":
            j = path.find("]", i)
            if path.startswith("[?(", i):
                j = path.find(")]", i)
                if j < 0:
                    raise ValueError("unterminated filter in %r" % path)
                expr = path[i + 3:j]
                m = re.match(r"\s*@\.([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=)\s*(.+?)\s*$", expr)
                if not m:
                    raise ValueError("unsupported filter %r" % expr)
                field, op, lit = m.group(1), m.group(2), _parse_literal(m.group(3))
                out = []
                for x in nodes:
                    for el in (x if isinstance(x, list) else x.values() if isinstance(x, dict) else []):
                        if isinstance(el, dict) and field in el:
                            if (el[field] == lit) == (op == "=="):
                                out.append(el)
                nodes, definite = out, False
                i = j + 2
                continue
            if j < 0:
                raise ValueError("unterminated [ in %r" % path)
            inner = path[i + 1:j].strip()
            if re.fullmatch(r"-?[0-9]+", inner):
                k = int(inner)
                nodes = [x[k] for x in nodes if isinstance(x, list) and -len(x) <= k < len(x)]
            elif len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                name = inner[1:-1]
                nodes = [x[name] for x in nodes if isinstance(x, dict) and name in x]
            else:
                raise ValueError("unsupported bracket segment [%s] in %r" % (inner, path))
            i = j + 1
        else:
            raise ValueError("unexpected %r at %d in %r" % (c, i, path))
    if definite:
        if not nodes:
            raise NoData(path)
        return nodes[0]
    if not nodes:
        raise NoData(path)
    return nodes


def zbx_text(v):
    """A JSON value as Zabbix hands it to the next step: strings unquoted,
    null as an empty string, numbers, booleans and containers as JSON text."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    return json.dumps(v, separators=(",", ":"))


# --------------------------------------------------------------- preprocessing
class Discard(Exception):
    pass


class StepFailed(Exception):
    pass


BOOL_TRUE = {"true", "t", "yes", "y", "on", "up", "running", "enabled", "available", "ok", "master"}
BOOL_FALSE = {"false", "f", "no", "n", "off", "down", "unused", "disabled", "unavailable", "err",
              "slave"}


def run_step(step, value, prev):
    t, params = step["type"], step.get("parameters") or []
    if t == "JSONPATH":
        try:
            doc = json.loads(value)
        except ValueError:
            raise StepFailed("cannot parse as JSON: %.80r" % value)
        try:
            return zbx_text(jsonpath(doc, params[0]))
        except NoData:
            raise StepFailed("no data matches %s" % params[0])
    if t == "MATCHES_REGEX":
        if not re.search(params[0], value):
            raise StepFailed("%r does not match %s" % (value, params[0]))
        return value
    if t == "BOOL_TO_DECIMAL":
        v = value.strip().lower()
        if v in BOOL_TRUE:
            return "1"
        if v in BOOL_FALSE:
            return "0"
        raise StepFailed("%r is not a boolean" % value)
    if t == "DISCARD_UNCHANGED_HEARTBEAT":
        return value
    if t == "CHANGE_PER_SECOND":
        cur = float(value)
        if prev is None:
            raise Discard("first value of a change per second")
        pv, pt, ct = prev
        if cur < float(pv):
            raise Discard("counter went down")
        return repr((cur - float(pv)) / (ct - pt))
    raise ValueError("step %s not supported by this checker" % t)


def run_pipeline(steps, value, prev_value=None, times=None):
    """Returns (first_step_result, final_value, first_step_error).
    first_step_result is None when the first step failed; final_value is None
    when the pipeline discarded the value.  prev_value/times: the previous
    sample of the master item and the two sample times, for CHANGE_PER_SECOND."""
    first, first_err = None, None
    for n, step in enumerate(steps):
        prev = None
        if step["type"] == "CHANGE_PER_SECOND" and prev_value is not None:
            try:
                pv = run_pipeline(steps[:n], prev_value)[1]
            except StepFailed:
                pv = None
            if pv is not None:
                prev = (pv, times[0], times[1])
        try:
            out = run_step(step, value, prev)
        except Discard:
            return (first, None, first_err)
        except StepFailed as e:
            if n == 0:
                first_err = str(e)
            h = step.get("error_handler", "ORIGINAL_ERROR")
            if h == "CUSTOM_VALUE":
                out = step.get("error_handler_params", "")
            elif h == "DISCARD_VALUE":
                return (first, None, first_err)
            else:
                raise StepFailed("step %d (%s): %s" % (n + 1, step["type"], e))
        if n == 0 and first_err is None:
            first = out
        value = out
    return (first, value, first_err)


def convert(value, value_type):
    if value is None or value_type in ("CHAR", "TEXT", "LOG"):
        return value
    if value_type == "UNSIGNED":
        if not re.fullmatch(r"[0-9]+", value.strip()):
            raise ValueError("%r is not an unsigned integer" % value)
        return int(value)
    return float(value)


# ------------------------------------------------------------------- helpers
def load_template(path):
    with open(path) as f:
        d = yaml.safe_load(f)
    return d


def walk_keys(obj, allowed, where):
    if not isinstance(obj, dict):
        err("%s: not a mapping" % where)
        return
    for k in obj:
        if k not in allowed:
            err("%s: key %r is not in the Zabbix 6.0 export schema" % (where, k))


def item_refs(expr):
    """(host, key) of every /host/key in a 6.0 trigger expression."""
    refs, i = [], 0
    while True:
        j = expr.find("(/", i)
        if j < 0:
            return refs
        k = j + 2
        host_end = expr.index("/", k)
        host, k = expr[k:host_end], host_end + 1
        start, depth, inq = k, 0, False
        while k < len(expr):
            c = expr[k]
            if inq:
                if c == "\\":
                    k += 2
                    continue
                if c == '"':
                    inq = False
            elif c == '"' and depth > 0:
                inq = True
            elif c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif depth == 0 and c in ",)":
                break
            k += 1
        refs.append((host, expr[start:k]))
        i = k


def user_macros(s):
    return set(re.findall(r"\{\$[A-Z0-9_.]+(?::[^}]*)?\}", s or ""))


def lld_macros(s):
    return set(re.findall(r"\{#[A-Z0-9_.]+\}", s or ""))


def all_strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from all_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from all_strings(v)


def parse_conf(path):
    ups = {}
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^UserParameter=([^,]+),(.+)$", line)
            if not m:
                err("%s:%d: not a UserParameter line: %r" % (path, lineno, line))
                continue
            key, cmd = m.group(1), m.group(2)
            if key in ups:
                err("%s:%d: duplicate UserParameter %s" % (path, lineno, key))
            ups[key] = cmd
    return ups


def template_of(d):
    ts = d["zabbix_export"]["templates"]
    if len(ts) != 1:
        err("expected one template, found %d" % len(ts))
    return ts[0]


# --------------------------------------------------------------------- check
def check_steps(steps, where, drule=False):
    if not isinstance(steps, list) or not steps:
        err("%s: preprocessing must be a non-empty list" % where)
        return
    for n, s in enumerate(steps, 1):
        w = "%s step %d" % (where, n)
        walk_keys(s, STEP_KEYS, w)
        t = s.get("type")
        if t not in (DRULE_STEP_TYPES if drule else STEP_TYPES):
            err("%s: type %r not allowed here" % (w, t))
        if t not in RUNNABLE_STEPS:
            err("%s: type %r cannot be checked by this test" % (w, t))
        p = s.get("parameters")
        if not isinstance(p, list) or not all(isinstance(x, str) for x in p):
            err("%s: parameters must be a list of strings, got %r" % (w, p))
        h = s.get("error_handler")
        if h is not None:
            if h not in ERROR_HANDLERS:
                err("%s: error_handler %r" % (w, h))
            if t in NO_ERROR_HANDLER:
                err("%s: %s has no custom error handling" % (w, t))
            if h in ("CUSTOM_VALUE", "CUSTOM_ERROR") and not isinstance(s.get("error_handler_params"), str):
                err("%s: %s needs error_handler_params" % (w, h))
            if h == "CUSTOM_ERROR" and not s.get("error_handler_params"):
                err("%s: CUSTOM_ERROR needs a message" % w)
        if t == "JSONPATH" and p:
            try:
                jsonpath({}, p[0])
            except NoData:
                pass
            except ValueError as e:
                err("%s: %s" % (w, e))
        if t == "MATCHES_REGEX" and p:
            try:
                re.compile(p[0])
            except re.error as e:
                err("%s: bad regex: %s" % (w, e))


def check_tags(obj, where):
    for t in obj.get("tags") or []:
        walk_keys(t, TAG_KEYS, where + " tag")
        if not t.get("tag"):
            err("%s: empty tag" % where)


def check_trigger(tr, where, proto, keys_ok, proto_keys, all_triggers):
    walk_keys(tr, TRIGGER_PROTOTYPE_KEYS if proto else TRIGGER_KEYS, where)
    for req in ("uuid", "expression", "name"):
        if not tr.get(req):
            err("%s: %s is required" % (where, req))
    if tr.get("priority", "NOT_CLASSIFIED") not in PRIORITIES:
        err("%s: priority %r" % (where, tr.get("priority")))
    for f in ("manual_close",):
        if f in tr and tr[f] not in ("YES", "NO"):
            err("%s: %s must be YES or NO" % (where, f))
    for e in (tr.get("expression", ""), tr.get("recovery_expression", "")):
        if not e:
            continue
        refs = item_refs(e)
        if not refs:
            err("%s: expression references no item: %s" % (where, e))
        for host, key in refs:
            if host != TEMPLATE_NAME:
                err("%s: expression references host %r, not %r" % (where, host, TEMPLATE_NAME))
            if key not in keys_ok:
                err("%s: expression references unknown item key %r" % (where, key))
        if proto and not any(k in proto_keys for _, k in refs):
            err("%s: a trigger prototype must use an item prototype" % where)
        for fn in re.findall(r"\b([a-z]+)\(", e):
            if fn not in TRIGGER_FUNCTIONS:
                err("%s: unknown trigger function %s()" % (where, fn))
    for t in tr.get("dependencies") or []:
        walk_keys(t, DEPENDENCY_KEYS, where + " dependency")
        if (t.get("name"), t.get("expression")) not in all_triggers:
            err("%s: dependency %r does not match a trigger of this template" % (where, t.get("name")))
    check_tags(tr, where)


def cmd_check(template_path, conf_path):
    d = load_template(template_path)
    ex = d.get("zabbix_export")
    if not isinstance(ex, dict):
        err("no zabbix_export")
        finish("")
    walk_keys(ex, ROOT_KEYS, "zabbix_export")

    # Zabbix reads YAML 1.1 (PHP yaml_parse, libyaml), as PyYAML does: an
    # unquoted 0, YES or 6.0 arrives as a number or boolean, not the string
    # the importer expects.  Every scalar of the export must be a string.
    def scalars(o, where):
        if isinstance(o, dict):
            for k, v in o.items():
                scalars(v, "%s.%s" % (where, k))
        elif isinstance(o, list):
            for n, v in enumerate(o):
                scalars(v, "%s[%d]" % (where, n))
        elif not isinstance(o, str):
            err("%s: %r is a %s, quote it" % (where, o, type(o).__name__))
    scalars(ex, "zabbix_export")
    if ex.get("version") != "6.0":
        err("zabbix_export.version must be the string '6.0', got %r" % ex.get("version"))
    if "template_groups" in ex:
        err("template_groups is 6.2+; a 6.0 export has groups")
    group_names = {g["name"] for g in ex.get("groups") or []}
    t = template_of(d)
    walk_keys(t, TEMPLATE_KEYS, "template")
    if t.get("template") != TEMPLATE_NAME or t.get("name") != TEMPLATE_NAME:
        err("template name must be %r" % TEMPLATE_NAME)
    for g in t.get("groups") or []:
        if g.get("name") not in group_names:
            err("template group %r is not exported in groups" % g.get("name"))

    # every uuid: present, 32 lowercase hex, unique across the export
    uuids = []

    def collect_uuids(o, where):
        if isinstance(o, dict):
            if "uuid" in o:
                uuids.append((o["uuid"], where + "/" + str(o.get("name") or o.get("key") or o.get("template"))))
            for k, v in o.items():
                collect_uuids(v, where + "/" + k)
        elif isinstance(o, list):
            for v in o:
                collect_uuids(v, where)
    collect_uuids(ex, "")
    seen = {}
    for u, where in uuids:
        if not isinstance(u, str) or not UUID_RE.match(u):
            err("%s: uuid %r is not 32 lowercase hex digits" % (where, u))
        elif u in seen:
            err("uuid %s used twice: %s and %s" % (u, seen[u], where))
        else:
            seen[u] = where

    items = t.get("items") or []
    keys = [i.get("key") for i in items]
    drules = t.get("discovery_rules") or []
    drule_keys = [r.get("key") for r in drules]
    proto_keys_all = [p.get("key") for r in drules for p in r.get("item_prototypes") or []]
    every = keys + drule_keys + proto_keys_all
    for k in set(every):
        if every.count(k) > 1:
            err("item key %r used more than once" % k)
    item_by_key = {i.get("key"): i for i in items}
    valuemaps = {v.get("name") for v in t.get("valuemaps") or []}
    defined_macros = {m.get("macro") for m in t.get("macros") or []}
    for m in t.get("macros") or []:
        walk_keys(m, MACRO_KEYS, "macro %s" % m.get("macro"))
        if not re.fullmatch(r"\{\$[A-Z0-9_.]+\}", m.get("macro") or ""):
            err("bad user macro name %r" % m.get("macro"))
    for v in t.get("valuemaps") or []:
        walk_keys(v, VALUEMAP_KEYS, "valuemap %s" % v.get("name"))
        for mp in v.get("mappings") or []:
            walk_keys(mp, MAPPING_KEYS, "valuemap %s mapping" % v.get("name"))
            if not isinstance(mp.get("newvalue"), str) or not isinstance(mp.get("value"), str):
                err("valuemap %s: value and newvalue must be strings" % v.get("name"))

    # all triggers by (name, expression), for dependencies
    all_triggers = set()
    for i in items:
        for tr in i.get("triggers") or []:
            all_triggers.add((tr.get("name"), tr.get("expression")))
    for tr in ex.get("triggers") or []:
        all_triggers.add((tr.get("name"), tr.get("expression")))
    for r in drules:
        for p in r.get("item_prototypes") or []:
            for tr in p.get("trigger_prototypes") or []:
                all_triggers.add((tr.get("name"), tr.get("expression")))

    def check_item(i, where, proto, local_keys, master_keys):
        walk_keys(i, ITEM_PROTOTYPE_KEYS if proto else ITEM_KEYS, where)
        for req in ("uuid", "name", "key"):
            if not i.get(req):
                err("%s: %s is required" % (where, req))
        typ = i.get("type", "ZABBIX_PASSIVE")
        if typ not in ITEM_TYPES:
            err("%s: type %r" % (where, typ))
        if i.get("value_type", "UNSIGNED") not in VALUE_TYPES:
            err("%s: value_type %r" % (where, i.get("value_type")))
        for f in ("delay", "history", "trends", "lifetime"):
            if f in i and not isinstance(i[f], str):
                err("%s: %s must be a string (quote it), got %r" % (where, f, i[f]))
        if typ == "DEPENDENT":
            mk = (i.get("master_item") or {}).get("key")
            if mk not in master_keys:
                err("%s: master_item %r is not an item of this template" % (where, mk))
            if i.get("delay") != "0":
                err("%s: a dependent item's delay is '0'" % where)
            m = item_by_key.get(mk) or {}
            if m.get("value_type") not in ("TEXT", "CHAR"):
                err("%s: master %s should be a TEXT item holding JSON" % (where, mk))
        elif "master_item" in i:
            err("%s: master_item on a %s item" % (where, typ))
        if typ in ("ZABBIX_PASSIVE", "ZABBIX_ACTIVE") and i.get("key") not in ups:
            err("%s: agent item %s has no UserParameter in %s" % (where, i.get("key"), conf_path))
        if "valuemap" in i and i["valuemap"].get("name") not in valuemaps:
            err("%s: value map %r not defined" % (where, i["valuemap"].get("name")))
        if "preprocessing" in i:
            check_steps(i["preprocessing"], where)
        elif typ == "DEPENDENT":
            err("%s: a dependent item without preprocessing would store the whole JSON" % where)
        vt = i.get("value_type", "UNSIGNED")
        if vt in ("FLOAT", "UNSIGNED") and i.get("trends") == "0":
            err("%s: numeric item without trends" % where)
        if vt in ("TEXT", "CHAR") and i.get("trends", "365d") != "0":
            err("%s: a %s item needs trends '0'" % (where, vt))
        check_tags(i, where)
        for tr in i.get("trigger_prototypes" if proto else "triggers") or []:
            tw = "%s trigger %r" % (where, tr.get("name"))
            check_trigger(tr, tw, proto, local_keys, {k for k in local_keys if "{#" in k}, all_triggers)
            if i.get("key") not in [k for _, k in item_refs(tr.get("expression", ""))]:
                err("%s: a trigger nested under an item must use that item" % tw)

    ups = parse_conf(conf_path)
    for i in items:
        check_item(i, "item %s" % i.get("key"), False, set(keys), set(keys))
    for tr in ex.get("triggers") or []:
        check_trigger(tr, "trigger %r" % tr.get("name"), False, set(keys), set(), all_triggers)

    for r in drules:
        where = "discovery rule %s" % r.get("key")
        walk_keys(r, DRULE_KEYS, where)
        if r.get("type", "ZABBIX_PASSIVE") not in DRULE_TYPES:
            err("%s: type %r" % (where, r.get("type")))
        if r.get("type") == "DEPENDENT" and (r.get("master_item") or {}).get("key") not in keys:
            err("%s: master_item is not an item of this template" % where)
        check_steps(r.get("preprocessing") or [], where, drule=True)
        paths = r.get("lld_macro_paths") or []
        defined_lld = set()
        for p in paths:
            if set(p) != {"lld_macro", "path"} or not re.fullmatch(r"\{#[A-Z0-9_.]+\}", p.get("lld_macro", "")):
                err("%s: bad lld_macro_path %r" % (where, p))
            defined_lld.add(p.get("lld_macro"))
        protos = r.get("item_prototypes") or []
        if not protos:
            err("%s: no item prototypes" % where)
        pkeys = {p.get("key") for p in protos}
        for p in protos:
            pw = "%s prototype %s" % (where, p.get("key"))
            if not lld_macros(p.get("key")):
                err("%s: a prototype key needs an LLD macro" % pw)
            check_item(p, pw, True, set(keys) | pkeys, set(keys) | pkeys)
            used = set()
            for s in all_strings(p):
                used |= lld_macros(s)
            if used - defined_lld:
                err("%s: LLD macros %s not in lld_macro_paths" % (pw, sorted(used - defined_lld)))
        for tr in r.get("trigger_prototypes") or []:
            check_trigger(tr, "%s trigger prototype %r" % (where, tr.get("name")), True,
                          set(keys) | pkeys, pkeys, all_triggers)

    used_macros = set()
    for s in all_strings(ex):
        used_macros |= user_macros(s)
    if used_macros - defined_macros:
        err("user macros used but not defined in the template: %s" % sorted(used_macros - defined_macros))

    # the agent side
    if not ups:
        err("%s: no UserParameter" % conf_path)
    for k, cmd in ups.items():
        if not re.fullmatch(r"[A-Za-z0-9_.\-]+", k):
            err("UserParameter key %r: agent keys are [A-Za-z0-9_.-]" % k)
        if not cmd.startswith(PROD_CTL + " ") or ("-s " + PROD_SOCK) not in cmd:
            err("UserParameter %s: expected %s -s %s ..." % (k, PROD_CTL, PROD_SOCK))
        if not re.search(r"(\|\|\s*true|;\s*true)\s*$", cmd):
            err("UserParameter %s: must end with '|| true' so a non-zero exit still returns the JSON" % k)
        if "$" in cmd:
            err("UserParameter %s: '$' in a non-flexible UserParameter" % k)
    for k in ("aldproxy.health", "aldproxy.stats", "aldproxy.status"):
        if k not in ups:
            err("UserParameter %s missing" % k)
    finish("ok - template structure: %d items, %d discovery rules, %d uuids, %d UserParameters"
           % (len(items), len(drules), len(uuids), len(ups)))


# ------------------------------------------------------------------- collect
def cmd_collect(conf_path, ctl, sock, out_path, agent=None):
    """Run every UserParameter: through "sh -c" like the agent does, or, with
    AGENT (zabbix_agentd or zabbix_agent2), through the real agent's test mode
    (-t KEY) with the conf, paths substituted, as its only Include."""
    ups = parse_conf(conf_path)
    cmds = {k: c.replace(PROD_CTL, ctl).replace(PROD_SOCK, sock) for k, c in ups.items()}
    cfg = None
    if agent:
        d = os.path.dirname(os.path.abspath(out_path))
        inc = os.path.join(d, "userparameter_test.conf")
        with open(inc, "w") as f:
            f.writelines("UserParameter=%s,%s\n" % kv for kv in cmds.items())
        cfg = os.path.join(d, os.path.basename(agent) + ".conf")
        with open(cfg, "w") as f:
            f.write("LogType=console\nInclude=%s\nTimeout=3\n" % inc)
            if os.path.basename(agent) == "zabbix_agent2":
                f.write("ControlSocket=%s\n" % os.path.join(d, "agent2.sock"))
            else:
                f.write("AllowRoot=1\n")
    res = {}
    for k, real in cmds.items():
        t0 = time.time()
        if agent:
            p = subprocess.run([agent, "-c", cfg, "-t", k], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=20)
            text = p.stdout.decode()
            m = re.match(r"^%s\s+\[([a-z])\|(.*)\]\s*$" % re.escape(k), text, re.S)
            if p.returncode != 0 or not m:
                err("%s -t %s: exit %d, no value: %.300r" % (agent, k, p.returncode, text))
                continue
            if m.group(1) not in ("t", "s"):
                err("%s -t %s: result type %s, expected text" % (agent, k, m.group(1)))
            output, rc = m.group(2), 0
        else:
            p = subprocess.run(["sh", "-c", real], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=10)
            output, rc = p.stdout.decode().rstrip("\n"), p.returncode
        t1 = time.time()
        if not agent and t1 - t0 > 3:
            err("UserParameter %s took %.1f s (the agent's default Timeout is 3 s)" % (k, t1 - t0))
        res[k] = {"output": output, "rc": rc, "time": t1}
        if rc != 0:
            err("UserParameter %s: the shell exited %d; an agent may mark the item unsupported" % (k, rc))
    with open(out_path, "w") as f:
        json.dump(res, f)
    finish("ok - %s %d UserParameters: %s" % ("%s ran" % os.path.basename(agent) if agent else "ran",
                                            len(res), ", ".join("%s (%d bytes)" % (k, len(v["output"]))
                                                                for k, v in res.items())))


# ------------------------------------------------------------------ evaluate
def lld_escape(v):
    # Zabbix escapes \ and " in an LLD macro value resolved inside JSONPath
    return v.replace("\\", "\\\\").replace('"', '\\"')


def subst(obj, macros, jsonpath_ctx=False):
    if isinstance(obj, str):
        for m, v in macros.items():
            obj = obj.replace(m, lld_escape(v) if jsonpath_ctx else v)
        return obj
    if isinstance(obj, list):
        return [subst(x, macros, jsonpath_ctx) for x in obj]
    if isinstance(obj, dict):
        return {k: subst(v, macros, jsonpath_ctx or (k == "parameters" and obj.get("type") == "JSONPATH"))
                for k, v in obj.items()}
    return obj


def cmd_evaluate(template_path, sample_path, prev_path, expect_json):
    t = template_of(load_template(template_path))
    with open(sample_path) as f:
        cur = json.load(f)
    prev = None
    if prev_path:
        with open(prev_path) as f:
            prev = json.load(f)
    expect = json.loads(expect_json)
    strict = expect.pop("@strict", True)
    items = {i["key"]: i for i in t.get("items") or []}
    results = {}

    def evaluate(key, item):
        typ = item.get("type", "ZABBIX_PASSIVE")
        if typ != "DEPENDENT":
            v = cur[key]["output"]
            results[key] = {"raw": v, "value": v, "first_err": None, "cps": False}
            return
        mk = item["master_item"]["key"]
        pm = prev.get(mk) if prev else None
        times = (pm["time"], cur[mk]["time"]) if pm else None
        steps = item["preprocessing"]
        cps = any(s["type"] == "CHANGE_PER_SECOND" for s in steps)
        try:
            first, value, first_err = run_pipeline(steps, cur[mk]["output"],
                                                   pm["output"] if pm else None, times)
        except StepFailed as e:
            if strict:
                err("%s: %s" % (key, e))
            results[key] = {"raw": None, "value": None, "first_err": str(e), "cps": cps}
            return
        if first_err and strict and steps[0]["type"] == "JSONPATH":
            err("%s: JSONPath %s found nothing in the daemon's output: %s"
                % (key, steps[0]["parameters"][0], first_err))
        try:
            final = convert(value, item.get("value_type", "UNSIGNED"))
        except ValueError as e:
            err("%s: %s (value_type %s)" % (key, e, item.get("value_type", "UNSIGNED")))
            final = None
        raw = first
        if raw is not None and item.get("value_type", "UNSIGNED") in ("FLOAT", "UNSIGNED") \
                and steps[0]["type"] == "JSONPATH" and not first_err \
                and not any(x["type"] == "BOOL_TO_DECIMAL" for x in steps[1:]):
            # a numeric item: its JSONPath result is a number, or JSON null
            # (idle latency) that a following step turns into one
            if raw != "" and not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?", raw):
                err("%s: JSONPath result %r is not a number" % (key, raw))
        results[key] = {"raw": raw, "value": final, "first_err": first_err, "cps": cps}

    for key, item in items.items():
        if item.get("type", "ZABBIX_PASSIVE") != "DEPENDENT":
            evaluate(key, item)
    for key, item in items.items():
        if item.get("type") == "DEPENDENT":
            evaluate(key, item)

    discovered = {}
    for r in t.get("discovery_rules") or []:
        mk = r["master_item"]["key"]
        try:
            first, value, first_err = run_pipeline(r["preprocessing"], cur[mk]["output"])
        except StepFailed as e:
            if strict:
                err("discovery %s: %s" % (r["key"], e))
            continue
        rows = json.loads(value)
        if not isinstance(rows, list) or not rows:
            err("discovery %s: expected a non-empty JSON array, got %.80r" % (r["key"], value))
            continue
        discovered[r["key"]] = []
        for row in rows:
            macros = {}
            for p in r.get("lld_macro_paths") or []:
                try:
                    macros[p["lld_macro"]] = zbx_text(jsonpath(row, p["path"]))
                except NoData:
                    err("discovery %s: %s (%s) not found in %r" % (r["key"], p["lld_macro"], p["path"], row))
            if any(not v for v in macros.values()):
                err("discovery %s: empty LLD macro value in %r" % (r["key"], macros))
            discovered[r["key"]].append(macros)
            for proto in r.get("item_prototypes") or []:
                item = subst(proto, macros)
                if lld_macros(json.dumps(item)):
                    err("%s: unresolved LLD macro" % item["key"])
                evaluate(item["key"], item)

    # checks
    for key, checks in expect.items():
        r = results.get(key)
        if r is None:
            err("expected item %s was not evaluated (discovered: %s)" % (key, discovered))
            continue
        for c, want in checks.items():
            raw, val = r["raw"], r["value"]
            ok = True
            if c == "raw":
                ok = raw is not None and (float(raw) == float(want) if isinstance(want, (int, float)) else raw == want)
            elif c == "raw_min":
                ok = raw is not None and float(raw) >= want
            elif c == "value":
                ok = val is not None and (float(val) == float(want) if isinstance(want, (int, float)) else val == want)
            elif c == "min":
                ok = val is not None and float(val) >= want
            elif c == "max":
                ok = val is not None and float(val) <= want
            elif c == "fails":
                ok = (r["first_err"] is not None) == want
            elif c == "contains":
                ok = isinstance(val, str) and want in val
            else:
                err("unknown check %s" % c)
            if not ok:
                err("%s: %s %r expected, got raw=%r value=%r (first step: %s)"
                    % (key, c, want, raw, val, r["first_err"]))

    # with the daemon up every item gets a value; only a change per second
    # needs a previous sample first
    if strict:
        for key, r in results.items():
            if r["value"] is None and not (r["cps"] and not prev):
                err("%s: no value (first step: %s)" % (key, r["first_err"]))

    valued = sum(1 for r in results.values() if r["value"] is not None)
    finish("ok - %d items evaluated on the daemon's JSON%s: %d with a value, %d checks"
           % (len(results), " (rates from two samples)" if prev else "", valued,
              sum(len(c) for c in expect.values())))


def cmd_idle(template_path, sample_path):
    """With no search in the last minute the daemon reports null percentiles:
    the latency items must still get a number (0), not turn unsupported."""
    t = template_of(load_template(template_path))
    with open(sample_path) as f:
        cur = json.load(f)
    doc = json.loads(cur["aldproxy.stats"]["output"])
    for p in ("p50", "p90", "p99", "p999"):
        doc["operations"]["by_type"]["search"]["latency_ms"]["last_minute"][p] = None
    idle = json.dumps(doc)
    n = 0
    for i in t["items"]:
        if i.get("type") == "DEPENDENT" and "latency" in i["key"]:
            first, value, first_err = run_pipeline(i["preprocessing"], idle)
            if first != "":
                err("%s: JSONPath of a null percentile should give '' like Zabbix, got %r" % (i["key"], first))
            try:
                if convert(value, i.get("value_type", "UNSIGNED")) != 0:
                    err("%s: idle value %r, expected 0" % (i["key"], value))
            except ValueError as e:
                err("%s: idle minute makes the item unsupported: %s" % (i["key"], e))
            n += 1
    if n < 3:
        err("expected the p50/p90/p99 latency items, found %d" % n)
    finish("ok - %d latency items give 0, not an unsupported item, for an idle minute (null)" % n)


def main(argv):
    if len(argv) >= 3 and argv[1] == "check":
        cmd_check(argv[2], argv[3])
    elif len(argv) in (6, 7) and argv[1] == "collect":
        cmd_collect(*argv[2:])
    elif len(argv) in (5, 6) and argv[1] == "evaluate":
        if len(argv) == 5:
            cmd_evaluate(argv[2], argv[3], None, argv[4])
        else:
            cmd_evaluate(argv[2], argv[3], argv[4], argv[5])
    elif len(argv) == 4 and argv[1] == "idle":
        cmd_idle(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
