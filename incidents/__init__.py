"""Incidents: failed Azure Backup jobs that reach Slack before anyone pastes them.

A third way in, beside pastes and clicks. Rooms (each a module or folder here):

* ``intake/``: ``POST /azure/alerts`` (Azure Monitor's Common Alert Schema) and its authentication
  (a URL token, Entra ID secure webhooks);
* ``poller.py``: failed jobs found through Azure Resource Graph, for estates without alert wiring;
* ``state.py``: one incident per protected item and error code, its repeats and its resolution;
* ``render.py`` / ``post.py``: the Slack message of an incident, posted at Slack's pace.

Alerts and polled jobs become :class:`incidents.model.Failure` records; everything downstream
reads those. This package uses the matcher (``knowledge``), the Azure layer (``actions``) and the
state store; Slack posting goes through ``bot``'s client, passed in.
"""
