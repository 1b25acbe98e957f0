"""Check the Cloudflare rulesets of this folder before they are sent: each file's structure (the Rulesets API
body of its phase) and each rule's expression, parsed by a small parser of the subset of Cloudflare's rules
language these rules use, with each field's type: an unknown field, an operator the field's type does not
take, a bad regular expression or literal, or a syntax error is a problem.

    python deploy/cloudflare/check_rules.py   # one line per problem on stderr and exit 2; else 0

Grammar (Cloudflare's rules language, subset):
    expr    := or
    or      := xor (("or" | "||") xor)*
    xor     := and (("xor" | "^^") and)*
    and     := unary (("and" | "&&") unary)*
    unary   := ("not" | "!") unary | "(" expr ")" | compare
    compare := value [op operand]     (a value alone must be a boolean)
    value   := field | function "(" args ")"
    op      := eq ne lt le gt ge == != < <= > >= contains matches ~ in
    operand := string | integer | ip/cidr | "{" item* "}" | $list
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: the fields these rules may use, with their types (Cloudflare's Fields reference)
FIELDS: dict[str, str] = {
    "http.request.uri.path": "string",
    "http.request.uri.query": "string",
    "http.request.uri": "string",
    "http.request.full_uri": "string",
    "http.request.method": "string",
    "http.request.version": "string",
    "http.host": "string",
    "http.user_agent": "string",
    "http.referer": "string",
    "http.x_forwarded_for": "string",
    "ip.src": "ip",
    "ip.src.country": "string",
    "ip.src.asnum": "int",
    "ip.geoip.country": "string",
    "ip.geoip.asnum": "int",
    "cf.threat_score": "int",
    "cf.client.bot": "bool",
    "cf.bot_management.score": "int",
    "cf.bot_management.verified_bot": "bool",
    "ssl": "bool",
}
#: functions: (argument types, result type)
FUNCTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "lower": (("string",), "string"),
    "upper": (("string",), "string"),
    "len": (("string",), "int"),
    "starts_with": (("string", "string"), "bool"),
    "ends_with": (("string", "string"), "bool"),
}
#: comparison operators and the field types that take them
OPERATORS: dict[str, set[str]] = {
    "eq": {"string", "int", "ip", "bool"}, "ne": {"string", "int", "ip", "bool"},
    "lt": {"int"}, "le": {"int"}, "gt": {"int"}, "ge": {"int"},
    "contains": {"string"}, "matches": {"string"}, "in": {"string", "int", "ip"},
}  # fmt: skip
SYMBOLS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "~": "matches"}
LOGICAL = {
    "and": "and",
    "&&": "and",
    "or": "or",
    "||": "or",
    "xor": "xor",
    "^^": "xor",
    "not": "not",
    "!": "not",
}

TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<list>\$[a-z_][a-z0-9_]*)
      | (?P<ip>(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?|[0-9a-fA-F]{0,4}:[0-9a-fA-F:]*(?:/\d{1,3})?)
      | (?P<int>-?\d+)
      | (?P<name>[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)
      | (?P<symbol>==|!=|<=|>=|&&|\|\||\^\^|[<>~!(){},])
    )""",
    re.VERBOSE,
)


