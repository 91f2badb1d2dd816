"""The text form of an explanation (planning_pipeline.explain.explain's dict)."""

WIDTH = 100


def short(value, width=WIDTH):
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _where(change):
    return f"{change['file']}:{change['line']}" if change.get("file") else "(no configuration row found)"


def _row(change):
    return ",".join(change.get("row", {}).values())


def _entry_lines(entry):
    yield (f"    from resource {entry['resource']} line {entry['line-number']} (entry {entry['entry-number']}), "
           f"entry-date {entry['entry-date'] or '-'}, priority {entry['priority']}"
           + (f", resource ended {entry['resource-end-date']}" if entry["resource-end-date"] else ""))
    if entry["column"] is not None:
        yield f"      column {entry['column']!r} of the resource held {short(entry['original'])}"
    for change in entry["changes"]:
        kind = change["kind"]
        if kind == "column mapping":
            yield f"      column mapping: {_where(change)}: {_row(change)}"
        elif kind == "patch":
            yield f"      patch: {_where(change)}: {_row(change)}: {short(change['original'])} {change['message']}"
        elif kind == "default":
            yield f"      default: {_where(change)}: {_row(change)}: taken from field {change['from-field']!r}"
        elif kind == "default value":
            yield f"      default value: {_where(change)}: {_row(change)}: {short(change['value'])}"
        elif kind == "resource default":
            yield f"      default: {change['message']}, {short(change['value'])}: {_where(change)}"
    for issue in entry["issues"]:
        if issue["issue-type"] not in ("patch", "default-field", "default-value"):
            yield f"      issue: {issue['issue-type']}: {short(issue['value'])}: {issue['message']}"


def render(result):
    """The explanation as lines of text."""
    record = result["record"]
    out = []
    if result.get("redirected-from"):
        out.append(f"entity {result['redirected-from']} redirects to {result['entity']} (old-entity.csv)")
    out.append(f"{result['dataset']} entity {result['entity']} {short(record.get('name'))} "
               f"(reference {record.get('reference') or '-'}, organisation entity "
               f"{record.get('organisation_entity') or '-'}; collection {result['collection']})")
    lookup = result.get("lookup")
    out.append(f"  lookup: {_where(lookup)}: {_row(lookup)}" if lookup else "  lookup: no lookup.csv row names it")
    for field in result["fields"]:
        competitors = field["competitors"]
        out.append("")
        out.append(f"{field['field']} = {short(field['value'])}"
                   + (f"  ({len(competitors)} competing value{'s' if len(competitors) != 1 else ''})"
                      if competitors else ""))
        for label, fact in [("winner", field["winner"])] + [("competing", c) for c in competitors]:
            out.append(f"  {label}: {short(fact['value'])}")
            for entry in fact["entries"]:
                out.extend(_entry_lines(entry))
    out.append("")
    out.append("resources")
    for resource in result["resources"]:
        out.append(f"  {resource['resource']} ({', '.join(resource['organisations']) or 'no organisation'}), "
                   f"from {resource['start-date'] or '-'}"
                   + (f" to {resource['end-date']}" if resource["end-date"] else ", current"))
        for e in resource["endpoints"]:
            ended = f", ended {e['end-date']}" if e["end-date"] else ""
            out.append(f"    endpoint {e['endpoint']} {e['url']} ({', '.join(e['organisations']) or '-'}{ended})")
            first, last, latest = e["first-fetched"], e["last-fetched"], e["latest"]
            if first:
                out.append(f"      fetched it {e['fetches']} time(s): first {first['entry-date']} "
                           f"(status {first['status']}), last {last['entry-date']} (status {last['status']})")
            if latest and latest is not last and latest != last:
                what = "the same resource" if latest["resource"] == resource["resource"] else (
                    f"resource {latest['resource']}" if latest["resource"] else "no resource")
                out.append(f"      latest attempt {latest['entry-date']}: status {latest['status'] or '-'}, {what}"
                           + (f", {latest['exception']}" if latest["exception"] else ""))
    wide = [(line, i) for line in result["lines"] for i in line["issues"]
            if i["field"] not in {f["field"] for f in result["fields"]}]
    if wide:
        out.append("")
        out.append("other issues on these lines")
        for line, issue in wide:
            out.append(f"  {line['resource']} line {line['line-number']}: {issue['field'] or '-'}: "
                       f"{issue['issue-type']}: {short(issue['value'])}: {issue['message']}")
    return "\n".join(out) + "\n"
