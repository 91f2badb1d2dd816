"""Collect: download each live endpoint, keep every distinct file once (content-addressed), log every attempt.

Modules:
  endpoint   endpoint.csv rows: lookup, hash check, live dates (not_live() is the rule plans must share)
  options    fetch settings (timeouts, deadline, retries, size limit, user agent)
  faults     FetchError and the short reasons logged as "exception"
  transport  HTTP(S) GETs: timeouts, redirects, proxies, retries
  deadline   the overall deadline of one download, enforced while a read is blocked
  response   a response body as a stream: decoding (bombs refused before writing), short-body detection
  store      streaming a body into resource/<sha256> through bounded byte filters
  plain      a plain GET of an http(s) or file: URL
  plugins    arcgis and wfs paging downloaders
  fetch      collect_endpoint(): one endpoint, one day, one log
  log        the per-day log JSON
  report     the line bin/collect-endpoint prints
  summary    a day's logs summarised
"""
