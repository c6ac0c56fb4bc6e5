"""Launcher modules shipped into an app's code ConfigMap next to ``app.py``.

They are data for this package (read with importlib.resources), never imported by n2a itself:
each runs in the app's container with the framework installed. Each one imports or runs the
user's ``app.py``, neutralises launch calls that would start a second server or hang, and finds
the app object (the name in ``N2A_APP_OBJECT``, else the last instance of the framework's class).

Warm-up launchers (voila, panel, bokeh, streamlit: frameworks that run the code only per
browser session) share one contract: ``python n2a_<framework>.py SERVER ARGS...`` runs the code
once; if it raises, the traceback goes to stderr (the pod's log) and the process exits 1, so the
startup probe never passes; otherwise it ``exec``s ``SERVER ARGS...``, which becomes the
container's main process. The runtime declares it as ``LaunchSpec.warmup``.
"""
