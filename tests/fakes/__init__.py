"""Local stand-ins for Slack used by the acceptance tests and the benchmark.

* ``slack_api``: a fake Slack Web API (and response_url endpoint) recording every call;
* ``socket_server``: a local Socket Mode websocket server pushing envelopes;
* ``signing``: request bodies signed the way Slack signs them;
* ``botproc``: the real ``backup-fix serve`` as a subprocess.
"""
