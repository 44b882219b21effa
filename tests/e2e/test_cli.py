"""`hotline check-config`: exit 0 for a valid file; exit 1 and `FILE:LINE: KEY: why` for an invalid one."""
import re
import subprocess

from conftest import config_toml, hotline_bin


def run_check(path):
    return subprocess.run([hotline_bin(), "check-config", "--config", str(path)],
                          capture_output=True, text=True, timeout=30)


def test_check_config_valid(ctx):
    good = ctx.dir / "good.toml"
    good.write_text(config_toml(ctx.dir))
    r = run_check(good)
    assert r.returncode == 0, f"check-config of a valid file must exit 0, got {r.returncode}\n{r.stdout}{r.stderr}"


def _bad(ctx, name, text, key):
    lines = text.splitlines()
    lineno = next(i for i, ln in enumerate(lines, 1) if ln.startswith("BAD>"))
    lines[lineno - 1] = lines[lineno - 1][4:]
    bad = ctx.dir / name
    bad.write_text("\n".join(lines) + "\n")
    r = run_check(bad)
    out = r.stdout + r.stderr
    assert r.returncode == 1, f"check-config of {name} must exit 1, got {r.returncode}\n{out}"
    m = re.search(rf"{re.escape(name)}:(\d+): ([^:\s]+): \S", out)
    assert m, f"expected `{name}:LINE: KEY: why` in the output, got:\n{out}"
    assert int(m.group(1)) == lineno, f"wrong line: expected {lineno}, got {m.group(0)!r}\n{out}"
    assert key in m.group(2), f"expected key {key!r} in {m.group(0)!r}"


def test_check_config_wrong_type(ctx):
    text = config_toml(ctx.dir).replace("ring_timeout_secs = 4", 'BAD>ring_timeout_secs = "soon"')
    _bad(ctx, "bad.toml", text, "ring_timeout_secs")


def test_check_config_bad_listen(ctx):
    text = config_toml(ctx.dir).replace('listen = "127.0.0.1:8080"', 'BAD>listen = "not-an-address"')
    _bad(ctx, "bad2.toml", text, "listen")
