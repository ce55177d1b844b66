"""Load the report page in headless Chromium (Debian's ``chromium`` package): the page loads
with no console errors, its key elements are in the DOM after load, and a screenshot is
saved. Run with ``make test-report-browser`` (not part of ``make test``: it needs the
browser, ``apt-get install -y chromium``).

The console check is tested on itself first: a page that logs an error must be caught.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1280,2400",
]
CONSOLE = re.compile(r":(?:INFO|WARNING|ERROR):CONSOLE[^\]]*\] \"(.*?)\", source: (\S+)")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no chromium on PATH: apt-get install -y chromium")


def load(page: Path, extra: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def console_errors(stderr: str) -> list[str]:
    """Console messages that are errors (uncaught exceptions, console.error, failed loads)."""
    found = []
    for line in stderr.splitlines():
        match = CONSOLE.search(line)
        if match and (
            ":ERROR:" in line or "Uncaught" in match.group(1) or "Failed to load" in match.group(1)
        ):
            found.append(f"{match.group(1)} ({match.group(2)})")
        elif "net::ERR_" in line:
            found.append(line.strip())
    return found


def self_test(work: Path) -> None:
    bad = work / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><body><script>console.error('boom'); undefinedCall();</script></body></html>"
    )
    run = load(bad, ["--dump-dom"], work / "profile-self-test")
    assert console_errors(run.stderr), (
        f"the console check missed a page error:\n{run.stderr[-2000:]}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--screenshot", type=Path, default=Path("report_screenshot.png"))
    args = parser.parse_args()
    from sae_interp.report import write_report
    from sae_interp.testing import make_tiny_tokenizer
    from sae_interp.testing.demo_results import write_demo_results

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        self_test(work)
        results = write_demo_results(work)
        page = write_report(
            results, tokenizer=make_tiny_tokenizer(), cache_root=work / "cache" / "latents"
        )
        run = load(page, ["--dump-dom"], work / "profile-dom")
        errors = console_errors(run.stderr)
        assert run.returncode == 0, run.stderr[-2000:]
        assert not errors, f"console errors: {errors}"
        dom = run.stdout
        checks = {
            "headline table first": 0 <= dom.find('class="headline"') < dom.find('class="metrics"'),
            "metrics tables": dom.count('class="metrics"') == 2,
            "plots": dom.count("<img") >= 4,
            "latent cards": dom.count('class="card"') == 10,
            "shaded tokens": 'class="tok" style="background: rgba(230, 110, 0, 1.00)"' in dom,
            "escaped explanation": "&lt;script&gt;alert(1)&lt;/script&gt;" in dom,
        }
        failed = [name for name, ok in checks.items() if not ok]
        assert not failed, f"missing from the loaded page: {failed}"
        shot = load(page, [f"--screenshot={args.screenshot.resolve()}"], work / "profile-shot")
        assert shot.returncode == 0 and args.screenshot.exists(), shot.stderr[-2000:]
    print(f"report page OK in {chromium()}: {', '.join(checks)}; screenshot {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
