"""The web UI: server-rendered pages (``templates/``) whose small scripts (``static/js/``) call
the REST API with the session cookie and its CSRF header (``admin_web.browser_session``)."""
