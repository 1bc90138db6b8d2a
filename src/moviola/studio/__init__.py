"""The studio: a local web app over moviola (``moviola studio``).

Its server (app.py) answers the page and a JSON API; jobs run in worker processes (worker.py)
and persist in SQLite (store.py); paths.py keeps every file inside the media folders.
"""
