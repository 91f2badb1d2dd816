"""flag values: yes, no or blank."""

_FLAGS = {"": "", "yes": "yes", "y": "yes", "no": "no", "n": "no"}


def normalise_flag(value, issues=None):
    """Lower case; y -> yes, n -> no; anything else is an "invalid flag"."""
    flag = _FLAGS.get(value.strip().lower() if value else "")
    if flag is None:
        if issues is not None:
            issues.log("invalid flag", value, "must be yes, no or blank")
        return ""
    return flag
