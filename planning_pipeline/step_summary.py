"""The end-of-run summary of a collection's steps, from the log bin/step appends to (one line per step:
name, target, seconds, exit status, the step's last line of output)."""
import re

ISSUES = re.compile(r"issues: ((?:\d+ [a-z-]+(?:, )?)+)")
COUNT = re.compile(r"(\d+) ([a-z-]+)")
# the steps a reader looks for first, in pipeline order; the others follow in the order they ran
ORDER = ("collect-endpoint", "index", "plan", "config-stamps", "transform", "assemble", "gate", "bake",
         "expectations", "build-tiles", "publish-datasette", "load-postgis")


def read_steps(path):
    steps = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", 4)
                if len(parts) == 5:
                    name, target, seconds, status, last = parts
                    steps.append((name, target, float(seconds or 0), int(status or 0), last))
    except FileNotFoundError:
        pass
    return steps


def summarise(steps, label, elapsed=None):
    """One line: the steps run per name (with their time), the issues transforms logged, failures."""
    if not steps:
        return f"{label}: nothing to do" + (f" ({elapsed:.1f} s)" if elapsed is not None else "")
    names, totals = {}, {}
    for name, _, seconds, _, _ in steps:
        names[name] = names.get(name, 0) + 1
        totals[name] = totals.get(name, 0.0) + seconds
    ranked = sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), list(names).index(n)))
    parts = [f"{names[n]} {n} ({totals[n]:.1f} s)" for n in ranked]
    issues = {}
    for name, _, _, _, last in steps:
        match = ISSUES.search(last) if name == "transform" else None
        for number, severity in COUNT.findall(match.group(1) if match else ""):
            issues[severity] = issues.get(severity, 0) + int(number)
    failed = [f"{name} {target}" for name, target, _, status, _ in steps if status]
    text = f"{label}: " + ", ".join(parts)
    if issues:
        text += "; issues logged: " + ", ".join(f"{n} {s}" for s, n in sorted(issues.items()))
    if failed:
        text += f"; {len(failed)} failed: " + ", ".join(failed[:5]) + (" ..." if len(failed) > 5 else "")
    if elapsed is not None:
        text += f"; {elapsed:.1f} s in all"
    return text