class ExprError(ValueError):
    """An expression that does not parse, or uses a field wrongly."""


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(expr: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            raise ExprError(f"unexpected character at {pos}: {expr[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        out.append(Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


class Parser:
    def __init__(self, expr: str) -> None:
        self.toks = tokenize(expr)
        self.i = 0
        self.fields: set[str] = set()
        self.lists: set[str] = set()

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise ExprError("the expression ends too early")
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise ExprError(f"expected {text!r} at {tok.pos}, got {tok.text!r}")

    def logical(self) -> str | None:
        tok = self.peek()
        return LOGICAL.get(tok.text) if tok is not None and tok.kind in ("name", "symbol") else None

    def parse(self) -> None:
        self.expr()
        tok = self.peek()
        if tok is not None:
            raise ExprError(f"unexpected {tok.text!r} at {tok.pos}")

    def expr(self) -> None:
        self.binary(("or", "xor", "and"))

    def binary(self, levels: tuple[str, ...]) -> None:
        if not levels:
            self.unary()
            return
        self.binary(levels[1:])
        while self.logical() == levels[0]:
            self.take()
            self.binary(levels[1:])

    def unary(self) -> None:
        if self.logical() == "not":
            self.take()
            self.unary()
            return
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.take()
            self.expr()
            self.expect(")")
            return
        self.compare()

    def value(self) -> str:
        """A field or a function call; its type."""
        tok = self.take()
        if tok.kind != "name" or tok.text in LOGICAL:
            raise ExprError(f"expected a field at {tok.pos}, got {tok.text!r}")
        nxt = self.peek()
        if nxt is not None and nxt.text == "(":
            if tok.text not in FUNCTIONS:
                raise ExprError(f"unknown function {tok.text!r}")
            params, result = FUNCTIONS[tok.text]
            self.take()
            for n, want in enumerate(params):
                if n:
                    self.expect(",")
                if want == "string" and self.peek() is not None and self.peek().kind == "string":  # type: ignore[union-attr]
                    self.literal("string")
                else:
                    got = self.value()
                    if got != want:
                        raise ExprError(f"{tok.text}() argument {n + 1} must be a {want}, got a {got}")
            self.expect(")")
            return result
        if tok.text not in FIELDS:
            raise ExprError(f"unknown field {tok.text!r}")
        self.fields.add(tok.text)
        return FIELDS[tok.text]

    def literal(self, kind: str) -> None:
        tok = self.take()
        if kind == "string":
            if tok.kind != "string":
                raise ExprError(f"expected a string at {tok.pos}, got {tok.text!r}")
        elif kind == "int":
            if tok.kind != "int":
                raise ExprError(f"expected an integer at {tok.pos}, got {tok.text!r}")
        elif kind == "ip":
            try:
                ipaddress.ip_network(tok.text, strict=True)
            except ValueError:
                raise ExprError(f"expected an IP address or network at {tok.pos}, got {tok.text!r}") from None

    def compare(self) -> None:
        start = self.peek()
        kind = self.value()
        tok = self.peek()
        op = None
        if (
            tok is not None
            and tok.kind in ("name", "symbol")
            and (tok.text in OPERATORS or tok.text in SYMBOLS)
        ):
            op = SYMBOLS.get(tok.text, tok.text)
        if op is None:
            if kind != "bool":
                where = start.text if start else "?"
                raise ExprError(f"{where} is a {kind}: it needs a comparison")
            return
        self.take()
        if kind not in OPERATORS[op]:
            raise ExprError(f"operator {op} does not apply to a {kind} field")
        if op == "in":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "list":
                if kind != "ip":
                    raise ExprError(f"a list ({nxt.text}) holds IP addresses here, not a {kind}")
                self.lists.add(self.take().text[1:])
                return
            self.expect("{")
            items = 0
            while self.peek() is not None and self.peek().text != "}":  # type: ignore[union-attr]
                self.literal(kind)
                items += 1
            self.expect("}")
            if items == 0:
                raise ExprError("an empty set")
        elif op == "matches":
            tok = self.take()
            if tok.kind != "string":
                raise ExprError(f"matches takes a string at {tok.pos}")
            try:
                re.compile(json.loads(tok.text))
            except re.error as exc:
                raise ExprError(f"bad regular expression {tok.text}: {exc}") from None
        else:
            self.literal(kind)


def parse(expr: str) -> Parser:
    """The parsed expression (its `fields` and `lists`), or ExprError."""
    parser = Parser(expr)
    parser.parse()
    return parser


#: the files of this folder: phase, actions a rule may take
PHASES = {
    "waf_custom_rules.json": ("http_request_firewall_custom", {"block", "managed_challenge", "js_challenge",
                                                               "challenge", "log", "skip"}),
    "rate_limit_rules.json": ("http_ratelimit", {"block", "managed_challenge", "js_challenge", "challenge",
                                                 "log"}),
}  # fmt: skip
PERIODS = {10, 60, 120, 300, 600, 3600}
TIMEOUTS = {0, 60, 120, 300, 600, 3600, 86400}
RULE_KEYS = {"ref", "description", "expression", "action", "action_parameters", "ratelimit", "enabled"}


def check_ruleset(name: str, body: Any) -> list[str]:
    phase, actions = PHASES[name]
    if not isinstance(body, dict) or set(body) - {"description", "rules"}:
        return [f"{name}: a ruleset body has description and rules only"]
    rules = body.get("rules")
    if not isinstance(rules, list) or not rules:
        return [f"{name}: no rules"]
    problems: list[str] = []
    refs: set[str] = set()
    for n, rule in enumerate(rules):
        where = f"{name} rule {n + 1}"
        if not isinstance(rule, dict):
            problems.append(f"{where}: not an object")
            continue
        for key in sorted(set(rule) - RULE_KEYS):
            problems.append(f"{where}: unknown key {key!r}")
        ref = rule.get("ref")
        if not isinstance(ref, str) or not re.fullmatch(r"[a-z0-9_]{1,64}", ref) or ref in refs:
            problems.append(f"{where}: ref must be a unique [a-z0-9_] name, got {ref!r}")
        refs.add(str(ref))
        if not isinstance(rule.get("description"), str) or not rule["description"]:
            problems.append(f"{where}: no description")
        if rule.get("action") not in actions:
            problems.append(
                f"{where}: action {rule.get('action')!r} is not one of {sorted(actions)} ({phase})"
            )
        if not isinstance(rule.get("enabled"), bool):
            problems.append(f"{where}: enabled must be true or false")
        try:
            parse(str(rule.get("expression", "")))
        except ExprError as exc:
            problems.append(f"{where} ({ref}): expression: {exc}")
        if phase == "http_ratelimit":
            problems += _ratelimit(where, rule.get("ratelimit"))
        elif "ratelimit" in rule:
            problems.append(f"{where}: ratelimit belongs to the http_ratelimit phase")
    return problems


def _ratelimit(where: str, rl: Any) -> list[str]:
    if not isinstance(rl, dict):
        return [f"{where}: a rate limiting rule needs ratelimit"]
    problems = []
    chars = rl.get("characteristics")
    if not isinstance(chars, list) or "cf.colo.id" not in chars or "ip.src" not in chars:
        problems.append(f"{where}: ratelimit.characteristics must hold cf.colo.id and ip.src")
    if rl.get("period") not in PERIODS:
        problems.append(f"{where}: ratelimit.period must be one of {sorted(PERIODS)}")
    count = rl.get("requests_per_period")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        problems.append(f"{where}: ratelimit.requests_per_period must be a positive integer")
    if rl.get("mitigation_timeout") not in TIMEOUTS:
        problems.append(f"{where}: ratelimit.mitigation_timeout must be one of {sorted(TIMEOUTS)}")
    return problems


def check(folder: Path = HERE) -> list[str]:
    problems = []
    for name in PHASES:
        path = folder / name
        try:
            body = json.loads(path.read_text())
        except OSError as exc:
            problems.append(f"{name}: {exc.strerror}")
            continue
        except json.JSONDecodeError as exc:
            problems.append(f"{name}: not JSON: {exc}")
            continue
        problems += check_ruleset(name, body)
    return problems


def main(argv: list[str]) -> int:
    problems = check(Path(argv[0]) if argv else HERE)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 2 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
