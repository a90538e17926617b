"""`phiguard serve`: the pipeline over HTTP, with keys that keep re-identification apart.

A thin client of the library, like the CLI: every request goes through `Deidentifier`,
`Config` and the streaming `*_many` functions, so the fail-closed order (a note is returned
only after its mapping is stored) and the audit trail are the library's.

    app      the ASGI app: middleware order, lifespan (model loaded once per worker process)
    routes   /v1/* endpoints, one scope each          schemas  request and response bodies
    engine   the per-process pipeline thread          responses  errors → statuses, PHI-free
    auth     API keys and OIDC tokens → a Principal   apikeys  the hashed key file
    gate     401/403/429, 415, 413 before the body    accesslog  access log, metrics, no bodies
    metrics  Prometheus counters and histograms       review   the /review page
    settings what a worker process needs to build the app; runner starts uvicorn

Importing this package imports no web framework: `phiguard api-key` works without the
`serve` extra installed.
"""
