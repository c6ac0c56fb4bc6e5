"""Launcher modules shipped into an app's code ConfigMap next to ``app.py``.

They are data for this package (read with importlib.resources), never imported by n2a itself:
each runs in the app's container with the framework installed. Each one imports or runs the
user's ``app.py``, neutralises launch calls that would start a second server or hang, and finds
the app object (the name in ``N2A_APP_OBJECT``, else the last instance of the framework's class).
"""
