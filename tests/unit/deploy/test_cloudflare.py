"""deploy/cloudflare: the rulesets' structure and every expression parsed for the fields it uses, by the
folder's own checker; the parser refuses what Cloudflare would (unknown fields and functions, an operator
the field's type does not take, bad literals and regular expressions, syntax errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FOLDER = REPO / "deploy" / "cloudflare"
sys.path.insert(0, str(FOLDER))

from check_rules import ExprError, check, check_ruleset, parse  # noqa: E402


def test_the_rulesets_pass_the_checker_as_a_command() -> None:
    done = subprocess.run([sys.executable, str(FOLDER / "check_rules.py")], capture_output=True, text=True,
                          timeout=30)  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert check(FOLDER) == []


def test_the_rules_cover_what_the_api_needs() -> None:
    waf = json.loads((FOLDER / "waf_custom_rules.json").read_text())["rules"]
    rl = json.loads((FOLDER / "rate_limit_rules.json").read_text())["rules"]
    assert {r["ref"] for r in waf} >= {"bot_block_scanner_paths", "bot_admin_allowlist", "bot_block_threats"}
    login = next(r for r in rl if r["ref"] == "bot_rl_login")
    assert parse(login["expression"]).fields == {"http.request.uri.path", "http.request.method"}
    assert "/v1/auth/token" in login["expression"]
    admin = next(r for r in waf if r["ref"] == "bot_admin_allowlist")
    assert parse(admin["expression"]).lists == {"bot_admin_ips"}
    # the README names the list the admin rule needs
    assert "bot_admin_ips" in (FOLDER / "README.md").read_text()


@pytest.mark.parametrize(
    ("expr", "fields"),
    [
        ('http.request.uri.path eq "/v1/health"', {"http.request.uri.path"}),
        ('(ip.src in {192.0.2.0/24 2001:db8::/32 198.51.100.7}) and not ssl', {"ip.src", "ssl"}),
        ('cf.threat_score > 10 || http.user_agent ~ "^curl/"', {"cf.threat_score", "http.user_agent"}),
        ('not (http.request.method in {"GET" "HEAD"}) xor cf.client.bot',
         {"http.request.method", "cf.client.bot"}),
        ('lower(http.host) contains "bot" and len(http.request.uri.query) gt 100',
         {"http.host", "http.request.uri.query"}),
        ('http.request.uri.path matches "^/\\\\.(env|git)"', {"http.request.uri.path"}),
        ('ip.src.asnum in {13335 15169} and ip.src.country ne "T1"', {"ip.src.asnum", "ip.src.country"}),
    ],
)  # fmt: skip
def test_expressions_that_parse(expr: str, fields: set[str]) -> None:
    assert parse(expr).fields == fields


@pytest.mark.parametrize(
    ("expr", "says"),
    [
        ('http.request.uri.paht eq "/"', "unknown field 'http.request.uri.paht'"),
        ('cf.threat_scor gt 10', "unknown field"),
        ('ip.src contains "10."', "operator contains does not apply to a ip field"),
        ('http.request.uri.path gt 3', "operator gt does not apply to a string field"),
        ('cf.threat_score eq "high"', "expected an integer"),
        ('ip.src in {"10.0.0.1"}', "expected an IP address"),
        ('ip.src eq 10.0.0.300', "expected an IP address"),
        ('http.request.uri.path matches "(unclosed"', "bad regular expression"),
        ('(http.request.uri.path eq "/"', "ends too early"),
        ('http.request.uri.path eq "/" and', "ends too early"),
        ('http.request.uri.path eq "/" http.host eq "x"', "unexpected"),
        ('http.request.uri.path', "needs a comparison"),
        ('sha256(http.host) eq "x"', "unknown function"),
        ('starts_with(cf.threat_score, "1")', "argument 1 must be a string"),
        ('http.request.method in {}', "empty set"),
        ('http.host in $hosts', "holds IP addresses"),
        ('http.request.uri.path eq "/" @', "unexpected character"),
    ],
)  # fmt: skip
def test_expressions_that_do_not(expr: str, says: str) -> None:
    with pytest.raises(ExprError, match=None) as caught:
        parse(expr)
    assert says in str(caught.value), str(caught.value)


def test_structure_problems_are_named() -> None:
    good = json.loads((FOLDER / "rate_limit_rules.json").read_text())
    bad = json.loads(json.dumps(good))
    bad["rules"][0]["ratelimit"]["period"] = 45
    bad["rules"][0]["ratelimit"]["characteristics"] = ["ip.src"]
    bad["rules"][1]["ref"] = bad["rules"][0]["ref"]
    bad["rules"][2]["action"] = "skip"
    bad["rules"][2]["expresion"] = "x"
    problems = check_ruleset("rate_limit_rules.json", bad)
    assert any("ratelimit.period must be one of" in p for p in problems)
    assert any("must hold cf.colo.id and ip.src" in p for p in problems)
    assert any("rule 2: ref must be a unique" in p for p in problems)
    assert any("rule 3: action 'skip'" in p for p in problems)
    assert any("rule 3: unknown key 'expresion'" in p for p in problems)
    waf = json.loads((FOLDER / "waf_custom_rules.json").read_text())
    waf["rules"][0]["expression"] = 'http.request.uri.pth contains ".php"'
    (problem,) = check_ruleset("waf_custom_rules.json", waf)
    assert problem.startswith(
        "waf_custom_rules.json rule 1 (bot_block_scanner_paths): expression: unknown field"
    )
